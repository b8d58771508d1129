"""The reconciler's copy of the stores' counts (gateway.ports.storage.StoreCounts)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import SourceSystem, StockReading, StoreSum
from gateway.persistence.dialect import upsert_insert
from gateway.persistence.tables import StoreCountRow, StoreCountSkuRow, SyncMarkRow, table
from gateway.ports.storage import SyncMark

counts = table(StoreCountRow)
skus_read = table(StoreCountSkuRow)
marks = table(SyncMarkRow)
# SQLite allows 32,766 bound parameters a statement; PostgreSQL 32,767.
_ROWS_PER_INSERT = 4000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class SqlStoreCounts:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of(
        self, skus: Sequence[str], *, read_since: datetime, one_by_one: Collection[str]
    ) -> tuple[dict[str, list[StockReading]], dict[str, StoreSum]]:
        if not skus:
            return {}, {}
        read = await self._conn.execute(
            select(
                skus_read.c.sku,
                skus_read.c.available,
                skus_read.c.on_hand,
                skus_read.c.as_of_us,
                skus_read.c.counts_kept,
                skus_read.c.read_at,
            ).where(skus_read.c.sku.in_(list(skus)), skus_read.c.read_at >= read_since)
        )
        moments: dict[int, datetime] = {}  # counts often share a calculated_at
        found: dict[str, list[StockReading]] = {}
        read_at: dict[str, datetime] = {}
        sums: dict[str, StoreSum] = {}
        for sku, available, on_hand, as_of_us, counts_kept, sku_read_at in read:
            if sku in one_by_one:
                if counts_kept:  # else only its sum is kept: read it again
                    found[sku] = []
                    read_at[sku] = sku_read_at
            else:
                as_of = None if as_of_us is None else _moment(as_of_us, moments)
                sums[sku] = StoreSum(available, on_hand, as_of)
        if not found:
            return found, sums
        rows = await self._conn.execute(
            select(
                counts.c.sku,
                counts.c.location_ref,
                counts.c.on_hand,
                counts.c.reserved,
                counts.c.incoming,
                counts.c.as_of_us,
            ).where(counts.c.sku.in_(list(found)))
        )
        pos = SourceSystem.POS
        for sku, location_ref, on_hand, reserved, incoming, as_of_us in rows:
            as_of = _moment(as_of_us, moments)
            # Fetched when its SKU was read: a hold Square took over after that is not in it.
            found[sku].append(
                StockReading(
                    sku,
                    pos,
                    location_ref,
                    on_hand,
                    reserved,
                    as_of,
                    incoming,
                    fetched_at=read_at[sku],
                )
            )
        return found, sums

    async def replace(
        self,
        readings: Mapping[str, Sequence[StockReading]],
        sums: Mapping[str, StoreSum],
        variation_ids: Mapping[str, str | None],
        read_at: datetime,
    ) -> None:
        if not sums:
            return
        # In one order (SKU, then store) in every transaction: two pages keeping one kit
        # component's counts at once then wait for each other instead of deadlocking, and
        # the second's upsert replaces what the first wrote.
        skus = sorted(sums)
        for start in range(0, len(skus), _ROWS_PER_INSERT):
            chunk = skus[start : start + _ROWS_PER_INSERT]
            await self._conn.execute(delete(counts).where(counts.c.sku.in_(chunk)))
        rows = [
            {
                "sku": sku,
                "location_ref": r.location_ref,
                "on_hand": r.on_hand,
                "reserved": r.reserved,
                "incoming": r.incoming,
                "as_of_us": _micros(r.as_of),
            }
            for sku in sorted(readings)
            for r in sorted(readings[sku], key=lambda reading: reading.location_ref)
        ]
        keep_counts = upsert_insert(self._conn, counts)
        keep_counts = keep_counts.on_conflict_do_update(
            index_elements=["sku", "location_ref"],
            set_={
                column: getattr(keep_counts.excluded, column)
                for column in ("on_hand", "reserved", "incoming", "as_of_us")
            },
        )
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            await self._conn.execute(keep_counts, rows[start : start + _ROWS_PER_INSERT])
        statement = upsert_insert(self._conn, skus_read)
        statement = statement.on_conflict_do_update(
            index_elements=["sku"],
            set_={
                column: getattr(statement.excluded, column)
                for column in (
                    "variation_id",
                    "read_at",
                    "available",
                    "on_hand",
                    "as_of_us",
                    "counts_kept",
                )
            },
        )
        rows = []
        for sku in skus:
            summed = sums[sku]
            rows.append(
                {
                    "sku": sku,
                    "variation_id": variation_ids.get(sku),
                    "read_at": read_at,
                    "available": summed.available,
                    "on_hand": summed.on_hand,
                    "as_of_us": None if summed.as_of is None else _micros(summed.as_of),
                    "counts_kept": sku in readings,
                }
            )
        await self._conn.execute(statement, rows)

    async def skus_of(self, variation_ids: Collection[str]) -> set[str]:
        if not variation_ids:
            return set()
        wanted = list(variation_ids)
        found: set[str] = set()
        for start in range(0, len(wanted), _ROWS_PER_INSERT):
            rows = await self._conn.execute(
                select(skus_read.c.sku).where(
                    skus_read.c.variation_id.in_(wanted[start : start + _ROWS_PER_INSERT])
                )
            )
            found.update(row.sku for row in rows)
        return found

    async def forget(self, skus: Collection[str] | None = None) -> None:
        if skus is None:
            await self._conn.execute(delete(counts))
            await self._conn.execute(delete(skus_read))
            return
        wanted = list(skus)
        for start in range(0, len(wanted), _ROWS_PER_INSERT):
            chunk = wanted[start : start + _ROWS_PER_INSERT]
            await self._conn.execute(delete(counts).where(counts.c.sku.in_(chunk)))
            await self._conn.execute(delete(skus_read).where(skus_read.c.sku.in_(chunk)))

    async def mark(self, name: str) -> SyncMark | None:
        row = (await self._conn.execute(select(marks).where(marks.c.name == name))).first()
        return None if row is None else SyncMark(row.at, row.fingerprint)

    async def set_mark(self, name: str, mark: SyncMark) -> None:
        statement = upsert_insert(self._conn, marks)
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"at": statement.excluded.at, "fingerprint": statement.excluded.fingerprint},
        )
        await self._conn.execute(
            statement, [{"name": name, "at": mark.at, "fingerprint": mark.fingerprint}]
        )


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _moment(micros: int, seen: dict[int, datetime]) -> datetime:
    moment = seen.get(micros)
    if moment is None:
        moment = seen[micros] = _EPOCH + timedelta(microseconds=micros)
    return moment
