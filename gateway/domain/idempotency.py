"""Idempotency keys: every mutation takes one, and the same key never changes anything twice.

A request *claims* its key; the claim records the operation, a fingerprint of the request
and the id of what the request makes or changes. A later request with the same key is a
retry when its operation and fingerprint are the same (it gets the first result back) and a
mistake otherwise (IDEMPOTENCY_KEY_REUSED).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from gateway.errors import BadUserInput, IdempotencyKeyReused

MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    operation: str  # the GraphQL mutation's name: "reserve", "cancelOrder", ...
    fingerprint: str  # of the request's arguments (fingerprint below)
    resource_id: str  # what the request makes or changes


@dataclass(frozen=True, slots=True)
class FirstUse:
    """A key's first claim, found when it is claimed again."""

    resource_id: str
    operation: str
    fingerprint: str


# json.dumps(..., sort_keys=True, default=str) builds this encoder on every call; the text,
# and so every fingerprint kept in the database, is the same.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str)


def fingerprint(operation: str, request: Any) -> str:
    canonical = _CANONICAL.encode([operation, request])
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadUserInput(
            f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters", field="idempotencyKey"
        )


def replayed_resource(first: FirstUse, claim: Claim) -> str:
    """The resource a retry gets back; a different request under a used key is refused."""
    if first.operation != claim.operation or first.fingerprint != claim.fingerprint:
        raise IdempotencyKeyReused(
            f"idempotencyKey {claim.key!r} was already used for a different request",
            operation=first.operation,
        )
    return first.resource_id
