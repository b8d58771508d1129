"""Webhook deliveries as received (gateway.domain.truth.WebhookEvent): recorded once per
event identity, read back until processed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
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

    async def due(self, limit: int) -> list[WebhookEvent]:
        rows = await self._conn.execute(
            select(events).where(events.c.processed_at.is_(None)).order_by(events.c.id).limit(limit)
        )
        return [_event(r) for r in rows]

    async def mark_processed(self, event_id: int, at: datetime, outcome: str) -> None:
        await self._conn.execute(
            update(events)
            .where(events.c.id == event_id)
            .values(processed_at=at, outcome=outcome[:500])
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
