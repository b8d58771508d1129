"""Internal barcodes as assigned: which item each code was given to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.persistence.dialect import upsert_insert
from gateway.persistence.tables import AssignedBarcodeRow, table

assigned = table(AssignedBarcodeRow)


class SqlAssignedBarcodes:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, code: str, sku: str, now: datetime) -> str:
        """Give ``code`` to ``sku`` unless it was given before; the item it belongs to. Two
        processes giving one code race on the primary key: the second waits for the first to
        commit (PostgreSQL) or for the write lock (SQLite), then sees its row."""
        statement = (
            upsert_insert(self._conn, assigned)
            .values(code=code, sku=sku, assigned_at=now)
            .on_conflict_do_nothing(index_elements=["code"])
            .returning(assigned.c.sku)
        )
        if (await self._conn.execute(statement)).first() is not None:
            return sku
        return await self.holder(code) or sku

    async def holder(self, code: str) -> str | None:
        row = (
            await self._conn.execute(select(assigned.c.sku).where(assigned.c.code == code))
        ).first()
        return None if row is None else str(row.sku)

    async def of_sku(self, sku: str) -> list[str]:
        rows = await self._conn.execute(
            select(assigned.c.code).where(assigned.c.sku == sku).order_by(assigned.c.assigned_at)
        )
        return [str(r.code) for r in rows]
