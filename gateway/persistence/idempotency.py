"""Idempotency records: one per key, naming the request that first used it.

``claim`` runs first in a mutation's transaction. Two requests with one key race on the
primary key; the second waits for the first to commit (PostgreSQL) or for the write lock
(SQLite) and then sees its record, so exactly one of them does the work.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.errors import BadUserInput, IdempotencyKeyReused
from gateway.persistence.dialect import upsert_insert
from gateway.persistence.tables import IdempotencyRow

records = IdempotencyRow.__table__

MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Replay:
    resource_id: str


def request_hash(operation: str, request: Any) -> str:
    canonical = json.dumps([operation, request], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadUserInput(
            f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters", field="idempotencyKey"
        )


async def claim(
    conn: AsyncConnection,
    *,
    key: str,
    operation: str,
    fingerprint: str,
    resource_id: str,
    now: datetime,
) -> Replay | None:
    """Record ``key`` for this request, or return the first request's resource when the key
    was used before for the same request. A different request under a used key is refused."""
    validate_key(key)
    statement = (
        upsert_insert(conn, records)
        .values(
            key=key,
            operation=operation,
            request_hash=fingerprint,
            resource_id=resource_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(records.c.key)
    )
    if (await conn.execute(statement)).first() is not None:
        return None
    existing = await _find(conn, key)
    if existing.operation != operation or existing.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            f"idempotencyKey {key!r} was already used for a different request",
            operation=existing.operation,
        )
    return Replay(existing.resource_id)


async def lookup(
    conn: AsyncConnection, key: str, operation: str, fingerprint: str
) -> Replay | None:
    """A read-only check before any expensive work: a retried request returns at once."""
    existing = await _find(conn, key)
    if existing is None:
        return None
    if existing.operation != operation or existing.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            f"idempotencyKey {key!r} was already used for a different request",
            operation=existing.operation,
        )
    return Replay(existing.resource_id)


async def _find(conn: AsyncConnection, key: str) -> Any:
    result = await conn.execute(
        select(records.c.operation, records.c.request_hash, records.c.resource_id).where(
            records.c.key == key
        )
    )
    return result.first()
