"""Who calls the demo gateway: one API key per role, made at start and printed, and a
staff console's JWT signed by the demo's own identity provider (a throwaway RSA key whose
JWKS the gateway reads from a file, as it would a real provider's).

The demo's own walk-through asks with ``CALLER``: the staff console's token."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.config import AuthSettings
from gateway.domain.principal import Role
from gateway.services.container import Services

ISSUER = "https://login.demo.example/"
AUDIENCE = "commerce-gateway"
_KID = "demo-1"
# The headers the demo's own requests carry; set by ``IdentityProvider.console_headers``.
CALLER: dict[str, str] = {}


class IdentityProvider:
    def __init__(self, workdir: Path) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        self.jwks_file = workdir / "jwks.json"
        self.jwks_file.write_text(json.dumps({"keys": [{**public, "kid": _KID, "alg": "RS256"}]}))

    def settings(self) -> AuthSettings:
        return AuthSettings(
            jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_jwks_file=str(self.jwks_file)
        )

    def token(self, sub: str, roles: list[str], scope: str = "", hours: float = 8) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub,
            "iat": now,
            "exp": now + int(hours * 3600),
            "roles": roles,
            "scope": scope,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": _KID})

    def console_headers(self) -> dict[str, str]:
        """A staff console holding every role (the demo's walk-through asks as it)."""
        every = [role.value for role in Role]
        headers = {"Authorization": f"Bearer {self.token('demo-console', every, 'pii:read')}"}
        CALLER.clear()
        CALLER.update(headers)
        return headers


async def one_key_per_role(services: Services, store_id: str) -> dict[str, str]:
    """name -> the whole key (shown once, as ``commerce-gateway keys create`` would)."""
    made: dict[str, str] = {}
    for role in Role:
        name = f"demo-{role.value.lower().replace('_', '-')}"
        location = store_id if role is Role.STORE_ASSOCIATE else None
        _, shown = await services.keys.create(name, role, location)
        made[name] = shown
    return made
