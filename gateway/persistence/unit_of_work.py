"""The unit of work over SQLAlchemy: one connection, one transaction, one repository per
aggregate, committed only when asked (gateway.ports.storage)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction

from gateway.domain.events import Change
from gateway.persistence.api_keys import SqlApiKeys
from gateway.persistence.cycle_counts import SqlCycleCounts
from gateway.persistence.database import READ_ONLY, Database
from gateway.persistence.idempotency import SqlIdempotency
from gateway.persistence.item_barcodes import SqlAssignedBarcodes
from gateway.persistence.orders import SqlOrders
from gateway.persistence.outbox import SqlOutbox
from gateway.persistence.reservations import SqlReservations
from gateway.persistence.returns import SqlReturns
from gateway.persistence.routing import SqlRoutingDecisions
from gateway.persistence.store_counts import SqlStoreCounts
from gateway.persistence.substitutions import SqlSubstitutions
from gateway.persistence.truth import SqlAuditLog, SqlDiscrepancies, SqlObservations
from gateway.persistence.webhooks import SqlWebhookEvents
from gateway.ports.storage import HoldTaker

# Builds the hold taker of one transaction (sqlite_holds or pg_holds).
HoldTakerFactory = Callable[[AsyncConnection], HoldTaker]
# Told what a committed unit of work changed (orders moved, discrepancies opened).
Published = Callable[[Sequence[Change]], None]


class SqlUnitOfWork:
    def __init__(
        self,
        conn: AsyncConnection,
        transaction: AsyncTransaction,
        holds: HoldTakerFactory,
        *,
        read_only: bool = False,
        published: Published | None = None,
    ) -> None:
        self._transaction = transaction
        self._read_only = read_only
        self._published = published
        self._news: list[Change] = []
        self.idempotency = SqlIdempotency(conn)
        self.holds = holds(conn)
        self.reservations = SqlReservations(conn)
        self.orders = SqlOrders(conn, self._news)
        self.returns = SqlReturns(conn)
        self.routing = SqlRoutingDecisions(conn)
        self.outbox = SqlOutbox(conn)
        self.discrepancies = SqlDiscrepancies(conn, self._news)
        self.audit = SqlAuditLog(conn)
        self.observations = SqlObservations(conn)
        self.store_counts = SqlStoreCounts(conn)
        self.webhooks = SqlWebhookEvents(conn)
        self.api_keys = SqlApiKeys(conn)
        self.barcodes = SqlAssignedBarcodes(conn)
        self.counts = SqlCycleCounts(conn)
        self.substitutions = SqlSubstitutions(conn)

    async def commit(self) -> None:
        if self._read_only:
            # On SQLite it did not take the write lock: a write in it could fail on a lock
            # it cannot wait for. Refused, so the mistake shows in the first test.
            raise RuntimeError("a read-only unit of work cannot commit")
        await self._transaction.commit()
        news, self._news[:] = list(self._news), []
        if news and self._published is not None:
            self._published(news)


class SqlStorage:
    """Opens units of work on one database, with the hold taker the composition root chose
    for it."""

    def __init__(
        self, db: Database, holds: HoldTakerFactory, published: Published | None = None
    ) -> None:
        self._db = db
        self._holds = holds
        self._published = published

    @asynccontextmanager
    async def unit_of_work(self, *, read_only: bool = False) -> AsyncIterator[SqlUnitOfWork]:
        async with self._db.engine.connect() as conn:
            if read_only:
                await conn.execution_options(**{READ_ONLY: True})
            transaction = await conn.begin()
            try:
                yield SqlUnitOfWork(
                    conn, transaction, self._holds, read_only=read_only, published=self._published
                )
            finally:
                # Not committed (an error, or a read): nothing of it stays.
                if transaction.is_active:
                    await transaction.rollback()
