"""The engine and transactions.

``Database.transaction()`` yields an ``AsyncConnection`` inside one transaction that commits
when the block ends and rolls back if it raises: a business change and the outbox messages
it owes are written together or not at all.

SQLite (the embedded default) serialises writers. Every transaction that may write starts
with ``BEGIN IMMEDIATE`` so it takes the write lock up front; a deferred transaction that
reads and then writes can deadlock with another doing the same, which SQLite reports as
"database is locked" instead of waiting. A connection with the ``READ_ONLY`` execution
option begins a deferred transaction instead: in WAL mode it reads a snapshot while a writer
works, and it never writes (the unit of work refuses to commit it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from opentelemetry.trace import Tracer
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

# Execution option of a connection whose transactions only read (see above).
READ_ONLY = "gateway_read_only"


def async_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite://) and name the
    async driver this project uses for each."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = async_url(url)
    # Database errors are logged without their parameters: they carry customers' e-mail
    # addresses and names.
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _immediate_transactions(engine)
        return engine
    # A fixed pool: connections opened past pool_size are closed again on return, and
    # opening one (TLS negotiation included) costs more than the transaction it serves.
    # No pre-ping either: it is one more round trip on every checkout; a connection the
    # server dropped fails its statement, and the pool replaces it.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_recycle=1800,
        connect_args={"server_settings": PG_SESSION},
        hide_parameters=True,
    )


# Every execution planned for its own parameters (PostgreSQL >= 12). asyncpg prepares and
# caches each statement, and after five executions PostgreSQL may keep one generic plan for
# good: a plan made while a table was nearly empty (a first reconcile fills observation and
# store_count_sku from nothing) stays a sequential scan, or an index scan on the key's
# leading column only, as the table grows to hundreds of thousands of rows. Measured: a
# first reconcile of 20,000 SKUs on PostgreSQL took 29.9 s with generic plans, 19.1 s
# without; reserve throughput did not move (1,614-1,639 vs 1,620-1,676 req/s).
PG_SESSION = {"plan_cache_mode": "force_custom_plan"}


def _immediate_transactions(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


class DriverCaller(Protocol):
    """Something that calls the database driver itself, beside the engine (a hot path):
    it is traced and closed with the database."""

    tracer: Tracer | None

    async def close(self) -> None: ...


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        from gateway.persistence.ledger_reads import ledger_reads_for

        self.engine = engine
        # The ledger read of every availability answer, straight through the driver.
        pool = engine.pool
        self.ledger_reads = ledger_reads_for(
            engine.url.render_as_string(hide_password=False),
            engine.dialect,
            pool_size=pool.size() if isinstance(pool, QueuePool) else 10,
        )
        self._driver_callers: list[DriverCaller] = []
        self._tracer: Tracer | None = None

    def adopt(self, caller: DriverCaller) -> None:
        """Trace and close ``caller`` with this database."""
        caller.tracer = self._tracer
        self._driver_callers.append(caller)

    def trace_driver_calls(self, tracer: Tracer) -> None:
        """Spans for the statements made through the driver, by callers adopted so far and
        later."""
        self._tracer = tracer
        if self.ledger_reads is not None:
            self.ledger_reads.tracer = tracer
        for caller in self._driver_callers:
            caller.tracer = tracer

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as connection:
            yield connection

    async def close(self) -> None:
        for caller in self._driver_callers:
            await caller.close()
        if self.ledger_reads is not None:
            await self.ledger_reads.close()
        await self.engine.dispose()
