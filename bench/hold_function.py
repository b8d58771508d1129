"""What PostgreSQL spends deciding a hold: ``gw_take_holds_batch`` called directly.

No gateway and no HTTP: ``--connections`` asyncpg connections each call the function in a
closed loop for ``--seconds``, with batches of ``--batch`` items (default: 1 and 16) built by
``gateway.persistence.pg_holds.hold_item`` exactly as the gateway builds them: a reserve of
``--skus`` SKUs (1 unit each) at a random node, over 700 SKUs x 5 nodes (3,500 positions),
ample stock, a fresh idempotency key and reservation id each. Before every measured run the
holds are reset to the same starting ledger: ``--seed-holds`` active holds spread over the
positions (a shelf's ledger is rarely empty) and a guard row for every position.

Printed per run: holds/s, and PostgreSQL CPU per hold in microseconds, read from
``/proc/<pid>/stat`` (user + system) of the backends serving the connections
(``pg_backend_pid()``), then of the WAL writer. The server must be local.

``--compare`` also installs the previous definition (migration 0020's, the one 0024
replaced) as ``gw_take_holds_batch_previous`` in the same throwaway database and runs both
in alternating rounds, printing the ratio previous / current of backend CPU per hold.

    .venv/bin/python bench/hold_function.py [--compare] [--seconds 10] [--rounds 2]
        [--connections 2] [--batch 1 --batch 16] [--skus 1] [--seed-holds 35000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reservations import create_database, drop_database
from gateway.domain import Channel, Location, NodeType, SourceSystem
from gateway.domain.catalog import NodeAvailability, StockStatus
from gateway.domain.idempotency import Claim
from gateway.domain.reservations import HoldPlan, HoldRequest, Reservation, ReservationStatus
from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade
from gateway.persistence.pg_holds import hold_item

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
SKUS = [f"SKU-{n:05d}" for n in range(700)]
NODES = [
    Location(f"ST-{n}", f"Store {n}", NodeType.STORE, SourceSystem.POS, f"L{n}") for n in range(5)
]
HORIZON = timedelta(minutes=10)
CURRENT = "gw_take_holds_batch"
PREVIOUS = "gw_take_holds_batch_previous"
TICK = os.sysconf("SC_CLK_TCK")


def previous_function() -> str:
    """The definition 0024 replaced: 0006's function as 0020 amended it."""
    amended = import_module("gateway.persistence.migrations.versions.0020_requested_by")
    source: str = amended._function_with_requested_by()
    return source.replace(f"FUNCTION {CURRENT}(", f"FUNCTION {PREVIOUS}(", 1)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def _reading(sku: str, node: Location, now: datetime) -> NodeAvailability:
    return NodeAvailability(
        sku, node, 1_000_000, 0, 2, 999_998, StockStatus.IN_STOCK, SourceSystem.POS,
        now - timedelta(seconds=30), fetched_at=now - timedelta(seconds=5),
    )  # fmt: skip


def reserve_item(skus: int, now: datetime) -> dict:
    """One reserve as the gateway hands it to the function (pg_holds.hold_item)."""
    node = random.choice(NODES)
    chosen = random.sample(SKUS, skus)
    reservation = Reservation(
        f"RSV-{uuid.uuid4().hex[:24]}", ReservationStatus.ACTIVE, node.id, Channel.PICKUP,
        None, (), now, now + timedelta(minutes=15), requested_by="bench",
    )  # fmt: skip
    source = {sku: _reading(sku, node, now) for sku in chosen}
    hold = HoldRequest(reservation, tuple(HoldPlan(s, 1, s, 1) for s in chosen), node, source)
    claim = Claim(f"bench-{uuid.uuid4().hex}", "reserve", uuid.uuid4().hex, reservation.id)
    return hold_item(hold, claim)


async def reset(conn: asyncpg.Connection, seed_holds: int) -> None:
    """The same starting ledger for every run."""
    await conn.execute(
        "TRUNCATE hold, reservation, idempotency_record, stock_guard RESTART IDENTITY CASCADE"
    )
    await conn.execute(
        "INSERT INTO stock_guard (sku, location_id, version) "
        "SELECT s, l, 1 FROM unnest($1::text[]) s, unnest($2::text[]) l",
        SKUS,
        [n.id for n in NODES],
    )
    await conn.execute(
        """
        INSERT INTO reservation (id, status, location_id, channel, created_at, expires_at,
                                 updated_at)
        SELECT 'SEED-' || g, 'ACTIVE', ($2::text[])[1 + g % cardinality($2::text[])], 'PICKUP',
               now(), now() + interval '1 day', now()
        FROM generate_series(1, $1::int) g
        """,
        seed_holds,
        [n.id for n in NODES],
    )
    await conn.execute(
        """
        INSERT INTO hold (reservation_id, line_sku, line_quantity, sku, location_id, quantity)
        SELECT r.id, s.sku, 1, s.sku, r.location_id, 1
        FROM reservation r
        CROSS JOIN LATERAL (SELECT ($1::text[])[1 + (hashtext(r.id) & 65535) % 700] AS sku) s
        """,
        SKUS,
    )
    await conn.execute("VACUUM ANALYZE hold, reservation, idempotency_record, stock_guard")
    await conn.execute("CHECKPOINT")


