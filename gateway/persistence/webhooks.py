"""Webhook deliveries as received (gateway.domain.truth.WebhookEvent): recorded once per
event identity, read back until processed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import SourceSystem
from gateway.domain.events import WebhookEvent
from gateway.persistence.dialect import upsert_insert
from gateway.persistence.tables import WebhookEventRow, table

events = table(WebhookEventRow)


class SqlWebhookEvents:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, event: WebhookEvent) -> bool:
        insert = upsert_insert(self._conn, events).values(
            system=event.system,
            event_key=event.key[:200],
            topic=event.topic[:80],
            body=event.body,
            received_at=event.received_at,
        )
        inserted = await self._conn.execute(
            insert.on_conflict_do_nothing(index_elements=["system", "event_key"]).returning(
                events.c.id
            )
        )
        return inserted.first() is not None

    async def record_many(self, batch: Sequence[WebhookEvent]) -> set[tuple[SourceSystem, str]]:
        """Record these in one statement; the (system, key) of those recorded now (the
        others were recorded before, or are a second copy within ``batch``)."""
        if not batch:
            return set()
        insert = upsert_insert(self._conn, events).values(
            [
                {
                    "system": event.system,
                    "event_key": event.key[:200],
                    "topic": event.topic[:80],
                    "body": event.body,
                    "received_at": event.received_at,
                }
                for event in batch
            ]
        )
        inserted = await self._conn.execute(
            insert.on_conflict_do_nothing(index_elements=["system", "event_key"]).returning(
                events.c.system, events.c.event_key
            )
        )
        return {(SourceSystem(row.system), row.event_key) for row in inserted}

    async def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[WebhookEvent]:
        """Events not processed and not claimed by another process (or whose claim ran out),
        oldest first, claimed until ``now + lease``."""
        free = or_(events.c.lease_until.is_(None), events.c.lease_until <= now)
        candidates = (
            select(events.c.id)
            .where(events.c.processed_at.is_(None), free)
            .order_by(events.c.id)
            .limit(limit)
        )
        if self._conn.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=events)
        ids = [r.id for r in await self._conn.execute(candidates)]
        if not ids:
            return []
        rows = await self._conn.execute(
            update(events)
            .where(events.c.id.in_(ids))
            .values(lease_until=now + lease)
            .returning(*events.c)
        )
        return sorted((_event(r) for r in rows), key=lambda e: e.id or 0)

    async def mark_processed(self, event_id: int, at: datetime, outcome: str) -> None:
        await self._conn.execute(
            update(events)
            .where(events.c.id == event_id)
            .values(processed_at=at, outcome=outcome[:500], lease_until=None)
        )


def _event(r: Any) -> WebhookEvent:
    return WebhookEvent(
        SourceSystem(r.system),
        r.event_key,
        r.topic,
        r.body,
        r.received_at,
        r.id,
        r.processed_at,
        r.outcome,
    )
