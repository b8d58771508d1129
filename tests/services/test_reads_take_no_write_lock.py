"""On SQLite a transaction that may write begins with BEGIN IMMEDIATE and waits for the
write lock; what only reads must not, or every read queues behind every hold and order,
and SQLite's busy handler sleeps in growing steps (the checkout promise's p99 was 2 s under
16 clients). Given a writer holding the lock, the reads a request makes answer at once."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from gateway.domain import GeoPoint
from gateway.domain.reservations import ReservationLine
from gateway.errors import NotFound
from gateway.services.fulfillment import PlanQuery


async def test_reads_answer_while_a_writer_holds_the_sqlite_write_lock(make_world) -> None:
    world = await make_world()
    services = world.services
    path = world.db.engine.url.database
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the write lock, held for the whole test
    try:
        plan = PlanQuery(lines=(ReservationLine("SHOE-42", 1),), destination=GeoPoint(52.5, 13.4))
        reads = [
            services.fulfillment.plan(plan),
            services.orders.routing_decisions(["o-1"]),
            services.returns.of_orders(["o-1"]),
            services.outbox.for_order("o-1"),
            services.outbox.failures(10),
        ]
        async with asyncio.timeout(2):
            await asyncio.gather(*reads)
            with pytest.raises(NotFound):
                await services.orders.get("o-1")
            with pytest.raises(NotFound):
                await services.reservations.get("res-1")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