@dataclass
class Run:
    function: str
    batch: int
    holds: int
    refused: int
    seconds: float
    backend_cpu: float
    walwriter_cpu: float

    def line(self) -> str:
        per_hold = 1e6 / max(self.holds, 1)
        return (
            f"{self.function:<30} batch {self.batch:>3}: {self.holds / self.seconds:8.0f} holds/s"
            f"  backend {self.backend_cpu * per_hold:6.0f} us/hold"
            f"  +walwriter {self.walwriter_cpu * per_hold:4.0f} us/hold"
            f"  refused {self.refused}"
        )


async def measure(dsn: str, function: str, args: argparse.Namespace, batch: int) -> Run:
    conns = [await asyncpg.connect(dsn) for _ in range(args.connections)]
    statement = f"SELECT {function}($1::jsonb, $2, $3)"
    try:
        admin = conns[0]
        await reset(admin, args.seed_holds)
        pids = [await c.fetchval("SELECT pg_backend_pid()") for c in conns]
        walwriter = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'"
        )
        counts = {"held": 0, "refused": 0}

        async def client(conn: asyncpg.Connection, until: float) -> None:
            while time.monotonic() < until:
                now = datetime.now(UTC)
                items = [reserve_item(args.skus, now) for _ in range(batch)]
                answers = json.loads(
                    await conn.fetchval(statement, json.dumps(items), now, now - HORIZON)
                )
                for answer in answers:
                    counts["held" if answer.get("held") else "refused"] += 1

        # Warm up each connection (plans, caches) outside the measurement.
        await asyncio.gather(*(client(c, time.monotonic() + 1.0) for c in conns))
        counts.update(held=0, refused=0)
        before = [cpu_seconds(p) for p in pids]
        wal_before = cpu_seconds(walwriter) if walwriter else 0.0
        started = time.monotonic()
        await asyncio.gather(*(client(c, started + args.seconds) for c in conns))
        elapsed = time.monotonic() - started
        backend = sum(cpu_seconds(p) for p in pids) - sum(before)
        wal = (cpu_seconds(walwriter) - wal_before) if walwriter else 0.0
        return Run(function, batch, counts["held"], counts["refused"], elapsed, backend, wal)
    finally:
        for conn in conns:
            await conn.close()


async def main(args: argparse.Namespace) -> None:
    name, dsn = await create_database(ADMIN_URL)
    try:
        database = Database(create_engine(dsn.replace("postgresql://", "postgresql+asyncpg://")))
        await upgrade(database)
        await database.close()
        functions = [CURRENT]
        if args.compare:
            conn = await asyncpg.connect(dsn)
            await conn.execute(previous_function())
            await conn.close()
            functions = [PREVIOUS, CURRENT]
        results: dict[tuple[str, int], list[Run]] = {}
        for batch in args.batch or [1, 16]:
            for _ in range(args.rounds):
                for function in functions:
                    run = await measure(dsn, function, args, batch)
                    print(run.line(), flush=True)
                    results.setdefault((function, batch), []).append(run)
        print("\nsummary (all rounds pooled)")
        for batch in args.batch or [1, 16]:
            per_hold = {}
            for function in functions:
                runs = results[(function, batch)]
                holds = sum(r.holds for r in runs)
                seconds = sum(r.seconds for r in runs)
                per_hold[function] = 1e6 * sum(r.backend_cpu for r in runs) / max(holds, 1)
                wal = 1e6 * sum(r.walwriter_cpu for r in runs) / max(holds, 1)
                print(
                    f"{function:<30} batch {batch:>3}: {holds / seconds:8.0f} holds/s"
                    f"  backend {per_hold[function]:6.0f} us/hold  +walwriter {wal:4.0f} us/hold"
                )
            if args.compare:
                ratio = per_hold[PREVIOUS] / per_hold[CURRENT]
                print(f"  batch {batch}: previous / current backend CPU per hold = {ratio:.2f}x")
    finally:
        await drop_database(ADMIN_URL, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--batch", type=int, action="append")
    parser.add_argument("--skus", type=int, default=1)
    parser.add_argument("--seed-holds", type=int, default=35_000)
    asyncio.run(main(parser.parse_args()))
