"""Changes between gateway processes on one PostgreSQL (no Redis): LISTEN/NOTIFY.

Whole answers are cached per process (gateway/response_cache.py) under the cache's
generation, and without Redis each process keeps its own copies of the sources' figures.
Each process's change bus (gateway.events.bus) sends its changes, and the announcement that
something committed, as NOTIFY payloads on one channel, and LISTENs on it: a hold taken
through one process shows in the next answer of all of them milliseconds later, not when
the one-second cache runs out.

Messages are sent after the change has committed, outside its transaction, and coalesced by
the bus (at most one in flight per process). That matters because PostgreSQL serialises the
commits of notifying transactions on one lock: a NOTIFY inside every hold's transaction made
all holds commit one at a time (measured: backends queued on that lock, throughput halved).
They go out on the listening connection itself, a plain asyncpg one: a pooled SQLAlchemy
connection per NOTIFY cost about 5 % of a gateway's CPU under reserves, and a second NOTIFY
per hold for the announcement alone as much again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from gateway.events.bus import BETWEEN_PROCESSES_LINGER_SECONDS
from gateway.persistence.database import Database

CHANGES_CHANNEL = "gateway_changes"


class PostgresTransport:
    """Changes between gateway processes over LISTEN/NOTIFY (PostgreSQL without Redis).
    A NOTIFY payload must stay under 8,000 bytes; the bus splits what it sends."""

    max_bytes = 7_900
    linger_seconds = BETWEEN_PROCESSES_LINGER_SECONDS

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
        if self._connection is None:
            raise RuntimeError("the change transport was not started")
        await self._connection.execute("SELECT pg_notify($1, $2)", self._channel, message)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
