"""Serve the four simulators on loopback ports, seeded from one dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette

from sandbox.retailer import Dataset


@dataclass(frozen=True)
class SimulatorPorts:
    erp: int = 8101
    woocommerce: int = 8102
    square: int = 8103
    oms: int = 8104


def simulator_apps(
    dataset: Dataset, *, latency_ms: float = 0.0, error_rate: float = 0.0
) -> dict[str, Starlette]:
    """The four simulator ASGI apps keyed by backend name."""
    from sandbox import erpnext, shopify, square, woocommerce

    return {
        "erp": erpnext.create_app(dataset, latency_ms=latency_ms, error_rate=error_rate),
        # The retailer offers click and collect, so its shop has local pickup on.
        "woocommerce": woocommerce.create_app(
            dataset, latency_ms=latency_ms, error_rate=error_rate, local_pickup=True
        ),
        "square": square.create_app(dataset, latency_ms=latency_ms, error_rate=error_rate),
        "oms": shopify.create_app(dataset, latency_ms=latency_ms, error_rate=error_rate),
    }


async def serve_simulators(
    dataset: Dataset,
    ports: SimulatorPorts,
    *,
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    host: str = "127.0.0.1",
) -> None:
    """Serve the four simulators until cancelled."""
    import asyncio

    from sandbox.faulty_server import simulator_server

    apps = simulator_apps(dataset, latency_ms=latency_ms, error_rate=error_rate)
    servers = [
        simulator_server(app, host=host, port=port)
        for app, port in (
            (apps["erp"], ports.erp),
            (apps["woocommerce"], ports.woocommerce),
            (apps["square"], ports.square),
            (apps["oms"], ports.oms),
        )
    ]
    await asyncio.gather(*(s.serve() for s in servers))


async def run_simulators(
    *,
    host: str,
    ports: SimulatorPorts,
    seed: int,
    skus: int,
    stores: int,
    latency_ms: float = 0.0,
    nodes_file: Path | None = None,
) -> None:
    """``commerce-gateway simulators``: the sample retailer on the four simulators until
    stopped, and (``nodes_file``) the gateway's node file for it, written before the first
    request can be answered so a gateway waiting on the simulators' health finds it."""
    import json
    import os
    from datetime import UTC, datetime

    from sandbox.sample_data import generate

    # Figures stamped now, as the demo's: a long-running sandbox is never stale at start.
    dataset = generate(seed=seed, skus=skus, stores=stores, base_time=datetime.now(UTC))
    if nodes_file is not None:
        # Written aside and renamed: a gateway starting meanwhile reads all of it or none.
        partial = nodes_file.with_name(nodes_file.name + ".partial")
        partial.write_text(json.dumps(dataset.nodes_config(), indent=2))
        os.replace(partial, nodes_file)
    print(
        f"simulators of {skus} SKUs and {stores} stores (seed {seed}) on {host}: "
        f"ERPNext :{ports.erp}, WooCommerce :{ports.woocommerce}, Square :{ports.square}, "
        f"Shopify :{ports.oms}" + (f"; node file {nodes_file}" if nodes_file else ""),
        flush=True,
    )
    await serve_simulators(dataset, ports, latency_ms=latency_ms, host=host)


def main(argv: list[str] | None = None) -> None:
    """``python -m sandbox.servers``: the simulators alone, for benchmarks and manual tests."""
    import argparse
    import asyncio
    from datetime import UTC, datetime

    from sandbox.sample_data import generate

    parser = argparse.ArgumentParser(prog="python -m sandbox.servers")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--stores", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--ports", default="8101,8102,8103,8104", help="erp,woocommerce,square,oms")
    args = parser.parse_args(argv)
    ports = [int(p) for p in args.ports.split(",")]
    if len(ports) not in (3, 4):
        # Three still works (the OMS keeps its default port) for scripts written before it.
        parser.error("--ports takes erp,woocommerce,square[,oms]")
    dataset = generate(
        seed=args.seed, skus=args.skus, stores=args.stores, base_time=datetime.now(UTC)
    )
    asyncio.run(
        serve_simulators(
            dataset,
            SimulatorPorts(*ports),
            latency_ms=args.latency_ms,
            error_rate=args.error_rate,
        )
    )


if __name__ == "__main__":
    main()
