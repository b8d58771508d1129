"""One process at a time: a job that several gateway processes schedule (the full
reconcile) runs in whichever takes the lock first; the others skip that round."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from gateway.persistence.database import Database

_TRY = text("SELECT pg_try_advisory_lock(:key)")
_RELEASE = text("SELECT pg_advisory_unlock(:key)")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


@asynccontextmanager
async def exclusively(db: Database, name: str) -> AsyncIterator[bool]:
    """Whether this process holds ``name`` for the block. PostgreSQL: a session advisory
    lock on a connection of its own; SQLite serves one process, which always holds it."""
    if db.dialect != "postgresql":
        yield True
        return
    key = lock_key(name)
    async with db.engine.connect() as conn:
        held = bool((await conn.execute(_TRY, {"key": key})).scalar())
        await conn.commit()
        try:
            yield held
        finally:
            if held:
                await conn.execute(_RELEASE, {"key": key})
                await conn.commit()
