"""Telling every gateway process on one PostgreSQL that cached answers are stale.

Whole answers are cached per process (resolvers/response_cache.py) under the cache's
generation. With Redis the generation lives there and every process reads the same one.
Without it, each process has its own; then a trigger on the gateway's tables (migration
0004) NOTIFYs on every committed change, and every process LISTENs and takes a new
generation, so a hold taken through one process shows in the next answer of all of them,
milliseconds later, rather than when the one-second cache runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from gateway.persistence.database import Database

log = logging.getLogger(__name__)

CHANNEL = "gateway_answers_changed"


class ChangeListener:
    def __init__(self, db: Database, on_change: Callable[[str], Awaitable[None]]) -> None:
        self._db = db
        self._on_change = on_change
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        url = self._db.engine.url.set(drivername="postgresql")
        self._listener = await asyncpg.connect(url.render_as_string(hide_password=False))
        await self._listener.add_listener(CHANNEL, self._received)

    def _received(self, _conn: Any, _pid: int, _channel: str, token: str) -> None:
        import asyncio

        task = asyncio.ensure_future(self._on_change(token))
        task.add_done_callback(_log_failure)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()


def _log_failure(task: Any) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("could not apply a remote cache change", exc_info=task.exception())
