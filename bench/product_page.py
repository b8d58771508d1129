"""Product-page benchmark (issue #2), on the 50,000-SKU x 200-location sample retailer.

1. Throughput: the cached product-page query (one SKU, stores near a point) against a bare
   Starlette endpoint returning the same JSON, both served by uvicorn the same way.
   Target: gateway >= 0.15x the bare endpoint's requests/s.
2. Fan-out: p50 latency of a product query that touches all three backends, each simulator
   adding 20 ms, next to the slowest backend called alone. Target: <= 1.3x.

    .venv/bin/python bench/product_page.py [--skus 50000 --stores 200 --seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    ROOT,
    LoadResult,
    bench_identity,
    drive,
    free_port,
    median,
    percentile,
    process,
    uvicorn_args,
)
from sandbox.sample_data import generate

# (environment for the gateway process, headers for every request to its /graphql)
Auth = tuple[dict[str, str], dict[str, str]]

PRODUCT_PAGE = """query ProductPage($sku: String!) {
  product(sku: $sku) {
    sku name
    webPrice { amount currency }
    storePrice { amount currency }
    availability(near: {lat: 52.52, lng: 13.405, radiusKm: 50}, channel: PICKUP) {
      totalAvailable
      locations { location { id name } distanceKm availableToPromise status asOf }
    }
  }
}"""

FAN_OUT = """query FanOut($sku: String!) {
  product(sku: $sku) {
    sku name webPrice { amount } storePrice { amount }
    webListing { stockQuantity }
    availability { totalAvailable }
  }
}"""


def gateway_env(sim_ports: list[int], nodes_file: Path, **ttls: int) -> dict[str, str]:
    env = {
        "ERP_BASE_URL": f"http://127.0.0.1:{sim_ports[0]}",
        "WOO_BASE_URL": f"http://127.0.0.1:{sim_ports[1]}",
        "SQUARE_BASE_URL": f"http://127.0.0.1:{sim_ports[2]}",
        "NODES_FILE": str(nodes_file),
        "GRAPHIQL": "false",
    }
    env.update({f"CACHE_TTL_{k.upper()}_SECONDS": str(v) for k, v in ttls.items()})
    return env


def simulators(args: argparse.Namespace, ports: list[int], latency_ms: float):
    return process(
        [
            "-m",
            "sandbox.servers",
            "--skus",
            str(args.skus),
            "--stores",
            str(args.stores),
            "--latency-ms",
            str(latency_ms),
            "--ports",
            ",".join(map(str, ports)),
        ],
        ports=ports,
    )


async def post(session, url: str, query: str, **variables) -> tuple[float, dict]:
    start = time.perf_counter()
    async with session.post(url, json={"query": query, "variables": variables}) as response:
        body = await response.json()
    return (time.perf_counter() - start) * 1000, body


async def serve_gateway_and_drive(
    args, sim_ports, nodes_file, body, auth: Auth, **extra_env
) -> LoadResult:
    auth_env, auth_headers = auth
    gw_port = free_port()
    long = {k: 3600 for k in ("item", "web_listing", "pos_catalog", "stock", "locations", "kits")}
    env = {**gateway_env(sim_ports, nodes_file, **long), **auth_env, **extra_env}
    with process(
        uvicorn_args("gateway.app:create_app", gw_port, factory=True), env=env, ports=[gw_port]
    ):
        url = f"http://127.0.0.1:{gw_port}/graphql"
        return await drive(
            "POST",
            url,
            body,
            concurrency=args.concurrency,
            seconds=args.seconds,
            headers=auth_headers,
        )


async def throughput(args, nodes_file: Path, workdir: Path, auth: Auth) -> None:
    import aiohttp

    auth_env, auth_headers = auth
    sim_ports = [free_port() for _ in range(3)]
    bare_port = free_port()
    body = json.dumps({"query": PRODUCT_PAGE, "variables": {"sku": "SHOE-TRAIL-42"}}).encode()
    with simulators(args, sim_ports, 0):
        # One answer, to learn its size and give the baseline the very same bytes.
        gw_port = free_port()
        with process(
            uvicorn_args("gateway.app:create_app", gw_port, factory=True),
            env={**gateway_env(sim_ports, nodes_file), **auth_env},
            ports=[gw_port],
        ):
            async with aiohttp.ClientSession(headers=auth_headers) as session:
                _, answer = await post(
                    session,
                    f"http://127.0.0.1:{gw_port}/graphql",
                    PRODUCT_PAGE,
                    sku="SHOE-TRAIL-42",
                )
        assert "errors" not in answer, answer
        rows = answer["data"]["product"]["availability"]["locations"]
        payload_file = workdir / "payload.json"
        payload_file.write_text(json.dumps(answer))
        micro = await serve_gateway_and_drive(args, sim_ports, nodes_file, body, auth)
        executed = await serve_gateway_and_drive(
            args, sim_ports, nodes_file, body, auth, RESPONSE_CACHE_SECONDS="0"
        )
    with process(
        uvicorn_args("bench.bare_app:app", bare_port),
        env={"BARE_PAYLOAD_FILE": str(payload_file)},
        ports=[bare_port],
    ):
        bare = await drive(
            "POST",
            f"http://127.0.0.1:{bare_port}/graphql",
            body,
            concurrency=args.concurrency,
            seconds=args.seconds,
            headers=auth_headers,  # the very requests the gateway was sent
        )
    print(
        f"\n1. Cached product page (SHOE-TRAIL-42, {len(rows)} pickup stores within 50 km), "
        f"{args.concurrency} concurrent clients, {args.seconds:g}s each"
    )
    print(f"   {'':44}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'ratio':>8}")
    for name, r in (
        ("gateway, data + 1 s response micro-cache", micro),
        ("gateway, data cache only (every query run)", executed),
        ("bare Starlette JSON (same bytes)", bare),
    ):
        print(
            f"   {name:44}{r.rps:>8.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}{r.rps / bare.rps:>8.3f}"
        )
    ratio = micro.rps / bare.rps
    print(
        f"   target: gateway (as configured by default) >= 0.15x bare: {'MET' if ratio >= 0.15 else 'NOT MET'} ({ratio:.3f})"
    )


async def fan_out(args, nodes_file: Path, dataset, auth: Auth) -> None:
    import aiohttp

    from adapters.erpnext import ErpNextAdapter, build_erpnext_client
    from adapters.square import SquareAdapter, build_square_client
    from adapters.woocommerce import WooCommerceAdapter, build_woocommerce_client
    from gateway.config import Settings

    auth_env, auth_headers = auth
    sim_ports = [free_port() for _ in range(3)]
    gw_port = free_port()
    rng = random.Random(7)
    skus = rng.sample(dataset.stock_skus, args.samples * 2)
    cold_skus, steady_skus = skus[: args.samples], skus[args.samples :]
    ttls = {
        "item": 3600,
        "pos_catalog": 3600,
        "locations": 3600,
        "kits": 3600,
        "web_listing": 1,
        "stock": 1,
    }
    url = f"http://127.0.0.1:{gw_port}/graphql"
    with (
        simulators(args, sim_ports, 20),
        process(
            uvicorn_args("gateway.app:create_app", gw_port, factory=True),
            env={**gateway_env(sim_ports, nodes_file, **ttls), **auth_env},
            ports=[gw_port],
        ),
    ):
        settings = Settings(
            _env_file=None, **{k.lower(): v for k, v in gateway_env(sim_ports, nodes_file).items()}
        )
        erp_client, woo_client, sq_client = (
            build_erpnext_client(settings),
            build_woocommerce_client(settings),
            build_square_client(settings),
        )
        erp, woo, square = (
            ErpNextAdapter(erp_client),
            WooCommerceAdapter(woo_client),
            SquareAdapter(sq_client),
        )
        # The slowest backend alone: the very calls the gateway makes for one product, each
        # timed on its own (Square's SKU->variation lookup warmed first, as in the gateway).
        alone: dict[str, list[float]] = {
            "ERPNext Bins": [],
            "WooCommerce products": [],
            "Square counts": [],
        }
        await square.variations_by_sku(skus[: args.samples])
        for sku in skus[: args.samples]:
            for name, call in (
                ("ERPNext Bins", lambda s=sku: erp.stock([s])),
                ("WooCommerce products", lambda s=sku: woo.listings_by_sku([s])),
                ("Square counts", lambda s=sku: square.stock([s])),
            ):
                start = time.perf_counter()
                await call()
                alone[name].append((time.perf_counter() - start) * 1000)
        for client in (erp_client, woo_client, sq_client):
            await client.aclose()

        async with aiohttp.ClientSession(headers=auth_headers) as session:
            await post(session, url, FAN_OUT, sku="SOCK-MER-CREW-M")  # opens the gateway's pools
            cold = []
            for sku in cold_skus:
                ms, body = await post(session, url, FAN_OUT, sku=sku)
                assert "errors" not in body, body
                cold.append(ms)
            for sku in steady_skus:  # reference data (items, catalog, kits, nodes) now cached
                await post(session, url, FAN_OUT, sku=sku)
            await asyncio.sleep(1.5)  # stock and web listings (TTL 1 s) have expired
            steady = []
            for sku in steady_skus:
                ms, body = await post(session, url, FAN_OUT, sku=sku)
                assert "errors" not in body, body
                steady.append(ms)
    slowest_name, slowest = max(((n, median(v)) for n, v in alone.items()), key=lambda p: p[1])
    print(
        f"\n2. Fan-out, every simulator adding 20 ms; {args.samples} distinct SKUs per row, one at a time"
    )
    for name, values in alone.items():
        print(f"   {name + ' alone':38} p50 {median(values):7.1f} ms")
    print(
        f"   {'gateway, volatile data expired':38} p50 {median(steady):7.1f} ms   p99 {percentile(steady, 0.99):7.1f} ms"
        f"   ratio {median(steady) / slowest:.2f}x slowest ({slowest_name})"
    )
    print(
        f"   {'gateway, nothing cached (first sight)':38} p50 {median(cold):7.1f} ms   p99 {percentile(cold, 0.99):7.1f} ms"
        f"   ratio {median(cold) / slowest:.2f}x"
    )
    ratio = median(steady) / slowest
    print(
        f"   target <= 1.3x (volatile data expired, reference data cached): {'MET' if ratio <= 1.3 else 'NOT MET'}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--only", choices=("throughput", "fan-out"))
    args = parser.parse_args()
    dataset = generate(skus=args.skus, stores=args.stores)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    nodes_file = workdir / "nodes.json"
    nodes_file.write_text(json.dumps(dataset.nodes_config()))
    auth = bench_identity(workdir)  # the gateway's env, and every request's credentials
    print(
        f"Sample retailer: {len(dataset.sellable_skus)} SKUs, {len(dataset.stores)} stores, "
        f"{len(dataset.leaf_warehouses)} warehouses (python {sys.version.split()[0]}, root {ROOT})"
    )
    if args.only in (None, "throughput"):
        await throughput(args, nodes_file, workdir, auth)
    if args.only in (None, "fan-out"):
        await fan_out(args, nodes_file, dataset, auth)


if __name__ == "__main__":
    asyncio.run(main())
