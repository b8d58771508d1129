"""Idempotency records: one per key, naming the request that first used it.

``claim`` runs first in a mutation's transaction. Two requests with one key race on the
primary key; the second waits for the first to commit (PostgreSQL) or for the write lock
(SQLite) and then sees its record, so exactly one of them does the work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain.idempotency import Claim, FirstUse
from gateway.persistence.dialect import upsert_insert
from gateway.persistence.tables import IdempotencyRow, table

records = table(IdempotencyRow)


class SqlIdempotency:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, claim: Claim, now: datetime) -> FirstUse | None:
        statement = (
            upsert_insert(self._conn, records)
            .values(
                key=claim.key,
                operation=claim.operation,
                request_hash=claim.fingerprint,
                resource_id=claim.resource_id,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(records.c.key)
        )
        if (await self._conn.execute(statement)).first() is not None:
            return None
        return await self.first_use(claim.key)

    async def first_use(self, key: str) -> FirstUse | None:
        row = (
            await self._conn.execute(
                select(records.c.operation, records.c.request_hash, records.c.resource_id).where(
                    records.c.key == key
                )
            )
        ).first()
        return None if row is None else FirstUse(row.resource_id, row.operation, row.request_hash)
