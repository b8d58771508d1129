"""Taking holds on SQLite (the embedded database): the ledger rule in Python.

SQLite serialises writers, and every transaction takes the write lock when it begins
(gateway.persistence.database), so the figures checked here cannot change before the holds
are written. The guard rows are still written, as on PostgreSQL, so both databases hold
the same records.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain.ledger import shortfalls
from gateway.domain.reservations import HoldRequest, needed_by_sku
from gateway.errors import InsufficientStock
from gateway.persistence.reservations import insert_reservation, ledger_entries, lock_positions


class SqliteHoldTaker:
    def __init__(self, conn: AsyncConnection, *, horizon: timedelta) -> None:
        self._conn = conn
        self._horizon = horizon

    async def take(self, hold: HoldRequest, *, now: datetime) -> None:
        needed = needed_by_sku(hold.plans)
        location = hold.location
        await lock_positions(self._conn, ((sku, location.id) for sku in needed))
        entries = await ledger_entries(
            self._conn,
            sorted(needed),
            now=now,
            applied_after=now - self._horizon,
            location_ids=[location.id],
        )
        short = shortfalls(needed, hold.source, entries, location)
        if short:
            raise insufficient(location.name, short)
        await insert_reservation(self._conn, hold.reservation, hold.plans, now)


def insufficient(location_name: str, short: list[dict[str, object]]) -> InsufficientStock:
    names = ", ".join(f"{s['sku']} ({s['available']} available)" for s in short)
    return InsufficientStock(f"Not enough stock at {location_name}: {names}", shortfalls=short)
