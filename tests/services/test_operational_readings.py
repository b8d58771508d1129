"""What ``/metrics`` reads of the database on each scrape, on SQLite and PostgreSQL: the
outbox's unsettled writes by backend and state with the oldest one's age, and the open
discrepancies by kind with the overdue among them."""

from __future__ import annotations

from datetime import timedelta

from gateway.config import TruthSettings
from gateway.domain import SourceSystem
from gateway.domain.outbox import DeliveryStatus
from gateway.domain.truth import DiscrepancyKind, Resolution, Severity
from gateway.ports.storage import OpenTally
from gateway.truth import queue
from tests.services.test_outbox_worker import confirmed_hold, refused
from tests.services.test_truth_storage import finding

POLICY = TruthSettings()


async def test_the_backlog_counts_pending_and_dead_writes_with_the_oldest_of_each(world):
    # Given a write the ERP refused (dead-lettered at once) made first,
    world.erp.writes.fail(refused(), times=1)
    await confirmed_hold(world, quantity=1)
    refused_at = world.clock.now()
    await world.services.worker.drain()
    # and two writes still owed, made two and five minutes later (no worker ran since),
    world.clock.advance(120)
    owed_from = world.clock.now()
    await confirmed_hold(world, quantity=2)
    world.clock.advance(180)
    await confirmed_hold(world, quantity=3)

    backlog = {(b.target, b.status): b for b in await world.services.outbox.backlog()}

    dead = backlog[(SourceSystem.ERP, DeliveryStatus.DEAD)]
    pending = backlog[(SourceSystem.ERP, DeliveryStatus.PENDING)]
    assert (dead.messages, dead.oldest_created_at) == (1, refused_at)
    assert (pending.messages, pending.oldest_created_at) == (2, owed_from)
    # Delivered writes are never counted: the backlog is only what is still owed.
    assert all(status is not DeliveryStatus.DELIVERED for _, status in backlog)


async def test_open_discrepancies_are_counted_by_kind_with_the_overdue_among_them(world):
    now = world.clock.now()
    long_ago = now - timedelta(days=10)  # due long since
    records = [
        queue.opened(finding("SKU-1"), "dsc_1", long_ago, POLICY),
        queue.opened(finding("SKU-2"), "dsc_2", now, POLICY),
        queue.opened(
            finding("SKU-3", kind=DiscrepancyKind.LOST_SALES, copy="1"), "dsc_3", now, POLICY
        ),
        queue.opened(finding("SKU-4", severity=Severity.HIGH), "dsc_4", long_ago, POLICY),
    ]
    # An acknowledged one is still open; a resolved one is not.
    records[1] = queue.acknowledged(records[1], now, "kim", "on it")
    records[3] = queue.resolved(records[3], Resolution.FIXED, now, "kim", None)
    async with world.uow() as uow:
        await uow.discrepancies.add(records)
        await uow.commit()

    assert await world.services.truth.open_by_kind() == {
        DiscrepancyKind.OVERSELL_RISK: OpenTally(open=2, overdue=1),
        DiscrepancyKind.LOST_SALES: OpenTally(open=1, overdue=0),
    }
