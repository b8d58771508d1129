"""Recorded cycle counts, with their lines."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Money
from gateway.domain.cycle_counts import CountedLine, CountOutcome, Reckoning, RecordedCount
from gateway.persistence.tables import CycleCountLineRow, CycleCountRow, table

counts = table(CycleCountRow)
lines = table(CycleCountLineRow)


class SqlCycleCounts:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, count: RecordedCount) -> None:
        await self._conn.execute(
            insert(counts).values(
                id=count.id,
                location_id=count.location_id,
                counted_at=count.counted_at,
                counted_by=count.counted_by,
                recorded_at=count.recorded_at,
            )
        )
        rows = []
        for line in count.lines:
            cost = line.unit_cost
            rows.append(
                {
                    "count_id": count.id,
                    "sku": line.sku,
                    "counted": line.counted,
                    "book_at_count": line.reckoning.book_at_count,
                    "variance": line.reckoning.variance,
                    "outcome": line.reckoning.outcome.value,
                    "corrected_to": line.reckoning.corrected_to,
                    "unit_cost_minor": None if cost is None else cost.to_minor(),
                    "cost_currency": None if cost is None else cost.currency,
                    "discrepancy_id": line.discrepancy_id,
                }
            )
        await self._conn.execute(insert(lines), rows)

    async def get(self, count_id: str) -> RecordedCount | None:
        found = await self._read(select(counts).where(counts.c.id == count_id))
        return found[0] if found else None

    async def between(
        self, location_id: str, start: datetime, end: datetime
    ) -> list[RecordedCount]:
        """The node's counts taken in [start, end), oldest first."""
        return await self._read(
            select(counts)
            .where(
                counts.c.location_id == location_id,
                counts.c.counted_at >= start,
                counts.c.counted_at < end,
            )
            .order_by(counts.c.counted_at, counts.c.id)
        )

    async def _read(self, statement: Select[Any]) -> list[RecordedCount]:
        headers = (await self._conn.execute(statement)).all()
        if not headers:
            return []
        ids = [h.id for h in headers]
        rows = await self._conn.execute(
            select(lines).where(lines.c.count_id.in_(ids)).order_by(lines.c.sku)
        )
        by_count: dict[str, list[CountedLine]] = defaultdict(list)
        for r in rows:
            cost = (
                None
                if r.unit_cost_minor is None
                else Money.from_minor(r.unit_cost_minor, str(r.cost_currency))
            )
            reckoning = Reckoning(
                CountOutcome(r.outcome), r.book_at_count, r.variance, r.corrected_to
            )
            by_count[r.count_id].append(
                CountedLine(r.sku, r.counted, reckoning, cost, r.discrepancy_id)
            )
        return [
            RecordedCount(
                h.id,
                h.location_id,
                h.counted_at,
                h.counted_by,
                h.recorded_at,
                tuple(by_count[h.id]),
            )
            for h in headers
        ]
