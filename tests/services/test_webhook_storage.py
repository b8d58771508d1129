"""Webhook deliveries in the database, on SQLite and PostgreSQL: one row per event
identity (a replay is recognised, also from another unit of work), read back until
processed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gateway.domain import SourceSystem
from gateway.domain.events import WebhookEvent

LEASE = timedelta(seconds=30)


async def test_an_event_is_recorded_once_and_due_until_processed(world):
    now = world.clock.now()
    event = WebhookEvent(SourceSystem.OMS, "evt-1", "orders/create", '{"id": 1}', now)
    async with world.uow() as uow:
        assert await uow.webhooks.record(event) is True
        await uow.commit()
    async with world.uow() as uow:  # a retry, later, through another connection
        assert await uow.webhooks.record(event) is False
        # The same id from another backend is another event.
        assert await uow.webhooks.record(
            WebhookEvent(SourceSystem.POS, "evt-1", "inventory.count.updated", "{}", now)
        )
        await uow.commit()
    async with world.uow() as uow:
        due = await uow.webhooks.claim_due(now=now, lease=LEASE, limit=10)
        assert [(e.system, e.key) for e in due] == [
            (SourceSystem.OMS, "evt-1"),
            (SourceSystem.POS, "evt-1"),
        ]
        await uow.webhooks.mark_processed(due[0].id, now, "order followed")
        await uow.commit()
    async with world.uow() as uow:
        # Claimed by that process: not due to another until the claim runs out,
        assert await uow.webhooks.claim_due(now=now, lease=LEASE, limit=10) == []
        later = now + LEASE
        # then the one not processed is taken again (its process died).
        again = await uow.webhooks.claim_due(now=later, lease=LEASE, limit=10)
        assert [(e.system, e.key) for e in again] == [(SourceSystem.POS, "evt-1")]


async def test_a_burst_is_recorded_a_batch_at_a_time_each_answered_as_if_alone(world):
    from gateway.events.group_commit import GroupCommit

    now = world.clock.now()
    transactions = 0

    def counting(**kwargs):
        nonlocal transactions
        transactions += 1
        return world.uow(**kwargs)

    def event(key: str) -> WebhookEvent:
        return WebhookEvent(SourceSystem.POS, key, "inventory.count.updated", "{}", now)

    async with world.uow() as uow:  # recorded before the burst (a retry of it is a replay)
        await uow.webhooks.record(event("evt-old"))
        await uow.commit()
    records = GroupCommit(counting, max_batch=20)
    keys = [f"evt-{n}" for n in range(50)] + ["evt-7", "evt-old"]  # a copy within the burst

    answers = await asyncio.gather(*(records.record(event(k)) for k in keys))

    assert answers == [True] * 50 + [False, False]
    assert transactions < len(keys) / 5  # a batch at a time, not one each
    async with world.uow() as uow:
        due = await uow.webhooks.claim_due(now=now, lease=LEASE, limit=100)
    assert sorted(e.key for e in due) == sorted({*keys})
