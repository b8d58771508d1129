"""Who is asking, from a request's credentials: an API key (``Authorization: Bearer
cgk_...`` or ``X-API-Key: cgk_...``) or a staff JWT (``Authorization: Bearer eyJ...``)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from gateway.auth.keys import PREFIX, matches, split_key
from gateway.auth.tokens import TokenVerifier
from gateway.domain.principal import Principal, StoredKey
from gateway.errors import Unauthenticated

FindKey = Callable[[str], Awaitable[StoredKey | None]]
_KEY = "API_KEY"


class Authenticator:
    def __init__(
        self,
        find_key: FindKey,
        tokens: TokenVerifier | None,
        *,
        key_cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._find_key = find_key
        self._tokens = tokens
        self._key_cache_seconds = key_cache_seconds
        self._clock = clock
        # key id -> (until, the key as stored or None): one read per key per period.
        self._keys: dict[str, tuple[float, StoredKey | None]] = {}

    async def principal(self, authorization: str | None, api_key: str | None) -> Principal:
        presented = api_key.strip() if api_key else _bearer(authorization)
        if not presented:
            raise Unauthenticated(
                "this API needs credentials: an API key (Authorization: Bearer cgk_... or "
                "X-API-Key) or a staff JWT (Authorization: Bearer ...)"
            )
        if presented.startswith(PREFIX):
            return await self._key_holder(presented)
        if self._tokens is not None and presented.count(".") == 2:
            return await self._tokens.principal(presented)
        raise Unauthenticated(
            "the credentials are neither an API key of this gateway nor a JWT it accepts"
        )

    async def _key_holder(self, presented: str) -> Principal:
        parts = split_key(presented)
        if parts is None:
            raise Unauthenticated("the API key is malformed", scheme=_KEY)
        key_id, secret = parts
        stored = await self._stored(key_id)
        if stored is None or not matches(secret, stored.secret_hash):
            raise Unauthenticated("unknown API key", scheme=_KEY)
        if stored.revoked_at is not None:
            raise Unauthenticated("the API key was revoked", scheme=_KEY)
        return stored.principal()

    async def _stored(self, key_id: str) -> StoredKey | None:
        now = self._clock()
        cached = self._keys.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        stored = await self._find_key(key_id)
        if len(self._keys) > 10_000:  # forged ids must not grow this without bound
            self._keys.clear()
        self._keys[key_id] = (now + self._key_cache_seconds, stored)
        return stored


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None
