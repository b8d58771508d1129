"""API keys as kept (gateway.domain.principal.StoredKey): the digest of each secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain.principal import Role, StoredKey
from gateway.persistence.tables import ApiKeyRow, table

keys = table(ApiKeyRow)


class SqlApiKeys:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, key: StoredKey) -> None:
        taken = await self._conn.execute(select(keys.c.id).where(keys.c.name == key.name))
        if taken.first() is not None:
            raise ValueError(f"a key named {key.name!r} exists; revoke it or pick another name")
        try:
            await self._conn.execute(
                keys.insert().values(
                    id=key.id,
                    name=key.name,
                    role=key.role.value,
                    location_id=key.location_id,
                    secret_hash=key.secret_hash,
                    created_at=key.created_at,
                    revoked_at=key.revoked_at,
                )
            )
        except IntegrityError as error:  # a name taken by a concurrent create
            raise ValueError(f"a key named {key.name!r} exists") from error

    async def get(self, key_id: str) -> StoredKey | None:
        row = (await self._conn.execute(select(keys).where(keys.c.id == key_id))).first()
        return None if row is None else _key(row)

    async def listed(self) -> list[StoredKey]:
        rows = await self._conn.execute(select(keys).order_by(keys.c.created_at, keys.c.name))
        return [_key(r) for r in rows]

    async def revoke(self, name_or_id: str, at: datetime) -> StoredKey | None:
        named = or_(keys.c.name == name_or_id, keys.c.id == name_or_id)
        await self._conn.execute(
            update(keys).where(named, keys.c.revoked_at.is_(None)).values(revoked_at=at)
        )
        row = (await self._conn.execute(select(keys).where(named))).first()
        return None if row is None else _key(row)


def _key(row: Any) -> StoredKey:
    return StoredKey(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        secret_hash=row.secret_hash,
        created_at=row.created_at,
        location_id=row.location_id,
        revoked_at=row.revoked_at,
    )
