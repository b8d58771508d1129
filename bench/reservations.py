"""Reservation throughput through the GraphQL endpoint on PostgreSQL, next to pgbench.

One run measures, on the same server:

1. pgbench's TPS for a single-row UPDATE transaction (bench/pgbench_baseline.py): the least
   work a hold needs (one row lock, one write, one commit);
2. ``reserve`` mutations per second through the gateway: ``--gateways`` uvicorn processes,
   ``--clients`` closed-loop clients spread evenly over them, each holding 1 unit of a random
   (SKU, node) position that had stock when the run began. Stock readings come from the
   simulators through the gateway's cache, as in production; the holds, guards, ledger and
   idempotency records are PostgreSQL's;
3. the oversold count: for every position, units held beyond what the source says exists.
   It must be 0.

pgbench runs once before the gateway and once after it, and the ratio is taken against the
mean of the two: this shared machine's speed drifts within a minute, and a baseline measured
only before would credit or charge the gateway with the drift.

Printed: both rates, their ratio (target >= 0.25), latency percentiles, refusals, oversold,
and the CPU each part of the run used per request.

    .venv/bin/python bench/reservations.py [--clients 32 --gateways 2 --seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    KeepAliveConnection,
    backend_urls,
    bench_identity,
    cpu_seconds,
    free_port,
    percentile,
    process,
)
from bench.pgbench_baseline import PgServer, pgbench_single_row_update_tps
from bench.profile import Profile, sampled
from sandbox.sample_data import generate

RESERVE = (
    "mutation($input: ReserveInput!, $key: String!) "
    "{ reserve(input: $input, idempotencyKey: $key) { id status } }"
)
AVAILABILITY = """query($skus: [String!]!) { availability(skus: $skus) {
  sku locations { location { id type capabilities } availableToPromise } } }"""


async def create_database(admin_url: str) -> tuple[str, str]:
    name = f"gw_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def positions(
    session: aiohttp.ClientSession, url: str, skus: list[str], headers: dict[str, str]
) -> dict:
    """(sku, location id, channel) -> units available to promise, for every position with
    stock: stores that offer pickup (PICKUP) and warehouses (ONLINE)."""
    found: dict[tuple[str, str, str], int] = {}
    for start in range(0, len(skus), 50):
        batch = skus[start : start + 50]
        async with session.post(
            url, json={"query": AVAILABILITY, "variables": {"skus": batch}}, headers=headers
        ) as r:
            body = await r.json()
        assert "errors" not in body, body["errors"]
        for item in body["data"]["availability"]:
            for row in item["locations"]:
                loc = row["location"]
                if row["availableToPromise"] <= 0:
                    continue
                if loc["type"] == "WAREHOUSE":
                    found[(item["sku"], loc["id"], "ONLINE")] = row["availableToPromise"]
                elif "PICKUP" in loc["capabilities"]:
                    found[(item["sku"], loc["id"], "PICKUP")] = row["availableToPromise"]
    return found


async def drive_reservations(
    urls: list[str],
    stock: dict,
    *,
    clients: int,
    seconds: float,
    warmup: float,
    headers: dict[str, str] | None = None,
    cpu: Callable[[], dict[str, float]] = dict,
) -> dict:
    keys = list(stock)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    rng = random.Random(7)
    counter = 0
    connections = [KeepAliveConnection(urls[i % len(urls)], headers) for i in range(clients)]

    async def one(connection: KeepAliveConnection, record: bool) -> None:
        nonlocal counter
        counter += 1
        sku, location, channel = rng.choice(keys)
        payload = {
            "query": RESERVE,
            "variables": {
                "input": {
                    "lines": [{"sku": sku, "quantity": 1}],
                    "locationId": location,
                    "channel": channel,
                    "ttlSeconds": 3600,
                },
                "key": f"bench-{counter}",
            },
        }
        start = time.perf_counter()
        body = json.loads(await connection.post(json.dumps(payload).encode()))
        if not record:
            return
        latencies.append(time.perf_counter() - start)
        if body.get("data") and body["data"].get("reserve"):
            outcomes["held"] += 1
        else:
            outcomes[body["errors"][0]["extensions"].get("code", "?")] += 1

    async def client(connection: KeepAliveConnection, until: float, record: bool) -> None:
        while time.perf_counter() < until:
            await one(connection, record)

    try:
        await asyncio.gather(*(client(c, time.perf_counter() + warmup, False) for c in connections))
        cpu_before = cpu()
        start = time.perf_counter()
        await asyncio.gather(*(client(c, start + seconds, True) for c in connections))
        elapsed = time.perf_counter() - start
        cpu_after = cpu()
    finally:
        for connection in connections:
            connection.close()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "outcomes": outcomes,
        "cpu": {name: cpu_after[name] - cpu_before[name] for name in cpu_before},
    }


WRK_SCRIPT = Path(__file__).resolve().parent / "reserve.lua"
_WRK_RESULT = re.compile(
    r"RESULT requests=(\d+) micros=(\d+) p50=(\d+) p99=(\d+) held=(\d+) refused=(\d+)"
    r" other=(\d+) errors=(\d+)"
)


async def drive_with_wrk(
    urls: list[str],
    stock: dict,
    *,
    clients: int,
    seconds: float,
    warmup: float,
    workdir: Path,
    headers: dict[str, str] | None = None,
    cpu: Callable[[], dict[str, float]] = dict,
) -> dict:
    """As ``drive_reservations``, with wrk (C) sending the requests: one wrk process (one
    thread) per gateway, ``clients`` connections in all, bench/reserve.lua drawing each
    request's position and key. p50 is the mean of the gateways' p50s, p99 the worst."""
    inputs = workdir / "reserve_inputs.lua"
    rows = ",\n".join(
        "[==["
        + json.dumps(
            {
                "lines": [{"sku": sku, "quantity": 1}],
                "locationId": location,
                "channel": channel,
                "ttlSeconds": 3600,
            },
            separators=(",", ":"),
        )
        + "]==]"
        for sku, location, channel in stock
    )
    inputs.write_text(f"return {{\n{rows}\n}}\n")
    flags = [f"-H{name}: {value}" for name, value in (headers or {}).items()]
    flags.append("-HContent-Type: application/json")

    async def run(tag: str, duration: float) -> list[str]:
        env = {**os.environ, "RESERVE_INPUTS": str(inputs)}
        command = ["wrk", "-t1", f"-c{clients // len(urls)}", f"-d{max(1, round(duration))}s"]
        command += ["--timeout", "10s", "-s", str(WRK_SCRIPT), *flags]
        procs = [
            await asyncio.create_subprocess_exec(
                *command,
                url,
                env={**env, "RESERVE_RUN": f"{tag}{n}"},
                stdout=asyncio.subprocess.PIPE,
            )
            for n, url in enumerate(urls)
        ]
        outputs = [(await proc.communicate())[0].decode() for proc in procs]
        return outputs

    await run("warm", warmup)
    cpu_before = cpu()
    outputs = await run("measured", seconds)
    cpu_after = cpu()
    found = []
    for output in outputs:
        match = _WRK_RESULT.search(output)
        if match is None:
            raise RuntimeError(f"wrk said: {output}")
        found.append([int(g) for g in match.groups()])
    outcomes: Counter[str] = Counter()
    for *_, held, refused, other, errors in found:
        outcomes.update({"held": held, "INSUFFICIENT_STOCK": refused, "other": other})
        outcomes.update({"transport errors": errors} if errors else {})
    return {
        "requests": sum(f[0] for f in found),
        "seconds": max(f[1] for f in found) / 1e6,
        "p50_ms": sum(f[2] for f in found) / len(found) / 1000,
        "p99_ms": max(f[3] for f in found) / 1000,
        "outcomes": +outcomes,
        "cpu": {name: cpu_after[name] - cpu_before[name] for name in cpu_before},
    }


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on this machine (the server must be local)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue  # it exited
    return pids


def cpu_meter(gateways: list[int], simulators: int) -> Callable[[], dict[str, float]]:
    """CPU seconds used so far by each part of the run, for the per-request split."""

    def used(pids: list[int]) -> float:
        total = 0.0
        for pid in pids:
            try:
                total += cpu_seconds(pid)
            except OSError:
                continue
        return total

    def snapshot() -> dict[str, float]:
        # This process and the children it has waited for (wrk, when it sends the load).
        own = os.times()
        return {
            "gateways": used(gateways),
            "postgresql": used(postgres_pids()),
            "simulators": used([simulators]),
            "load generator": own.user + own.system + own.children_user + own.children_system,
        }

    return snapshot


async def oversold(db_url: str, source: dict) -> tuple[int, int]:
    """Units held beyond the source's figure, summed over positions; and units held."""
    conn = await asyncpg.connect(db_url)
    rows = await conn.fetch(
        "SELECT h.sku, h.location_id, sum(h.quantity) AS held FROM hold h "
        "JOIN reservation r ON r.id = h.reservation_id WHERE r.status = 'ACTIVE' "
        "GROUP BY h.sku, h.location_id"
    )
    await conn.close()
    by_position = {(s, loc): units for (s, loc, _), units in source.items()}
    over = sum(max(0, r["held"] - by_position.get((r["sku"], r["location_id"]), 0)) for r in rows)
    return over, sum(r["held"] for r in rows)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--gateways", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--stores", type=int, default=12)
    parser.add_argument("--pgbench-clients", type=int, default=16)
    parser.add_argument("--pool-size", type=int, default=16, help="connections per gateway")
    parser.add_argument("--hold-batch-size", type=int, default=64, help="HOLD_BATCH_SIZE")
    parser.add_argument(
        "--hold-batch-linger-ms", type=float, default=0.5, help="HOLD_BATCH_LINGER_MS"
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the first gateway with py-spy during the run and print where its CPU went",
    )
    parser.add_argument(
        "--compile",
        default="persisted",
        choices=["persisted", "all", "off"],
        help="PERSISTED__COMPILE: 'all' runs reserve through its compiled plan",
    )
    parser.add_argument(
        "--load-generator",
        default="auto",
        choices=["auto", "wrk", "python"],
        help="wrk (C, Debian's package; 'auto' takes it when installed) or the Python client",
    )
    args = parser.parse_args()
    load_generator = args.load_generator
    if load_generator == "auto":
        load_generator = "wrk" if shutil.which("wrk") else "python"
    if load_generator == "wrk" and args.clients % args.gateways:
        parser.error("--clients must split evenly over --gateways for wrk")

    server = PgServer.from_url(args.admin_url)
    baseline = pgbench_single_row_update_tps(server, args.pgbench_clients, args.seconds)
    print(baseline)

    dataset = generate(seed=42, skus=args.skus, stores=args.stores)
    name, db_url = await create_database(args.admin_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-reservations-"))
    nodes = workdir / "nodes.json"
    nodes.write_text(json.dumps(dataset.nodes_config()))
    sim_ports = [free_port() for _ in range(4)]
    auth_env, auth = bench_identity(workdir)  # the gateways' env; every request's credentials
    env = {
        **auth_env,
        "DATABASE_URL": db_url.replace("postgresql://", "postgresql+asyncpg://"),
        **backend_urls(sim_ports),
        "NODES_FILE": str(nodes),
        "GRAPHIQL": "false",
        "RUN_WORKERS": "false",
        "WEB_ORDER_SYNC_SECONDS": "0",
        "REDIS_URL": "",
        # Stock readings stay cached for the run; the holds are what is measured.
        "CACHE_TTL_STOCK_SECONDS": "3600",
        "DATABASE_POOL_SIZE": str(args.pool_size),
        "HOLD_BATCH_SIZE": str(args.hold_batch_size),
        "HOLD_BATCH_LINGER_MS": str(args.hold_batch_linger_ms),
        "PERSISTED__COMPILE": args.compile,
    }
    try:
        sims = [
            "-m", "sandbox.servers", "--skus", str(args.skus), "--stores", str(args.stores),
            "--ports", ",".join(map(str, sim_ports)),
        ]  # fmt: skip
        with process(sims, ports=sim_ports) as simulators:
            # Migrate once, before the workers start and race for it.
            migrate = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway.cli", "migrate", env={**os.environ, **env},
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            assert await migrate.wait() == 0
            # One uvicorn process per gateway, each on its own port, and the clients split
            # evenly across them, as a round-robin load balancer would. (uvicorn --workers
            # leaves the split to the kernel's accept queue, which can starve one worker.)
            gw_ports = [free_port() for _ in range(args.gateways)]
            profile: Profile | None = None
            with ExitStack() as stack:
                gateways = []
                for port in gw_ports:
                    gateway = process(
                        [
                            "-m", "uvicorn", "gateway.app:create_app", "--factory",
                            "--port", str(port), "--log-level", "warning", "--no-access-log",
                        ],
                        env={**env, "MIGRATE_ON_START": "false"},
                        ports=[port],
                    )  # fmt: skip
                    gateways.append(stack.enter_context(gateway))
                urls = [f"http://127.0.0.1:{port}/graphql" for port in gw_ports]
                async with aiohttp.ClientSession() as session:
                    stock = await positions(session, urls[0], dataset.sellable_skus, auth)
                    for url in urls[1:]:  # warm every gateway's caches alike
                        await positions(session, url, dataset.sellable_skus, auth)
                meter = cpu_meter([g.pid for g in gateways], simulators.pid)
                common = {"clients": args.clients, "seconds": args.seconds, "headers": auth}
                drive = (
                    drive_with_wrk(
                        urls, stock, warmup=args.warmup, workdir=workdir, cpu=meter, **common
                    )
                    if load_generator == "wrk"
                    else drive_reservations(urls, stock, warmup=args.warmup, cpu=meter, **common)
                )
                if args.profile:  # the figures are of a sampled run: compare like with like
                    with sampled(gateways[0].pid, workdir / "profile.txt") as profile:
                        result = await drive
                else:
                    result = await drive
        over, held = await oversold(db_url, stock)
    finally:
        await drop_database(args.admin_url, name)

    after = pgbench_single_row_update_tps(server, args.pgbench_clients, args.seconds)
    print(f"{after} (after the gateway)")
    pgbench_tps = (baseline.tps + after.tps) / 2
    rate = result["requests"] / result["seconds"]
    print(
        f"gateway reserve: {rate:,.0f} req/s (compile={args.compile}; {args.gateways} processes, "
        f"{args.clients} clients by {load_generator}, {result['seconds']:.1f} s; "
        f"p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms; outcomes {dict(result['outcomes'])})"
    )
    print(f"positions with stock: {len(stock):,}; units held at the end: {held:,}")
    print(
        f"ratio gateway/pgbench: {rate / pgbench_tps:.3f} (target >= 0.25; against the mean of "
        f"{baseline.tps:,.0f} and {after.tps:,.0f} tps)"
    )
    print(f"oversold units: {over} (must be 0)")
    if result["requests"]:
        split = ", ".join(
            f"{name} {seconds / result['requests'] * 1e6:,.0f}"
            for name, seconds in result["cpu"].items()
        )
        print(f"CPU per request, us: {split} (machine: {os.cpu_count()} cores)")
    if profile is not None:
        print("where the first gateway's CPU went (py-spy, warm-up included):")
        print("\n".join(profile.lines(top=25)))


if __name__ == "__main__":
    import uvloop  # the load generator's own event loop costs less CPU on the shared machine

    uvloop.run(main())
