"""The test suite's own identity provider: a throwaway RSA key, its JWKS in a file the
gateway is pointed at (tests/conftest.py), and tokens signed with it.

Every test client sends ``STAFF`` (all roles, pii:read) unless it asks as someone else, so
the suite runs through real authentication; tests of authentication sign their own."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://login.test.example/"
AUDIENCE = "commerce-gateway"
KEY_ID = "test-key-1"
EVERY_ROLE = ["STOREFRONT", "STORE_ASSOCIATE", "SUPPORT", "OPS", "ADMIN"]


def new_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**public, "kid": kid, "use": "sig", "alg": "RS256"}


def write_jwks(path: Path, *keys: tuple[rsa.RSAPrivateKey, str]) -> None:
    path.write_text(json.dumps({"keys": [jwk_of(key, kid) for key, kid in keys]}))


SIGNING_KEY = new_signing_key()
JWKS_FILE = Path(tempfile.mkdtemp(prefix="gateway-idp-")) / "jwks.json"
write_jwks(JWKS_FILE, (SIGNING_KEY, KEY_ID))


def token(
    roles: list[str] | None = None,
    *,
    sub: str = "staff-1",
    scopes: str | None = None,
    location_id: str | None = None,
    expires_in: float = 3600,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    key: rsa.RSAPrivateKey = SIGNING_KEY,
    kid: str = KEY_ID,
    claims: dict[str, Any] | None = None,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "iat": now,
        "exp": now + int(expires_in),
    }
    if roles is not None:
        payload["roles"] = roles
    if scopes is not None:
        payload["scope"] = scopes
    if location_id is not None:
        payload["location_id"] = location_id
    payload.update(claims or {})
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


STAFF = bearer(token(EVERY_ROLE, sub="test-suite", scopes="pii:read", expires_in=86_400))
ENVIRONMENT = {
    "AUTH__JWT_ISSUER": ISSUER,
    "AUTH__JWT_AUDIENCE": AUDIENCE,
    "AUTH__JWT_JWKS_FILE": str(JWKS_FILE),
}
