"""Telling every gateway process on one PostgreSQL that cached answers are stale.

Whole answers are cached per process (gateway/response_cache.py) under the cache's
generation. With Redis the generation lives there and every process reads the same one.
Without it each process has its own; then each process announces its changes with
PostgreSQL's NOTIFY and LISTENs for the others', so a hold taken through one process shows
in the next answer of all of them milliseconds later, not when the one-second cache runs
out.

Announcements are sent after the change has committed, outside its transaction, and
coalesced: at most one NOTIFY in flight per process, followed by one more if anything
changed meanwhile. That matters because PostgreSQL serialises the commits of notifying
transactions on one lock: a NOTIFY inside every hold's transaction made all holds commit
one at a time (measured: backends queued on that lock, throughput halved).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy import text

from gateway.persistence.database import Database

log = logging.getLogger(__name__)

CHANNEL = "gateway_answers_changed"
_NOTIFY = text(f"NOTIFY {CHANNEL}")


class ChangeAnnouncer:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._again = False
        self._sending: asyncio.Task[None] | None = None

    def announce(self) -> None:
        """Something committed: tell the other processes soon (never blocks the caller)."""
        self._again = True
        if self._sending is None or self._sending.done():
            self._sending = asyncio.ensure_future(self._send())

    async def _send(self) -> None:
        while self._again:
            self._again = False
            try:
                async with self._db.engine.connect() as conn:
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(_NOTIFY)
            except Exception:
                log.exception("could not announce a change; other processes see it late")

    async def close(self) -> None:
        if self._sending is not None:
            await asyncio.gather(self._sending, return_exceptions=True)


class ChangeListener:
    def __init__(self, db: Database, on_change: Callable[[], Awaitable[None]]) -> None:
        self._db = db
        self._on_change = on_change
        self._connection: asyncpg.Connection | None = None

    async def start(self) -> None:
        url = self._db.engine.url.set(drivername="postgresql")
        self._connection = await asyncpg.connect(url.render_as_string(hide_password=False))
        await self._connection.add_listener(CHANNEL, self._received)

    def _received(self, *_: Any) -> None:
        task = asyncio.ensure_future(self._on_change())
        task.add_done_callback(_log_failure)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("could not apply another process's change", exc_info=task.exception())


CHANGES_CHANNEL = "gateway_changes"
_SEND_CHANGES = text("SELECT pg_notify(:channel, :payload)")


class PostgresTransport:
    """Changes between gateway processes over LISTEN/NOTIFY (PostgreSQL without Redis).
    A NOTIFY payload must stay under 8,000 bytes; the bus splits what it sends."""

    max_bytes = 7_900

    def __init__(self, db: Database, channel: str = CHANGES_CHANNEL) -> None:
        self._db = db
        self._channel = channel
        self._connection: asyncpg.Connection | None = None

    async def start(self, received: Callable[[str], None]) -> None:
        url = self._db.engine.url.set(drivername="postgresql")
        self._connection = await asyncpg.connect(url.render_as_string(hide_password=False))

        def arrived(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            received(payload)

        await self._connection.add_listener(self._channel, arrived)

    async def send(self, message: str) -> None:
        async with self._db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(_SEND_CHANGES, {"channel": self._channel, "payload": message})

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
