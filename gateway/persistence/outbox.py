"""The transactional outbox: writes owed to backends, stored with the change that owes them.

States: PENDING -> IN_FLIGHT (leased to one worker) -> DELIVERED, or back to PENDING with a
later ``next_attempt_at`` after a failure, or DEAD once the retry budget is spent. A worker
that dies holding a lease loses it when the lease runs out, and the message is delivered
again; the backend's idempotency key (``reference``) makes that second delivery a no-op.
Messages sharing an ``ordering_key`` (one order, one reservation) go out in id order: a
Sales Order is never cancelled before it was posted. One that is DEAD holds the rest of its
key back until it is retried or SKIPPED.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from gateway.domain import SourceSystem
from gateway.domain.acting import requested_by
from gateway.domain.outbox import (
    SETTLED,
    Delivery,
    DeliveryStatus,
    OutboxMessage,
    WriteResult,
    read_message,
)
from gateway.persistence.tables import OutboxRow, table
from gateway.ports.storage import OutboxBacklog

outbox = table(OutboxRow)


class SqlOutbox:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._owed = 0

    @property
    def owed(self) -> int:
        return self._owed

    async def add(self, messages: Sequence[OutboxMessage], now: datetime) -> None:
        if not messages:
            return
        await self._conn.execute(
            insert(outbox),
            [
                {
                    "ordering_key": m.ordering_key,
                    "target": m.target,
                    "operation": m.kind,
                    "reference": m.reference,
                    "payload": m.payload(),
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "requested_by": requested_by(),
                }
                for m in messages
            ],
        )
        self._owed += len(messages)

    async def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
        earlier = aliased(outbox)
        blocked = exists().where(
            earlier.c.ordering_key == outbox.c.ordering_key,
            earlier.c.id < outbox.c.id,
            earlier.c.status.not_in(list(SETTLED)),
        )
        due = or_(
            and_(outbox.c.status == DeliveryStatus.PENDING, outbox.c.next_attempt_at <= now),
            and_(outbox.c.status == DeliveryStatus.IN_FLIGHT, outbox.c.lease_until <= now),
        )
        candidates = select(outbox.c.id).where(due, ~blocked).order_by(outbox.c.id).limit(limit)
        if self._conn.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=outbox)
        ids = [r.id for r in await self._conn.execute(candidates)]
        if not ids:
            return []
        rows = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(
                status=DeliveryStatus.IN_FLIGHT,
                lease_until=now + lease,
                attempts=outbox.c.attempts + 1,
            )
            .returning(*outbox.c)
        )
        return sorted((_delivery(r) for r in rows), key=lambda d: d.id)

    async def mark_delivered(self, delivery_id: int, result: WriteResult, now: datetime) -> None:
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == delivery_id)
            .values(
                status=DeliveryStatus.DELIVERED,
                delivered_at=now,
                lease_until=None,
                last_error=None,
                result=result.model_dump(mode="json"),
            )
        )

    async def mark_failed(self, delivery_id: int, error: str, *, retry_at: datetime | None) -> None:
        # Only a message still in flight is marked: a worker whose lease ran out while it
        # waited for a slow backend must not turn a delivery another worker completed
        # meanwhile back into a pending or dead one.
        values: dict[str, Any] = {"last_error": error[:2000], "lease_until": None}
        if retry_at is None:
            values["status"] = DeliveryStatus.DEAD
        else:
            values["status"] = DeliveryStatus.PENDING
            values["next_attempt_at"] = retry_at
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == delivery_id, outbox.c.status == DeliveryStatus.IN_FLIGHT)
            .values(**values)
        )

    async def revive(self, delivery_id: int, now: datetime) -> Delivery | None:
        rows = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == delivery_id, outbox.c.status == DeliveryStatus.DEAD)
            .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now)
            .returning(*outbox.c)
        )
        row = rows.first()
        if row is None:
            return None
        self._owed += 1
        return _delivery(row)

    async def skip(self, delivery_id: int, reason: str, now: datetime) -> Delivery | None:
        rows = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == delivery_id, outbox.c.status == DeliveryStatus.DEAD)
            .values(status=DeliveryStatus.SKIPPED, last_error=f"skipped: {reason}"[:2000])
            .returning(*outbox.c)
        )
        row = rows.first()
        if row is None:
            return None
        self._owed += 1  # the writes behind it are due now: wake the worker
        return _delivery(row)

    async def for_keys(self, ordering_keys: Sequence[str]) -> list[Delivery]:
        if not ordering_keys:
            return []
        rows = await self._conn.execute(
            select(outbox)
            .where(outbox.c.ordering_key.in_(list(ordering_keys)))
            .order_by(outbox.c.id)
        )
        return [_delivery(r) for r in rows]

    async def get(self, delivery_id: int) -> Delivery | None:
        query = select(outbox).where(outbox.c.id == delivery_id)
        row = (await self._conn.execute(query)).first()
        return None if row is None else _delivery(row)

    async def result_of(self, reference: str) -> dict[str, Any] | None:
        query = select(outbox.c.result).where(
            outbox.c.reference == reference, outbox.c.status == DeliveryStatus.DELIVERED
        )
        row = (await self._conn.execute(query)).first()
        return None if row is None else row.result

    async def dead(self, *, limit: int, ordering_key: str | None = None) -> list[Delivery]:
        query = select(outbox).where(outbox.c.status == DeliveryStatus.DEAD)
        if ordering_key is not None:
            query = query.where(outbox.c.ordering_key == ordering_key)
        rows = await self._conn.execute(query.order_by(outbox.c.id.desc()).limit(limit))
        return [_delivery(r) for r in rows]

    async def delivered(self, kind: str) -> list[tuple[Delivery, dict[str, Any]]]:
        rows = await self._conn.execute(
            select(outbox).where(
                outbox.c.operation == kind, outbox.c.status == DeliveryStatus.DELIVERED
            )
        )
        return [(_delivery(r), r.result or {}) for r in rows]

    async def undelivered(self, kind: str, *, ids: Sequence[int] | None = None) -> list[Delivery]:
        query = select(outbox).where(
            outbox.c.operation == kind,
            outbox.c.status.in_([DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT]),
        )
        if ids is not None:
            query = query.where(outbox.c.id.in_(ids))
        return [_delivery(r) for r in await self._conn.execute(query)]

    async def undelivered_ids(self, kind: str) -> list[int]:
        rows = await self._conn.execute(
            select(outbox.c.id).where(
                outbox.c.operation == kind,
                outbox.c.status.in_([DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT]),
            )
        )
        return [r.id for r in rows]

    async def backlog(self) -> list[OutboxBacklog]:
        # Delivered and skipped rows are most of the table and never read here: the status
        # index (ix_outbox_due) narrows the count to the unsettled ones.
        unsettled = [DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT, DeliveryStatus.DEAD]
        rows = await self._conn.execute(
            select(outbox.c.target, outbox.c.status, func.count(), func.min(outbox.c.created_at))
            .where(outbox.c.status.in_(unsettled))
            .group_by(outbox.c.target, outbox.c.status)
        )
        return [
            OutboxBacklog(SourceSystem(target), DeliveryStatus(status), count, oldest)
            for target, status, count, oldest in rows
        ]

    async def for_key(self, ordering_key: str) -> list[Delivery]:
        rows = await self._conn.execute(
            select(outbox).where(outbox.c.ordering_key == ordering_key).order_by(outbox.c.id)
        )
        return [_delivery(r) for r in rows]


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        message=read_message(
            SourceSystem(row.target), row.operation, row.ordering_key, row.reference, row.payload
        ),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        requested_by=row.requested_by,
    )
