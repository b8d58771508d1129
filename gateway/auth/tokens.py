"""Staff consoles' bearer JWTs, verified with PyJWT against the identity provider's JWKS.

The signing keys come from a URL (kept ``jwks_cache_seconds``; a token signed with a key id
the set does not hold fetches it again at once, at most every few seconds, which is how a
provider's key rotation reaches the gateway) or from a file (read again when it changes).
A token must be signed with one of the configured algorithms (never ``none``), carry
``exp``, ``iss``, ``aud`` and ``sub``, be for this audience from this issuer, and name at
least one gateway role in the roles claim.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt

from gateway.config import AuthSettings
from gateway.domain.principal import CredentialKind, Principal, Role
from gateway.errors import Unauthenticated

_JWT = "JWT"
# A token naming an unknown key id fetches the set again at most this often, so a flood
# of forged tokens cannot turn into a flood of requests to the identity provider.
_REFETCH_FLOOR_SECONDS = 5.0


class SigningKeys(Protocol):
    async def key(self, key_id: str | None) -> jwt.PyJWK | None: ...


def _key_set(document: Any) -> dict[str | None, jwt.PyJWK]:
    keys = jwt.PyJWKSet.from_dict(document).keys
    found: dict[str | None, jwt.PyJWK] = {k.key_id: k for k in keys}
    if len(keys) == 1:
        found.setdefault(None, keys[0])  # a token without ``kid`` may use the only key
    return found


class KeysFromFile:
    def __init__(self, path: str) -> None:
        self._path = Path(path)
        self._stamp: float | None = None
        self._keys: dict[str | None, jwt.PyJWK] = {}

    async def key(self, key_id: str | None) -> jwt.PyJWK | None:
        stamp = self._path.stat().st_mtime
        if stamp != self._stamp:
            self._keys = _key_set(json.loads(self._path.read_text()))
            self._stamp = stamp
        return self._keys.get(key_id)


class KeysFromUrl:
    def __init__(
        self,
        url: str,
        cache_seconds: float,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._cache_seconds = cache_seconds
        self._client = client
        self._clock = clock
        self._fetched_at: float | None = None
        self._keys: dict[str | None, jwt.PyJWK] = {}

    async def key(self, key_id: str | None) -> jwt.PyJWK | None:
        now = self._clock()
        age = None if self._fetched_at is None else now - self._fetched_at
        stale = age is None or age > self._cache_seconds
        rotated = key_id not in self._keys and (age is None or age > _REFETCH_FLOOR_SECONDS)
        if stale or rotated:
            try:
                response = await self._client.get(self._url)
                response.raise_for_status()
                self._keys = _key_set(response.json())
                self._fetched_at = now
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
                if not self._keys:
                    raise Unauthenticated(
                        f"the identity provider's keys could not be read ({error})", scheme=_JWT
                    ) from error
                # Keep the keys held: a provider briefly down must not log every user out.
        return self._keys.get(key_id)


def signing_keys(settings: AuthSettings, client: httpx.AsyncClient) -> SigningKeys | None:
    if not settings.jwt_configured:
        return None
    if settings.jwt_jwks_file:
        return KeysFromFile(settings.jwt_jwks_file)
    assert settings.jwt_jwks_url is not None
    return KeysFromUrl(settings.jwt_jwks_url, settings.jwks_cache_seconds, client)


class TokenVerifier:
    """Verifies a token once, then remembers its principal for ``jwt_cache_seconds`` (never
    past its ``exp``): a console sends the same token with every request, and verifying it
    (the signature, and PyJWT's checks of every segment) was most of what a cached answer
    cost. A key dropped from the JWKS stops its tokens within that time."""

    def __init__(
        self,
        settings: AuthSettings,
        keys: SigningKeys,
        *,
        clock: Callable[[], float] = time.time,
        max_remembered: int = 10_000,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._clock = clock
        self._max = max_remembered
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def principal(self, token: str) -> Principal:
        now = self._clock()
        known = self._verified.get(token)
        if known is not None and known[1] > now:
            self._verified.move_to_end(token)
            return known[0]
        principal, expires = await self._verify(token)
        keep = self._settings.jwt_cache_seconds
        if keep > 0:
            self._verified[token] = (principal, min(expires, now + keep))
            self._verified.move_to_end(token)
            if len(self._verified) > self._max:
                self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        """The token's principal and when the token expires (epoch seconds)."""
        s = self._settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthenticated("the bearer token is not a JWT", scheme=_JWT) from error
        if header.get("alg") not in s.jwt_algorithms:
            raise Unauthenticated(
                f"the token is signed with {header.get('alg')!r}; accepted: "
                f"{', '.join(s.jwt_algorithms)}",
                scheme=_JWT,
            )
        key = await self._keys.key(header.get("kid"))
        if key is None:
            raise Unauthenticated(
                "the token is signed with a key the identity provider does not list",
                scheme=_JWT,
            )
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=s.jwt_algorithms,
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                leeway=s.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the token has expired", scheme=_JWT) from error
        except jwt.InvalidAudienceError as error:
            raise Unauthenticated("the token is for another audience", scheme=_JWT) from error
        except jwt.InvalidIssuerError as error:
            raise Unauthenticated("the token is from another issuer", scheme=_JWT) from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is not valid: {error}", scheme=_JWT) from error
        roles = frozenset(
            Role(name.upper())
            for name in _names(claims.get(s.jwt_roles_claim))
            if name.upper() in Role.__members__
        )
        if not roles:
            raise Unauthenticated(
                f"the token names no gateway role in its {s.jwt_roles_claim!r} claim", scheme=_JWT
            )
        location = claims.get(s.jwt_location_claim)
        email = claims.get(s.jwt_customer_email_claim)
        principal = Principal(
            f"jwt:{claims['sub']}",
            CredentialKind.JWT,
            roles,
            frozenset(_names(claims.get(s.jwt_scopes_claim))),
            location if isinstance(location, str) else None,
            # A customer's own token (a shop login): it reads that customer's orders.
            email if isinstance(email, str) and Role.STOREFRONT in roles else None,
        )
        return principal, float(claims["exp"])


def _names(claim: Any) -> list[str]:
    """A claim holding names as a list or as one space-separated string (OAuth's scope)."""
    if isinstance(claim, str):
        return claim.split()
    if isinstance(claim, list):
        return [n for n in claim if isinstance(n, str)]
    return []
