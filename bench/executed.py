"""The executed path (issue 15): what the gateway costs when no whole answer is cached.

One run, over the four simulators (the 50,000-SKU x 200-store sample retailer) with every
source figure already in the gateway's data cache, and the response micro-cache off, so
every request is parsed, checked and executed:

1. for each database (the embedded SQLite file, then PostgreSQL), one gateway process
   (uvicorn, background workers off) answering, one operation at a time:
     product page   one SKU: names, prices, pickup stores within 50 km with their stock
     cart           five SKUs' availability at every node
     promise        the checkout's dry run (fulfillmentPlan) for a two-line order
   each printed with req/s, p50 / p99 / p99.9 / max latency, the share over 300 ms and the
   gateway's CPU per request (its process's user + system time over the requests);
2. a bare Starlette endpoint returning the product page's bytes, served the same way;
3. the hot product page as configured by default (micro-cache on) next to it, the two
   driven in turn twice (ABAB), each row the sum of its two runs.

Targets: executed product page p99 <= 5x p50 on both databases and <= 1.2 ms of gateway CPU
per request; the default configuration >= 0.9x bare.

    .venv/bin/python bench/executed.py [--seconds 8 --concurrency 16 --databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    KeepAliveConnection,
    backend_urls,
    bench_identity,
    cpu_seconds,
    free_port,
    percentile,
    process,
    uvicorn_args,
)
from bench.product_page import PRODUCT_PAGE
from bench.profile import Profile, sampled
from bench.reservations import create_database, drop_database
from sandbox.sample_data import generate

BERLIN = {"lat": 52.52, "lng": 13.405}
CART = """query Cart($skus: [String!]!) {
  availability(skus: $skus) {
    sku totalAvailable
    locations { location { id type } availableToPromise status }
  }
}"""
PROMISE = """query Promise($input: FulfillmentPlanInput!) {
  fulfillmentPlan(input: $input) {
    strategy complete promisedDate
    shipments { locationId service arrivalDate lines { sku quantity } }
    unfulfillable { sku quantity reason }
    cost { total { minorUnits currency } }
  }
}"""


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    latencies: list[float]  # seconds
    errors: int
    cpu_seconds: float | None  # the server's, over the measured requests

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def over_300ms(self) -> float:
        return sum(1 for x in self.latencies if x > 0.3) / max(1, len(self.latencies))

    @property
    def cpu_ms(self) -> float:
        return float("nan") if self.cpu_seconds is None else self.cpu_seconds * 1000 / self.requests


async def drive(
    url: str,
    bodies: list[bytes],
    headers: dict[str, str],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    pid: int | None,
) -> Run:
    """Closed-loop load over keep-alive connections (cheap for the shared machine), each
    client cycling through ``bodies``; the server's CPU is read before and after."""
    connections = [KeepAliveConnection(url, headers) for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0

    async def client(index: int, until: float, record: bool) -> None:
        nonlocal errors
        connection, turn = connections[index], index
        while time.perf_counter() < until:
            body = bodies[turn % len(bodies)]
            turn += 1
            start = time.perf_counter()
            answer = await connection.post(body)
            if record:
                latencies.append(time.perf_counter() - start)
                errors += b'"errors"' in answer or not answer.startswith(b"{")

    try:
        now = time.perf_counter()
        await asyncio.gather(*(client(i, now + warmup, False) for i in range(concurrency)))
        cpu_before = None if pid is None else cpu_seconds(pid)
        start = time.perf_counter()
        await asyncio.gather(*(client(i, start + seconds, True) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
        cpu = None if pid is None or cpu_before is None else cpu_seconds(pid) - cpu_before
    finally:
        for connection in connections:
            connection.close()
    return Run(len(latencies), elapsed, latencies, errors, cpu)


def combined(runs: list[Run]) -> Run:
    """Several runs of one server as one."""
    cpu = [r.cpu_seconds for r in runs]
    return Run(
        sum(r.requests for r in runs),
        sum(r.seconds for r in runs),
        [x for r in runs for x in r.latencies],
        sum(r.errors for r in runs),
        None if None in cpu else sum(c for c in cpu if c is not None),
    )


async def warm(url: str, bodies: list[bytes], headers: dict[str, str]) -> bytes:
    """Ask each body until it is answered whole: the first asks fill the data cache (a cold
    read of the 50,000-item catalogue can outlast the request deadline)."""
    connection = KeepAliveConnection(url, headers)
    try:
        for body in bodies:
            for _ in range(10):
                answer = await connection.post(body)
                if b'"errors"' not in answer:
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError(answer[answer.find(b'"errors"') :][:600])
        return answer
    finally:
        connection.close()


def body(query: str, **variables: object) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


@contextmanager
def gateway(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    with process(
        uvicorn_args("gateway.app:create_app", port, factory=True), env=env, ports=[port]
    ) as proc:
        yield f"http://127.0.0.1:{port}/graphql", proc.pid


def row(name: str, run: Run, bare: Run | None = None) -> str:
    ratio = f"{run.rps / bare.rps:>7.3f}" if bare is not None else f"{'':>7}"
    return (
        f"   {name:34}{run.rps:>7.0f}{run.ms(0.5):>8.1f}{run.ms(0.99):>8.1f}{run.ms(0.999):>8.1f}"
        f"{max(run.latencies) * 1000:>8.0f}{run.over_300ms * 100:>7.2f}%{run.cpu_ms:>8.2f}"
        f"{run.errors:>7}{ratio}"
    )


HEADER = (
    f"   {'':34}{'req/s':>7}{'p50':>8}{'p99':>8}{'p99.9':>8}{'max':>8}{'>300ms':>8}"
    f"{'CPU ms':>8}{'errors':>7}{'x bare':>7}"
)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--operations", default="product page,cart,promise")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after each row, sample the gateway with py-spy for as long and print where its CPU went",
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    dataset = generate(skus=args.skus, stores=args.stores)
    workdir = Path(tempfile.mkdtemp(prefix="bench-executed-"))
    nodes = workdir / "nodes.json"
    nodes.write_text(json.dumps(dataset.nodes_config()))
    auth_env, headers = bench_identity(workdir)
    sim_ports = [free_port() for _ in range(4)]
    cart_skus = dataset.stock_skus[:5]
    operations = {
        "product page": [body(PRODUCT_PAGE, sku="SHOE-TRAIL-42")],
        "cart": [body(CART, skus=cart_skus)],
        "promise": [
            body(
                PROMISE,
                input={
                    "lines": [{"sku": s, "quantity": 1} for s in cart_skus[:2]],
                    "destination": BERLIN,
                },
            )
        ],
    }
    chosen = [name.strip() for name in args.operations.split(",")]
    # The three documents as persisted operations: a gateway compiles them at start.
    manifest = workdir / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": name, "name": name, "type": "query", "body": document}
                    for name, document in (
                        ("ProductPage", PRODUCT_PAGE),
                        ("Cart", CART),
                        ("Promise", PROMISE),
                    )
                ],
            }
        )
    )
    env = {
        **auth_env,
        **backend_urls(sim_ports),
        "NODES_FILE": str(nodes),
        "GRAPHIQL": "false",
        "RUN_WORKERS": "false",
        "WEB_ORDER_SYNC_SECONDS": "0",
        "REDIS_URL": "",
        "RESPONSE_CACHE_SECONDS": "0",
        "PERSISTED__MANIFEST": str(manifest),
        **{
            f"CACHE_TTL_{k}_SECONDS": "3600"
            for k in ("ITEM", "WEB_LISTING", "POS_CATALOG", "STOCK", "LOCATIONS", "KITS")
        },
    }
    print(
        f"Sample retailer: {len(dataset.sellable_skus)} SKUs, {len(dataset.stores)} stores; "
        f"{args.concurrency} closed-loop clients, {args.seconds:g} s per row "
        f"(python {sys.version.split()[0]})"
    )
    sims = ["-m", "sandbox.servers", "--skus", str(args.skus), "--stores", str(args.stores)]
    # Every row's load: the same clients, for as long, after the same warm-up.
    shape = {"concurrency": args.concurrency, "seconds": args.seconds, "warmup": args.warmup}
    results: dict[tuple[str, str, str], Run] = {}
    profiles: dict[tuple[str, str, str], Profile] = {}
    with process([*sims, "--ports", ",".join(map(str, sim_ports))], ports=sim_ports):
        runs = [
            (database, path)
            for database in [d.strip() for d in args.databases.split(",") if d.strip()]
            for path in ("compiled", "strawberry")
        ]
        for database, path in runs:
            pg_name = None
            if database == "sqlite":
                url = f"sqlite+aiosqlite:///{workdir}/gateway.db"
            else:
                pg_name, pg_url = await create_database(args.admin_url)
                url = pg_url.replace("postgresql://", "postgresql+asyncpg://")
            try:
                compile_mode = "persisted" if path == "compiled" else "off"
                run_env = {**env, "DATABASE_URL": url, "PERSISTED__COMPILE": compile_mode}
                with gateway(run_env) as (gw_url, pid):
                    for name in chosen:
                        bodies = operations[name]
                        await warm(gw_url, bodies, headers)
                        load = {**shape, "pid": pid}
                        results[(database, path, name)] = await drive(
                            gw_url, bodies, headers, **load
                        )
                        if args.profile:  # a run of its own: the figures above are unsampled
                            out = workdir / f"{database}-{path}-{name.replace(' ', '-')}.txt"
                            with sampled(pid, out) as profile:
                                await drive(gw_url, bodies, headers, **load)
                            profiles[(database, path, name)] = profile
            finally:
                if pg_name is not None:
                    await drop_database(args.admin_url, pg_name)
        # The default configuration (the response micro-cache on) next to bare Starlette
        # serving its bytes: both up at once, driven in turn twice (ABAB), so a drift in
        # the shared machine's load falls on both.
        with gateway(
            {**env, "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/gateway.db"}
            | {"RESPONSE_CACHE_SECONDS": "1"}
        ) as (gw_url, pid):
            page = operations["product page"]
            payload = await warm(gw_url, page, headers)
            (workdir / "payload.json").write_bytes(payload)
            bare_port = free_port()
            with process(
                uvicorn_args("bench.bare_app:app", bare_port),
                env={"BARE_PAYLOAD_FILE": str(workdir / "payload.json")},
                ports=[bare_port],
            ) as bare_proc:
                bare_url = f"http://127.0.0.1:{bare_port}/graphql"
                micro_runs, bare_runs = [], []
                for _ in range(2):
                    micro_runs.append(await drive(gw_url, page, headers, **shape, pid=pid))
                    bare_runs.append(
                        await drive(bare_url, page, headers, **shape, pid=bare_proc.pid)
                    )
                micro, bare = combined(micro_runs), combined(bare_runs)
                if args.profile:
                    out = workdir / "default-config-product-page.txt"
                    with sampled(pid, out) as profile:
                        await drive(gw_url, page, headers, **shape, pid=pid)
                    profiles[("default config", "micro-cache", "product page")] = profile

    print("\nEvery request executed (response micro-cache off), latencies in ms")
    print(HEADER)
    for (database, path, name), run in results.items():
        label = f"{database}, {path}: {name}"
        print(row(label, run, bare if name == "product page" else None))
    print(row("bare Starlette (page's bytes)", bare, bare))
    print(row("default config (micro-cache on)", micro, bare))
    for (database, path, name), profile in profiles.items():
        print(f"\nWhere the gateway's CPU went: {database}, {path}, {name}")
        print("\n".join(profile.lines()))
    print("\nCompiled next to strawberry (CPU per request, ratio)")
    for (database, path, name), run in results.items():
        other = results.get((database, "strawberry", name))
        if path == "compiled" and other is not None:
            print(
                f"   {database}: {name:14} {run.cpu_ms:6.2f} ms vs {other.cpu_ms:6.2f} ms: "
                f"{other.cpu_ms / run.cpu_ms:.2f}x less CPU, {run.rps / other.rps:.2f}x req/s"
            )
    print("\nTargets (the executed product page as configured by default: compiled)")
    for database in dict.fromkeys(d for d, _, _ in results):
        measured = results.get((database, "compiled", "product page"))
        if measured is None:
            continue
        tail = measured.ms(0.99) / measured.ms(0.5)
        print(
            f"   {database}: product page p99/p50 {tail:.2f} (<= 5): "
            f"{'MET' if tail <= 5 else 'NOT MET'}; CPU {measured.cpu_ms:.2f} ms/request (<= 1.2): "
            f"{'MET' if measured.cpu_ms <= 1.2 else 'NOT MET'}; "
            f"{measured.rps / bare.rps:.3f}x bare req/s, {bare.cpu_ms / measured.cpu_ms:.3f}x bare CPU"
        )
    ratio = micro.rps / bare.rps
    print(f"   default config {ratio:.3f}x bare (>= 0.9): {'MET' if ratio >= 0.9 else 'NOT MET'}")


if __name__ == "__main__":
    import uvloop  # the load generator's own event loop costs less CPU on the shared machine

    uvloop.run(main())
