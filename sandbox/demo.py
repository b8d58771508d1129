"""``commerce-gateway demo``: simulators + gateway + sample data on one machine.

Everything runs in one process on loopback ports with the embedded defaults (in-process
cache; SQLite where a database is needed), so the demo needs nothing installed but Python.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import httpx
import uvicorn

from gateway.app import create_app
from gateway.config import Settings
from sandbox.sample_data import generate
from sandbox.servers import SimulatorPorts, simulator_apps

EXAMPLE_QUERY = """\
query StoresNearMe {
  product(sku: "SHOE-TRAIL-42") {
    name
    webPrice { amount currency }
    availability(near: {lat: 52.52, lng: 13.405, radiusKm: 25}, channel: PICKUP) {
      totalAvailable
      locations {
        location { name address }
        distanceKm
        availableToPromise
        status
        source
        asOf
      }
    }
  }
}"""


def demo_settings(host: str, port: int, ports: SimulatorPorts, nodes_file: Path) -> Settings:
    return Settings(
        _env_file=None,
        host=host,
        port=port,
        erp_base_url=f"http://127.0.0.1:{ports.erp}",
        woo_base_url=f"http://127.0.0.1:{ports.woocommerce}",
        square_base_url=f"http://127.0.0.1:{ports.square}",
        nodes_file=nodes_file,
        redis_url=None,
    )


def _server(app: object, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


async def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    ports: SimulatorPorts | None = None,
    seed: int = 42,
    skus: int = 500,
    stores: int = 12,
    latency_ms: float = 0.0,
    check: bool = False,
) -> int:
    ports = ports or SimulatorPorts()
    dataset = generate(seed=seed, skus=skus, stores=stores)
    workdir = Path(tempfile.mkdtemp(prefix="commerce-gateway-demo-"))
    nodes_file = workdir / "nodes.json"
    nodes_file.write_text(json.dumps(dataset.nodes_config(), indent=2))
    settings = demo_settings(host, port, ports, nodes_file)
    apps = simulator_apps(dataset, latency_ms=latency_ms)
    servers = [
        _server(apps["erp"], "127.0.0.1", ports.erp),
        _server(apps["woocommerce"], "127.0.0.1", ports.woocommerce),
        _server(apps["square"], "127.0.0.1", ports.square),
        _server(create_app(settings), host, port),
    ]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    try:
        while not all(s.started for s in servers):
            if any(t.done() for t in tasks):
                for t in tasks:
                    if t.done() and t.exception():
                        raise t.exception()  # type: ignore[misc]
                raise SystemExit("demo: a server failed to start (is a port in use?)")
            await asyncio.sleep(0.05)
        url = f"http://{host}:{port}/graphql"
        print(
            f"Sample retailer: {len(dataset.sellable_skus)} SKUs, {len(dataset.stores)} stores, "
            f"{len(dataset.leaf_warehouses)} warehouses; the web stock of "
            f"{len(dataset.drift_skus)} SKUs drifts from the ERP."
        )
        print(
            f"Simulators: ERPNext :{ports.erp}  WooCommerce :{ports.woocommerce}  "
            f"Square :{ports.square}"
        )
        print(f"\nGraphiQL: {url}\n\nTry this query:\n\n{EXAMPLE_QUERY}\n")
        answer = await _ask(url, EXAMPLE_QUERY)
        print("It answers:\n" + json.dumps(answer, indent=2)[:2000])
        if check:
            ok = "errors" not in answer and answer["data"]["product"]["availability"]["locations"]
            return 0 if ok else 1
        print("\nCtrl-C to stop.")
        await asyncio.gather(*tasks)
        return 0
    finally:
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def _ask(url: str, query: str) -> dict:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(url, json={"query": query})
        return response.json()
