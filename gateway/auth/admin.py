"""API keys made, listed and revoked (``commerce-gateway keys ...``): the whole key is shown
once, when made; the gateway keeps only the digest of its secret (gateway.auth.keys)."""

from __future__ import annotations

import re

from gateway.auth.keys import new_key
from gateway.domain.principal import Role, StoredKey
from gateway.errors import BadUserInput, NotFound
from gateway.ports import Clock, UnitOfWorkFactory

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


class ApiKeyAdmin:
    def __init__(self, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = unit_of_work
        self._clock = clock

    async def create(
        self, name: str, role: Role, location_id: str | None = None
    ) -> tuple[StoredKey, str]:
        """The key as kept, and the whole key to hand to its holder (shown only now)."""
        if not _NAME.fullmatch(name):
            raise BadUserInput(
                "a key's name is 1 to 80 letters, digits, '.', '_' or '-'", field="name"
            )
        if (role is Role.STORE_ASSOCIATE) != (location_id is not None):
            raise BadUserInput(
                "a STORE_ASSOCIATE key names its store (--location), and only such a key does",
                field="location_id",
            )
        made = new_key()
        stored = StoredKey(
            made.key_id, name, role, made.secret_hash, self._clock.now(), location_id
        )
        async with self._uow() as uow:
            try:
                await uow.api_keys.add(stored)
            except ValueError as taken:
                raise BadUserInput(str(taken), field="name") from taken
            await uow.commit()
        return stored, made.shown_once

    async def revoke(self, name_or_id: str) -> StoredKey:
        async with self._uow() as uow:
            revoked = await uow.api_keys.revoke(name_or_id, self._clock.now())
            if revoked is None:
                raise NotFound(f"no API key is named or numbered {name_or_id!r}", field="name")
            await uow.commit()
        return revoked

    async def listed(self) -> list[StoredKey]:
        async with self._uow(read_only=True) as uow:
            return await uow.api_keys.listed()
