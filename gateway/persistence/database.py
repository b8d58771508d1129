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
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

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
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _immediate_transactions(engine)
        return engine
    # A fixed pool: connections opened past pool_size are closed again on return, and
    # opening one (TLS negotiation included) costs more than the transaction it serves.
    # No pre-ping either: it is one more round trip on every checkout; a connection the
    # server dropped fails its statement, and the pool replaces it.
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_recycle=1800)


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


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as connection:
            yield connection

    async def close(self) -> None:
        await self.engine.dispose()
