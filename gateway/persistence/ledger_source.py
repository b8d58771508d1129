"""The ledger as the availability service reads it: straight from the database, every
request, so a hold taken by any gateway process is visible to the next reader."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from gateway.domain.reservations import LedgerEntry
from gateway.persistence.database import READ_ONLY, Database
from gateway.persistence.reservations import ledger_entries
from gateway.ports import Clock


class DatabaseLedger:
    def __init__(self, db: Database, clock: Clock, horizon: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._horizon = horizon

    async def entries(self, skus: Sequence[str]) -> list[LedgerEntry]:
        if not skus:
            return []
        now = self._clock.now()
        reads = self._db.ledger_reads
        if reads is not None:
            return await reads.entries(skus, now=now, applied_after=now - self._horizon)
        async with self._db.engine.connect() as conn:
            # A read: on SQLite, not behind the write lock every hold and page takes.
            await conn.execution_options(**{READ_ONLY: True})
            return await ledger_entries(
                conn, list(skus), now=now, applied_after=now - self._horizon
            )
