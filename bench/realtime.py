"""The real-time path, measured end to end with every part in its own OS process.

1. Event latency: a sale rung up at the Square simulator through its own API
   (``POST /v2/inventory/changes/batch-create``, an ADJUSTMENT IN_STOCK -> SOLD) until a
   client subscribed over graphql-transport-ws (``availabilityChanged``) receives the
   message showing the new figure. Two gateway processes on one PostgreSQL database:
   Square's webhook is delivered to process A (RUN_WORKERS=true: it records the event and
   processes it), the subscriber is connected to process B (RUN_WORKERS=false: it serves
   subscribers only, so every change reaches it from A through the change bus). Two
   configurations: PostgreSQL LISTEN/NOTIFY between the processes (no REDIS_URL), and Redis
   pub/sub (REDIS_URL, a database of its own, flushed). Each configuration measures sales
   one at a time (the next sale once the last was seen; the inbox's timestamps split each
   into sale -> recorded at A and recorded at A -> seen at B) and sales paced
   ``--spacing-ms`` apart (open loop: a sale starts on time whatever the last one is doing;
   the figure is read afresh for each change, so a message already showing a later sale
   counts for every sale up to it).
2. Webhook ingestion: signed Square ``inventory.count.updated`` deliveries, each a
   distinct ``event_id`` naming a real variation at a real store, POSTed to
   ``/webhooks/square`` of one gateway process by ``--clients`` keep-alive connections at
   once; accepted per second, then the same deliveries again (each answered REPLAY). With
   the workers on (RUN_WORKERS=true: the accepted events are processed, i.e. read afresh and
   reconciled, while more arrive) and, when that is below the target, with them off (the
   cost of acknowledging alone). PostgreSQL, and SQLite as a second row.
3. ``--subscribers`` graphql-transport-ws clients on one gateway process, all watching one
   SKU at one store: the process's RSS before and after (memory per subscriber), then
   ``--fanout-rounds`` changes over HTTP (a ``reserve``, its ``releaseReservation``, and so
   on) and the time from each until half and all of the subscribers received it.

Targets (the issue): p99 event latency <= 1 s; ingestion >= 1,000 webhooks/s (2 cores).

    .venv/bin/python bench/realtime.py [--sales 200 --webhooks 5000 --subscribers 1000]
                                        # about 6 minutes; --workers-off always for both rows
    .venv/bin/python bench/realtime.py --quick          # a smoke run, about 80 s
    .venv/bin/python bench/realtime.py --only latency   # latency, ingest, fanout
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import secrets
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realtime_stack import (
    KeepAlive,
    SquareTill,
    Stack,
    Subscriber,
    cpu_seconds,
    free_port,
    graphql,
    percentile,
    rss_kib,
    subscribe,
    wait_quiet,
)
from gateway.domain import SourceSystem
from gateway.events.signatures import signature_of

# The demo's pair: a trail shoe at a click-and-collect store that does not ship online, so a
# sale there moves that store's figure and nothing the storefront shows.
SKU = "SHOE-TRAIL-42"
STORE = "ST-BERLIN-STORE"
TOP_UP = 100_000  # units put on the shelf first, so no sale takes the count below zero
LATENCY_TARGET_S = 1.0
INGEST_TARGET = 1_000.0

WATCH = """subscription ($skus: [String!]!, $at: [ID!]) {
  availabilityChanged(skus: $skus, locationIds: $at) {
    sku locations { location { id } onHand held availableToPromise via } } }"""
AVAILABILITY = """query ($skus: [String!]!, $at: [ID!], $channel: Channel) {
  availability(skus: $skus, locationIds: $at, channel: $channel) {
    sku locations { location { id } onHand availableToPromise } } }"""
RESERVE = """mutation ($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) { id status } }"""
RELEASE = """mutation ($id: ID!, $key: String!) {
  releaseReservation(id: $id, idempotencyKey: $key) { id status } }"""


def _row(data: dict[str, Any]) -> dict[str, Any]:
    (row,) = data["availabilityChanged"]["locations"]
    return row


def _store_ref(stack: Stack, node_id: str) -> str:
    nodes = stack.dataset.nodes_config()["nodes"]
    assert isinstance(nodes, list)
    return str(next(n["ref"] for n in nodes if n["id"] == node_id))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


# --- 1. event latency --------------------------------------------------------------------------


@dataclass
class LatencyRun:
    transport: str
    mode: str  # "one at a time" or "paced N ms"
    latencies: list[float] = field(default_factory=list)
    missed: int = 0
    seconds: float = 0.0
    # One at a time only, from the inbox's records: sale -> recorded at A, recorded at A ->
    # seen at B, recorded -> processed (read afresh and reconciled) at A.
    to_inbox: list[float] = field(default_factory=list)
    inbox_to_subscriber: list[float] = field(default_factory=list)
    inbox_to_processed: list[float] = field(default_factory=list)
    slow: list[tuple[float, float, float, float]] = field(default_factory=list)  # over 500 ms

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) if self.latencies else float("nan")


async def event_latency(args: argparse.Namespace, transport: str) -> list[LatencyRun]:
    redis_url = args.redis_url if transport == "Redis pub/sub" else None
    async with Stack("latency", skus=args.skus, stores=args.stores, admin_url=args.admin_url,
                     redis_url=redis_url) as stack:  # fmt: skip
        port_a, port_b = free_port(), free_port()
        base_a = f"http://127.0.0.1:{port_a}"
        hooks = (await stack.register_webhooks(base_a)).environment()
        gateway_a = await stack.gateway(
            "gateway-a", port_a, RUN_WORKERS="true", WEBHOOK_BASE_URL=base_a, **hooks
        )
        await stack.gateway("gateway-b", port_b, RUN_WORKERS="false", **hooks)
        backends = stack.backends
        till = SquareTill(backends.square_base_url, backends.square_access_token)
        location = _store_ref(stack, STORE)
        subscriber: Subscriber | None = None
        try:
            variation = await till.variation(SKU)
            subscriber = await subscribe(
                f"ws://127.0.0.1:{port_b}/graphql",
                WATCH,
                {"skus": [SKU], "at": [STORE]},
                headers=stack.auth_headers,
            )
            await asyncio.sleep(1.0)  # subscribed before anything moves
            # Stock for every sale to come; its arrival at B also proves the path works.
            await till.adjust(variation, location, "NONE", "IN_STOCK", TOP_UP)
            index, _, data = await subscriber.wait_for(
                lambda d: _row(d)["onHand"] >= TOP_UP, timeout=30
            )
            on_hand = _row(data)["onHand"]
            await wait_quiet(gateway_a.pid)
            # Warm-up sales, not measured.
            for _ in range(5):
                await till.sell(variation, location)
                on_hand -= 1
                index, _, _ = await subscriber.wait_for(
                    lambda d, want=on_hand: _row(d)["onHand"] <= want, 10, index
                )
            await wait_quiet(gateway_a.pid)
            runs = []
            serial = LatencyRun(transport, "one at a time")
            last_event = await stack.last_event_id()
            wall = time.time() - time.perf_counter()  # perf_counter -> wall clock
            sales: list[tuple[float, float | None]] = []  # (sold, seen at B), wall clock
            began = time.perf_counter()
            for _ in range(args.sales):
                on_hand -= 1
                start = time.perf_counter()
                await till.sell(variation, location)
                try:
                    index, at, _ = await subscriber.wait_for(
                        lambda d, want=on_hand: _row(d)["onHand"] <= want, 10, index
                    )
                except TimeoutError:
                    serial.missed += 1
                    sales.append((start + wall, None))
                    continue
                serial.latencies.append(at - start)
                sales.append((start + wall, at + wall))
            serial.seconds = time.perf_counter() - began
            await wait_quiet(gateway_a.pid)
            events = await stack.inbox_since(last_event)
            if len(events) == len(sales):  # one Square event per sale, in order
                for (sold, seen), (_, received, processed) in zip(sales, events, strict=True):
                    serial.to_inbox.append(received.timestamp() - sold)
                    if seen is not None:
                        serial.inbox_to_subscriber.append(seen - received.timestamp())
                    if processed is not None:
                        serial.inbox_to_processed.append((processed - received).total_seconds())
                    if seen is not None and processed is not None and seen - sold > 0.5:
                        serial.slow.append((
                            seen - sold, received.timestamp() - sold, seen - received.timestamp(),
                            (processed - received).total_seconds(),
                        ))  # fmt: skip
            else:
                print(f"   ({len(events)} Square events for {len(sales)} sales: no breakdown)")
            runs.append(serial)
            await wait_quiet(gateway_a.pid)
            paced, on_hand = await _paced(args, transport, till, variation, location,
                                          subscriber, index, on_hand)  # fmt: skip
            runs.append(paced)
            return runs
        finally:
            if subscriber is not None:
                await subscriber.close()
            await till.aclose()


async def _paced(
    args: argparse.Namespace,
    transport: str,
    till: SquareTill,
    variation: str,
    location: str,
    subscriber: Subscriber,
    index: int,
    on_hand: int,
) -> tuple[LatencyRun, int]:
    run = LatencyRun(transport, f"paced {args.spacing_ms:g} ms apart")
    spacing = args.spacing_ms / 1000
    starts: list[float] = [0.0] * args.sales
    first = len(subscriber.received)

    async def sale(i: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        starts[i] = time.perf_counter()
        await till.sell(variation, location)

    began = time.perf_counter()
    await asyncio.gather(*(sale(i, began + i * spacing) for i in range(args.sales)))
    last = on_hand - args.sales
    with contextlib.suppress(TimeoutError):
        await subscriber.wait_for(lambda d: _row(d)["onHand"] <= last, 30, index)
    run.seconds = time.perf_counter() - began
    seen = [(at, _row(d)["onHand"]) for at, d in subscriber.received[first:]]
    for i in range(args.sales):
        want = on_hand - (i + 1)
        arrival = next((at for at, value in seen if value <= want), None)
        if arrival is None:
            run.missed += 1
        else:
            run.latencies.append(arrival - starts[i])
    return run, last


# --- 2. webhook ingestion ----------------------------------------------------------------------


@dataclass
class IngestRun:
    database: str
    workers: bool
    n: int
    seconds: float
    outcomes: Counter[str]
    p50: float
    p99: float
    replay_seconds: float
    replay_outcomes: Counter[str]
    gateway_cores: float
    loadgen_cores: float
    simulator_cores: float
    drained: str = ""

    @property
    def rate(self) -> float:
        return self.outcomes["ACCEPTED"] / self.seconds

    @property
    def replay_rate(self) -> float:
        return self.replay_outcomes["REPLAY"] / self.replay_seconds


def _square_bodies(stack: Stack, count: int) -> list[bytes]:
    pairs = [
        (variation_id, store.id)
        for item in stack.dataset.pos_items
        for variation_id, *_ in item.variations
        for store in stack.dataset.stores
        if store.status == "ACTIVE"
    ]
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}000Z"
    bodies = []
    for i in range(count):
        variation, location = pairs[(i * 7919) % len(pairs)]
        event = {
            "merchant_id": "BENCH",
            "type": "inventory.count.updated",
            "event_id": str(uuid.uuid4()),
            "created_at": stamp,
            "data": {
                "type": "inventory_counts",
                "id": str(uuid.uuid4()),
                "object": {
                    "inventory_counts": [
                        {
                            "catalog_object_id": variation,
                            "catalog_object_type": "ITEM_VARIATION",
                            "state": "IN_STOCK",
                            "location_id": location,
                            "quantity": str(i % 20),
                            "calculated_at": stamp,
                        }
                    ]
                },
            },
        }
        bodies.append(json.dumps(event, separators=(",", ":")).encode())
    return bodies


async def _post_all(
    url: str, deliveries: list[tuple[bytes, dict[str, str]]], clients: int
) -> tuple[float, Counter[str], list[float]]:
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    next_one = iter(range(len(deliveries)))
    connections = [KeepAlive(url) for _ in range(clients)]

    async def client(connection: KeepAlive) -> None:
        for i in next_one:
            body, headers = deliveries[i]
            start = time.perf_counter()
            try:
                status, answer = await asyncio.wait_for(connection.post(body, headers), 30)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
                outcomes[f"error {type(error).__name__}"] += 1
                connection.close()
                continue
            latencies.append(time.perf_counter() - start)
            if status == 200:
                outcomes[json.loads(answer).get("status", "?")] += 1
            else:
                outcomes[f"HTTP {status}"] += 1

    began = time.perf_counter()
    try:
        await asyncio.gather(*(client(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return time.perf_counter() - began, outcomes, latencies


async def ingestion(args: argparse.Namespace, database: str, workers: bool) -> IngestRun:
    async with Stack("ingest", skus=args.skus, stores=args.stores, admin_url=args.admin_url,
                     database=database) as stack:  # fmt: skip
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        key = secrets.token_urlsafe(16)
        gateway = await stack.gateway(
            "gateway",
            port,
            RUN_WORKERS="true" if workers else "false",
            WEBHOOK_BASE_URL=base,
            SQUARE_WEBHOOK_SIGNATURE_KEYS=json.dumps([key]),
        )
        hook = f"{base}/webhooks/square"
        warm = min(500, args.webhooks // 5)
        bodies = _square_bodies(stack, warm + args.webhooks)
        deliveries = [
            (
                body,
                {
                    "Content-Type": "application/json",
                    "x-square-hmacsha256-signature": signature_of(
                        SourceSystem.POS, key, body, hook
                    ),
                },
            )
            for body in bodies
        ]
        await _post_all(hook, deliveries[:warm], args.clients)
        await wait_quiet(gateway.pid, timeout=120)
        await wait_quiet(stack.simulators.pid, timeout=30)
        measured = deliveries[warm:]
        _, processed_before = await stack.processed_webhooks()
        cpu_gateway = cpu_seconds(gateway.pid)
        cpu_sims = cpu_seconds(stack.simulators.pid)
        cpu_self = _own_cpu()
        seconds, outcomes, latencies = await _post_all(hook, measured, args.clients)
        cores = (
            (cpu_seconds(gateway.pid) - cpu_gateway) / seconds,
            (_own_cpu() - cpu_self) / seconds,
            (cpu_seconds(stack.simulators.pid) - cpu_sims) / seconds,
        )
        ingested_at = time.perf_counter() - seconds
        replay_seconds, replay_outcomes, _ = await _post_all(hook, measured, args.clients)
        run = IngestRun(
            database, workers, len(measured), seconds, outcomes,
            percentile(latencies, 0.5), percentile(latencies, 0.99),
            replay_seconds, replay_outcomes, *cores,
        )  # fmt: skip
        if workers:
            run.drained = await _drain(stack, ingested_at, processed_before, args.drain_timeout)
        return run


async def _drain(stack: Stack, since: float, before: int, timeout: float) -> str:
    """Wait until every recorded event is processed; say how long that took from the start
    of the measured ingestion (``before``: events processed when it began)."""
    deadline = time.monotonic() + timeout
    while True:
        recorded, processed = await stack.processed_webhooks()
        took = time.perf_counter() - since
        if processed >= recorded:
            rate = (processed - before) / took
            return (f"its {processed - before:,} events processed {took:.1f} s after it began "
                    f"({rate:,.0f}/s: read afresh and reconciled, batches of up to 100)")  # fmt: skip
        if time.monotonic() > deadline:
            return f"{processed:,} of {recorded:,} processed after {took:.1f} s (gave up waiting)"
        await asyncio.sleep(0.5)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- 3. many subscribers on one process --------------------------------------------------------


@dataclass(frozen=True)
class FanoutRound:
    answered: float  # the mutation's answer, seconds after it was sent
    p50: float  # half the subscribers had the change, seconds after the mutation was sent
    last: float  # all of them had it
    missing: int  # subscribers that never had it (30 s)
    gateway_cpu: float  # the gateway's CPU seconds from the mutation to the last receipt
    client_cpu: float  # this process's (the 1,000 clients')
    rss_kib: int  # the gateway's RSS after the round


@dataclass
class FanoutRun:
    subscribers: int
    opened_seconds: float
    rss_before_kib: int
    rss_after_kib: int
    rss_end_kib: int
    rounds: list[FanoutRound]
    ended: int

    @property
    def per_subscriber_kib(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.subscribers


async def fanout(args: argparse.Namespace) -> FanoutRun:
    async with Stack("fanout", skus=args.skus, stores=args.stores,
                     admin_url=args.admin_url) as stack:  # fmt: skip
        port = free_port()
        url = f"http://127.0.0.1:{port}/graphql"
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        gateway = await stack.gateway("gateway", port, RUN_WORKERS="true")
        async with httpx.AsyncClient(timeout=30, headers=stack.auth_headers) as http:
            sku, atp = await _pick_position(http, url, stack)
            # Warm the paths once: a subscriber opened and closed.
            warm = await subscribe(
                ws_url, WATCH, {"skus": [sku], "at": [STORE]}, headers=stack.auth_headers
            )
            await asyncio.sleep(0.5)
            await warm.close()
            await wait_quiet(gateway.pid)
            rss_before = rss_kib(gateway.pid)

            state: dict[str, Any] = {"target": atp, "times": {}, "done": asyncio.Event()}

            def heard(subscriber: Subscriber) -> None:
                at, data = subscriber.received[-1]
                times = state["times"]
                if (
                    _row(data)["availableToPromise"] == state["target"]
                    and id(subscriber) not in times
                ):
                    times[id(subscriber)] = at
                    if len(times) == args.subscribers:
                        state["done"].set()

            gate = asyncio.Semaphore(50)

            async def one() -> Subscriber:
                async with gate:
                    return await subscribe(
                        ws_url,
                        WATCH,
                        {"skus": [sku], "at": [STORE]},
                        on_message=heard,
                        timeout=60,
                        headers=stack.auth_headers,
                    )

            began = time.perf_counter()
            subscribers = list(await asyncio.gather(*(one() for _ in range(args.subscribers))))
            opened = time.perf_counter() - began
            try:
                await asyncio.sleep(1.0)
                await wait_quiet(gateway.pid, timeout=120)
                rss_after = rss_kib(gateway.pid)
                rounds = []
                held: str | None = None
                for _ in range(args.fanout_rounds):
                    # A hold, then its release, and so on: each moves the figure by one.
                    state["target"] = atp - 1 if held is None else atp
                    state["times"] = {}
                    state["done"] = asyncio.Event()
                    key = f"bench-fanout-{uuid.uuid4().hex}"
                    if held is None:
                        line = {"sku": sku, "quantity": 1}
                        change = {"query": RESERVE, "variables": {"key": key, "input": {
                            "lines": [line], "locationId": STORE, "channel": "PICKUP",
                            "ttlSeconds": 3600}}}  # fmt: skip
                    else:
                        change = {"query": RELEASE, "variables": {"id": held, "key": key}}
                    cpu_gateway, cpu_clients = cpu_seconds(gateway.pid), _own_cpu()
                    start = time.perf_counter()
                    answer = await http.post(url, json=change)
                    answered = time.perf_counter() - start
                    body = answer.json()
                    if body.get("errors"):
                        raise RuntimeError(f"hold or release failed: {json.dumps(body)[:300]}")
                    held = body["data"]["reserve"]["id"] if held is None else None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(state["done"].wait(), 30)
                    arrivals = [t - start for t in state["times"].values()] or [float("nan")]
                    used = cpu_seconds(gateway.pid) - cpu_gateway, _own_cpu() - cpu_clients
                    await wait_quiet(gateway.pid)
                    rounds.append(FanoutRound(
                        answered, percentile(arrivals, 0.5), max(arrivals),
                        args.subscribers - len(state["times"]), *used, rss_kib(gateway.pid),
                    ))  # fmt: skip
                rss_end = rss_kib(gateway.pid)
                ended = sum(1 for s in subscribers if s.ended is not None)
            finally:
                closing = asyncio.Semaphore(100)

                async def close(subscriber: Subscriber) -> None:
                    async with closing:
                        await subscriber.close()

                await asyncio.gather(*(close(s) for s in subscribers))
        return FanoutRun(args.subscribers, opened, rss_before, rss_after, rss_end, rounds, ended)


async def _pick_position(http: httpx.AsyncClient, url: str, stack: Stack) -> tuple[str, int]:
    """The demo's SKU at the store if it has something to promise there, else the stock
    SKU with most there."""
    kits = set(stack.dataset.kits)
    candidates = [SKU, *[s for s in stack.dataset.stock_skus if s not in kits and s != SKU][:99]]
    data = await graphql(http, url, AVAILABILITY, skus=candidates, at=[STORE], channel="PICKUP")
    atp = {
        item["sku"]: item["locations"][0]["availableToPromise"]
        for item in data["availability"]
        if item["locations"]
    }
    if atp.get(SKU, 0) > 0:
        return SKU, atp[SKU]
    best = max(atp, key=lambda s: atp[s])
    if atp[best] <= 0:
        raise RuntimeError(f"no SKU with units to promise at {STORE}")
    return best, atp[best]


# --- the report --------------------------------------------------------------------------------


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for n, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", default="latency,ingest,fanout",
                        help="comma-separated: latency, ingest, fanout")  # fmt: skip
    parser.add_argument("--sales", type=int, default=200, help="measured sales per run")
    parser.add_argument("--spacing-ms", type=float, default=50.0, help="paced sales' spacing")
    parser.add_argument("--webhooks", type=int, default=5000, help="measured deliveries")
    parser.add_argument("--clients", type=int, default=64, help="deliveries in flight")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite ingestion row")
    parser.add_argument("--workers-off", choices=("auto", "always", "never"), default="auto",
                        help="also ingest with RUN_WORKERS=false (auto: when below target)")  # fmt: skip
    parser.add_argument("--drain-timeout", type=float, default=180.0,
                        help="seconds to wait for the accepted events to be processed")  # fmt: skip
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--fanout-rounds", type=int, default=5)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--stores", type=int, default=12)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11",
                        help="a Redis database of the benchmark's own (flushed)")  # fmt: skip
    if parser.parse_args().quick:  # shorter defaults; what is given still counts
        parser.set_defaults(
            sales=30, webhooks=600, subscribers=100, fanout_rounds=2, drain_timeout=60.0
        )
    args = parser.parse_args()
    parts = {p.strip() for p in args.only.split(",")}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.subscribers * 2 + 1024  # the clients here, the gateway's sockets there
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))

    started = datetime.now(UTC)
    print(f"bench/realtime.py, {started:%Y-%m-%d %H:%M} UTC"
          f"{' (--quick)' if args.quick else ''}; {args.skus} SKUs x {args.stores} stores")  # fmt: skip
    rows: list[tuple[str, str, str]] = [("What", "Figure", "Ratio / target")]

    if "latency" in parts:
        print(f"\n1. Sale at Square -> subscriber on gateway B ({args.sales} sales per run; "
              f"webhook to A, RUN_WORKERS A=true B=false)")  # fmt: skip
        runs: list[LatencyRun] = []
        for transport in ("PostgreSQL NOTIFY", "Redis pub/sub"):
            for run in await event_latency(args, transport):
                runs.append(run)
                print(f"   {run.transport:18} {run.mode:22} p50 {_ms(run.p(0.5)):>9}  "
                      f"p99 {_ms(run.p(0.99)):>9}  max {_ms(max(run.latencies, default=0)):>9}  "
                      f"missed {run.missed}  ({run.seconds:.1f} s)")  # fmt: skip
                if run.to_inbox:
                    print(f"   {'':18} {'':22} sale -> recorded at A: p50 {_ms(percentile(run.to_inbox, 0.5))}, "
                          f"p99 {_ms(percentile(run.to_inbox, 0.99))}; recorded at A -> seen at B: "
                          f"p50 {_ms(percentile(run.inbox_to_subscriber, 0.5))}, "
                          f"p99 {_ms(percentile(run.inbox_to_subscriber, 0.99))}, "
                          f"max {_ms(max(run.inbox_to_subscriber))}; recorded -> processed "
                          f"(incl. the reconcile): p50 {_ms(percentile(run.inbox_to_processed, 0.5))}")  # fmt: skip
                slow = sorted(x for x in run.latencies if x > 0.5)
                if slow:
                    print(
                        f"   {'':18} {'':22} over 500 ms: {len(slow)} ({', '.join(_ms(x) for x in slow[:10])})"
                    )
                for total, inbox, onward, processed in run.slow:
                    print(f"   {'':18} {'':22}   {_ms(total)}: sale -> recorded at A {_ms(inbox)}, "
                          f"recorded -> seen at B {_ms(onward)}, recorded -> processed {_ms(processed)}")  # fmt: skip
        for run in runs:
            counterpart = next(
                r for r in runs if r.mode == run.mode and r.transport == "PostgreSQL NOTIFY"
            )
            ratio = (
                f"p99 {run.p(0.99) / LATENCY_TARGET_S:.2f}x the 1 s target"
                + ("" if run is counterpart
                   else f"; {run.p(0.99) / counterpart.p(0.99):.2f}x NOTIFY's p99")
                + (f"; {run.missed} never seen" if run.missed else "")
            )  # fmt: skip
            rows.append((
                f"sale -> subscriber on the other process, {run.transport}, {run.mode}",
                f"p50 {_ms(run.p(0.5))}, p99 {_ms(run.p(0.99))}, max {_ms(max(run.latencies, default=0))}",
                ratio,
            ))  # fmt: skip

    if "ingest" in parts:
        print(f"\n2. Signed Square webhooks into one gateway process ({args.webhooks:,} "
              f"distinct events, {args.clients} in flight)")  # fmt: skip
        plans = [("postgresql", True)]
        if not args.no_sqlite:
            plans.append(("sqlite", True))
        done: list[IngestRun] = []
        for database, workers in plans:
            done.append(await ingestion(args, database, workers))
            _say_ingest(done[-1])
            below = done[-1].rate < INGEST_TARGET
            if args.workers_off == "always" or (args.workers_off == "auto" and below):
                done.append(await ingestion(args, database, False))
                _say_ingest(done[-1])
        for run in done:
            label = "PostgreSQL" if run.database == "postgresql" else "SQLite"
            workers = "workers on" if run.workers else "RUN_WORKERS=false"
            rows.append((
                f"webhooks acknowledged, {label}, {workers}",
                f"{run.rate:,.0f}/s (p50 {_ms(run.p50)}, p99 {_ms(run.p99)}); replays {run.replay_rate:,.0f}/s",
                f"{run.rate / INGEST_TARGET:.2f}x the 1,000/s target; CPU gateway {run.gateway_cores:.2f}, "
                f"load generator {run.loadgen_cores:.2f}, simulators {run.simulator_cores:.2f} cores",
            ))  # fmt: skip

    if "fanout" in parts:
        print(f"\n3. {args.subscribers:,} subscribers on one gateway process, one SKU, "
              f"{args.fanout_rounds} changes: a hold, its release, ...")  # fmt: skip
        fan = await fanout(args)
        print(f"   opened in {fan.opened_seconds:.1f} s; RSS {fan.rss_before_kib / 1024:.1f} -> "
              f"{fan.rss_after_kib / 1024:.1f} MiB ({fan.per_subscriber_kib:.1f} KiB each), "
              f"{fan.rss_end_kib / 1024:.1f} MiB after the changes; closed early: {fan.ended}")  # fmt: skip
        for n, r in enumerate(fan.rounds, 1):
            print(f"   {'hold' if n % 2 else 'release'} {n}: answered in {_ms(r.answered)}; received by half in "
                  f"{_ms(r.p50)}, by the last in {_ms(r.last)}; missing {r.missing}; CPU meanwhile: "
                  f"gateway {r.gateway_cpu * 1000:.0f} ms ({r.gateway_cpu / fan.subscribers * 1e6:.0f} us "
                  f"a subscriber), clients {r.client_cpu * 1000:.0f} ms; RSS after {r.rss_kib / 1024:.1f} MiB")  # fmt: skip
        lasts = sorted(r.last for r in fan.rounds)
        p50s = sorted(r.p50 for r in fan.rounds)
        missing = sum(r.missing for r in fan.rounds)
        per_subscriber_cpu = statistics.median(r.gateway_cpu for r in fan.rounds) / fan.subscribers
        rows.append((
            f"{fan.subscribers:,} subscribers on one process: memory",
            f"{fan.per_subscriber_kib:.1f} KiB each (RSS {fan.rss_before_kib / 1024:.0f} -> {fan.rss_after_kib / 1024:.0f} MiB)",
            f"opened in {fan.opened_seconds:.1f} s",
        ))  # fmt: skip
        rows.append((
            f"a hold or release -> all {fan.subscribers:,} subscribers ({len(fan.rounds)} changes)",
            f"last received: median {_ms(statistics.median(lasts))}, worst {_ms(lasts[-1])}; "
            f"half received: median {_ms(statistics.median(p50s))}",
            f"worst {lasts[-1] / LATENCY_TARGET_S:.2f}x the 1 s target; gateway CPU "
            f"{per_subscriber_cpu * 1e6:.0f} us a subscriber"
            + (f"; {missing} deliveries missing" if missing else ""),
        ))  # fmt: skip

    print(f"\nSummary ({started:%Y-%m-%d}):")
    _print_table(rows)


def _say_ingest(run: IngestRun) -> None:
    label = "PostgreSQL" if run.database == "postgresql" else "SQLite"
    workers = "workers on" if run.workers else "RUN_WORKERS=false"
    others = {k: v for k, v in run.outcomes.items() if k != "ACCEPTED"}
    replay_others = {k: v for k, v in run.replay_outcomes.items() if k != "REPLAY"}
    print(f"   {label:10} {workers:17} accepted {run.outcomes['ACCEPTED']:,} in {run.seconds:.2f} s "
          f"= {run.rate:,.0f}/s (p50 {_ms(run.p50)}, p99 {_ms(run.p99)}){f', other {others}' if others else ''}; "
          f"replays {run.replay_outcomes['REPLAY']:,} = {run.replay_rate:,.0f}/s"
          f"{f', other {replay_others}' if replay_others else ''}")  # fmt: skip
    print(f"   {'':10} {'':17} CPU while ingesting: gateway {run.gateway_cores:.2f} cores, "
          f"load generator {run.loadgen_cores:.2f}, simulators {run.simulator_cores:.2f}"
          f"{f'; {run.drained}' if run.drained else ''}")  # fmt: skip


if __name__ == "__main__":
    import uvloop  # the load generator's own event loop costs less CPU on the shared machine

    uvloop.run(main())
