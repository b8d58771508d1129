"""The unit of work over SQLAlchemy: one connection, one transaction, one repository per
aggregate, committed only when asked (gateway.ports.storage)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction

from gateway.persistence.database import Database
from gateway.persistence.idempotency import SqlIdempotency
from gateway.persistence.orders import SqlOrders
from gateway.persistence.outbox import SqlOutbox
from gateway.persistence.reservations import SqlReservations
from gateway.persistence.returns import SqlReturns
from gateway.persistence.routing import SqlRoutingDecisions
from gateway.persistence.store_counts import SqlStoreCounts
from gateway.persistence.truth import SqlAuditLog, SqlDiscrepancies, SqlObservations
from gateway.ports.storage import HoldTaker

# Builds the hold taker of one transaction (sqlite_holds or pg_holds).
HoldTakerFactory = Callable[[AsyncConnection], HoldTaker]


class SqlUnitOfWork:
    def __init__(
        self, conn: AsyncConnection, transaction: AsyncTransaction, holds: HoldTakerFactory
    ) -> None:
        self._transaction = transaction
        self.idempotency = SqlIdempotency(conn)
        self.holds = holds(conn)
        self.reservations = SqlReservations(conn)
        self.orders = SqlOrders(conn)
        self.returns = SqlReturns(conn)
        self.routing = SqlRoutingDecisions(conn)
        self.outbox = SqlOutbox(conn)
        self.discrepancies = SqlDiscrepancies(conn)
        self.audit = SqlAuditLog(conn)
        self.observations = SqlObservations(conn)
        self.store_counts = SqlStoreCounts(conn)

    async def commit(self) -> None:
        await self._transaction.commit()


class SqlStorage:
    """Opens units of work on one database, with the hold taker the composition root chose
    for it."""

    def __init__(self, db: Database, holds: HoldTakerFactory) -> None:
        self._db = db
        self._holds = holds

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[SqlUnitOfWork]:
        async with self._db.engine.connect() as conn:
            transaction = await conn.begin()
            try:
                yield SqlUnitOfWork(conn, transaction, self._holds)
            finally:
                # Not committed (an error, or a read): nothing of it stays.
                if transaction.is_active:
                    await transaction.rollback()
