"""Webhook deliveries in the database, on SQLite and PostgreSQL: one row per event
identity (a replay is recognised, also from another unit of work), read back until
processed."""

from __future__ import annotations

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
