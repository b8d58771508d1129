"""API keys (pure): their shape, how one is made, and what of it is kept.

A key reads ``cgk_<id>_<secret>``: ``id`` (8 characters) finds the stored record, the secret
(256 random bits) proves the caller holds it. Only a SHA-256 digest of the secret is kept.
A fast digest is right here, unlike for passwords: a 256-bit random secret cannot be
guessed from its digest, so a slow hash (bcrypt, argon2) would only cost every request
time. The comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "cgk_"
_ID_LENGTH = 8


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    secret_hash: str
    shown_once: str  # the whole key, for its holder; never stored


def new_key() -> NewKey:
    key_id = secrets.token_hex(_ID_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, digest(secret), f"{PREFIX}{key_id}_{secret}")


def split_key(presented: str) -> tuple[str, str] | None:
    """(id, secret) of a key in the gateway's shape, or None."""
    if not presented.startswith(PREFIX):
        return None
    key_id, sep, secret = presented[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != _ID_LENGTH or not secret or len(secret) > 128:
        return None
    return key_id, secret


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_hash)
