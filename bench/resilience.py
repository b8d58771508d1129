"""Resilience benchmark (issue 13): product pages and carts while backends misbehave.

One run, one gateway process over the four simulators (each its own process, as in
production), the same closed-loop load in every scenario:

1. healthy          every backend answering
2. failing + slow   Square failing 30 % of calls, ERPNext adding 2 s to one call in ten
3. hanging          Square accepting requests and never answering (the breaker opens)

Each request is a product page (one SKU, its stores and warehouses) or a cart (five SKUs),
half and half, over SKUs drawn from a pool; stock and web listings live 2 s in the cache,
so the backends are asked all the time. Every answer is read: complete (no error, no stale
figure), stale (figures from the last good copy, flagged), partial (some part null with its
error). An unflagged stale figure is one not marked stale though its observedAt (stamped
when the gateway began the read) is older, at the moment the request was sent, than the
cache keeps a figure plus the longest a read may take (the deadline): a figure from a last
good copy served as fresh. Targets, with the default 2.5 s deadline:
p99 under the deadline; zero HTTP 5xx; zero unflagged stale figures; hanging p99 <= the
deadline + 100 ms, and once the breaker is open p50 within 2x the healthy p50.

    .venv/bin/python bench/resilience.py [--skus 2000 --stores 40 --seconds 15 --concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_identity, free_port, median, percentile, process, uvicorn_args
from sandbox.sample_data import generate

STOCK_TTL_SECONDS = 2
DEADLINE_SECONDS = 2.5
ROWS = "location { id } availableToPromise stale confidence observedAt"
PAGE = f"""query Page($sku: String!) {{ product(sku: $sku) {{
  sku name webPrice {{ amount currency }} storePrice {{ amount currency }}
  availability(near: {{lat: 52.52, lng: 13.405, radiusKm: 300}}) {{
    totalAvailable locations {{ {ROWS} }} }} }} }}"""
CART = f"""query Cart($skus: [String!]!) {{ availability(skus: $skus) {{
  sku totalAvailable locations {{ {ROWS} }} }} }}"""


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, in arrival order
    complete: int = 0
    stale: int = 0
    partial: int = 0
    http_5xx: int = 0
    unflagged_stale: int = 0

    @property
    def answers(self) -> int:
        return self.complete + self.stale + self.partial

    def read(self, status: int, body: dict, took: float, sent: datetime) -> None:
        self.latencies.append(took)
        if status >= 500:
            self.http_5xx += 1
            return
        rows = [r for r in _rows(body.get("data") or {}) if r is not None]
        for row in rows:
            seen = row.get("observedAt")
            if not row["stale"] and seen is not None:
                age = (sent - datetime.fromisoformat(seen)).total_seconds()
                if age > STOCK_TTL_SECONDS + DEADLINE_SECONDS:
                    self.unflagged_stale += 1
        if body.get("errors"):
            self.partial += 1
        elif any(r["stale"] for r in rows):
            self.stale += 1
        else:
            self.complete += 1


def _rows(data: dict) -> list[dict | None]:
    found: list[dict | None] = []
    product = data.get("product")
    if product and product.get("availability"):
        found += product["availability"]["locations"]
    for item in data.get("availability") or []:
        if item:
            found += item["locations"]
    return found


async def load(
    url: str,
    skus: list[str],
    concurrency: int,
    seconds: float,
    seed: int,
    headers: dict[str, str],
) -> Tally:
    tally = Tally()
    rng = random.Random(seed)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:

        async def one() -> None:
            if rng.random() < 0.5:
                body = {"query": PAGE, "variables": {"sku": rng.choice(skus)}}
            else:
                body = {"query": CART, "variables": {"skus": rng.sample(skus, 5)}}
            sent = datetime.now(UTC)
            started = time.perf_counter()
            async with session.post(url, json=body) as response:
                text = await response.read()
                took = time.perf_counter() - started
                answer = json.loads(text) if response.status < 500 else {}
                tally.read(response.status, answer, took, sent)

        async def client(until: float) -> None:
            while time.perf_counter() < until:
                await one()

        until = time.perf_counter() + seconds
        await asyncio.gather(*(client(until) for _ in range(concurrency)))
    return tally


async def set_faults(session: aiohttp.ClientSession, port: int, plan: dict) -> None:
    async with session.post(f"http://127.0.0.1:{port}/_sandbox/faults", json=plan) as answer:
        assert answer.status == 200, await answer.text()


async def run(args: argparse.Namespace) -> None:
    dataset = generate(seed=42, skus=args.skus, stores=args.stores)
    workdir = Path(tempfile.mkdtemp(prefix="bench-resilience-"))
    nodes_file = workdir / "nodes.json"
    nodes_file.write_text(json.dumps(dataset.nodes_config()))
    erp, woo, square, oms = (free_port() for _ in range(4))
    gw = free_port()
    auth_env, auth = bench_identity(workdir)  # the gateway's env; every request's credentials
    env = {
        **auth_env,
        "ERP_BASE_URL": f"http://127.0.0.1:{erp}",
        "WOO_BASE_URL": f"http://127.0.0.1:{woo}",
        "SQUARE_BASE_URL": f"http://127.0.0.1:{square}",
        "OMS_BASE_URL": f"http://127.0.0.1:{oms}",
        "NODES_FILE": str(nodes_file),
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
        "GRAPHIQL": "false",
        "RUN_WORKERS": "false",
        "RESPONSE_CACHE_SECONDS": "0",
        "CACHE_TTL_STOCK_SECONDS": str(STOCK_TTL_SECONDS),
        "CACHE_TTL_WEB_LISTING_SECONDS": str(STOCK_TTL_SECONDS),
        "REQUEST_DEADLINE__QUERY_SECONDS": str(DEADLINE_SECONDS),
    }
    pool = random.Random(3).sample(dataset.sellable_skus, args.pool)
    simulators = [
        "-m", "sandbox.servers", "--skus", str(args.skus), "--stores", str(args.stores),
        "--ports", f"{erp},{woo},{square},{oms}",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{gw}/graphql"
    results: dict[str, Tally] = {}
    with (
        process(simulators, ports=[erp, woo, square, oms]),
        process(uvicorn_args("gateway.app:create_app", gw, factory=True), env=env, ports=[gw]),
    ):
        async with aiohttp.ClientSession() as session:
            # Every SKU of the pool seen once: the last good copies exist, as in production.
            for sku in pool:
                body = {"query": PAGE, "variables": {"sku": sku}}
                async with session.post(url, json=body, headers=auth) as answer:
                    text = await answer.read()
                    assert b"UNAUTHENTICATED" not in text, text.decode()  # credentials refused
            results["healthy"] = await load(url, pool, args.concurrency, args.seconds, 1, auth)
            await set_faults(session, square, {"error_rate": 0.3})
            await set_faults(session, erp, {"spike_ms": 2000, "spike_rate": 0.1})
            results["failing + slow"] = await load(
                url, pool, args.concurrency, args.seconds, 2, auth
            )
            await set_faults(session, square, {"reset": True})
            await set_faults(session, erp, {"reset": True})
            await asyncio.sleep(6)  # breakers that opened close again
            await set_faults(session, square, {"hang": True})
            results["hanging"] = await load(url, pool, args.concurrency, args.seconds, 3, auth)
            await set_faults(session, square, {"reset": True})
    report(results, args)


def report(results: dict[str, Tally], args: argparse.Namespace) -> None:
    print(
        f"\nProduct pages and carts (5 SKUs), half and half, {args.concurrency} clients, "
        f"{args.seconds:g} s per scenario, {args.pool} SKUs of {args.skus}, stock cached "
        f"{STOCK_TTL_SECONDS} s, deadline {DEADLINE_SECONDS} s"
    )
    head = f"{'':16}{'answers':>8}{'p50 ms':>9}{'p99 ms':>9}{'complete':>10}{'stale':>8}"
    print(f"   {head}{'partial':>9}{'5xx':>5}{'unflagged':>10}")
    for name, t in results.items():
        lat = [x * 1000 for x in t.latencies]
        complete, stale, partial = (
            f"{100 * n / max(1, t.answers):.1f}%" for n in (t.complete, t.stale, t.partial)
        )
        print(
            f"   {name:16}{t.answers:>8}{median(lat):>9.1f}{percentile(lat, 0.99):>9.1f}"
            f"{complete:>10}{stale:>8}{partial:>9}{t.http_5xx:>5}{t.unflagged_stale:>10}"
        )
    healthy, failing, hanging = (results[k] for k in ("healthy", "failing + slow", "hanging"))
    ms = [x * 1000 for x in hanging.latencies]
    # The breaker is open once the first wave has timed out: the second half of the run.
    after_open = ms[len(ms) // 2 :]
    healthy_p50 = median([x * 1000 for x in healthy.latencies])
    checks = [
        (
            "p99 under the deadline (failing + slow)",
            percentile([x * 1000 for x in failing.latencies], 0.99) < DEADLINE_SECONDS * 1000,
        ),
        ("zero HTTP 5xx", sum(t.http_5xx for t in results.values()) == 0),
        ("zero unflagged stale figures", sum(t.unflagged_stale for t in results.values()) == 0),
        ("hanging p99 <= deadline + 100 ms", percentile(ms, 0.99) <= DEADLINE_SECONDS * 1000 + 100),
        ("breaker open: p50 <= 2x healthy p50", median(after_open) <= 2 * healthy_p50),
    ]
    print(
        f"   breaker open (hanging, second half): p50 {median(after_open):.1f} ms = "
        f"{median(after_open) / healthy_p50:.2f}x healthy p50"
    )
    for name, met in checks:
        print(f"   target {name}: {'MET' if met else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=40)
    parser.add_argument("--pool", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
