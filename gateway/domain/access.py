"""Which records a principal may see and change: the rules beneath the field rules.

resolvers/permissions.py decides which roles may ask for a field at all; these decide, for
a caller who may, which orders, holds and returns are theirs:

* SUPPORT and OPS work on every order, hold and return.
* A STORE_ASSOCIATE works on what its own store picks up, ships or takes back.
* A STOREFRONT (a web shop, an app) changes only the holds it took, and reads an order only
  with the order's access token (handed out once, when the order is placed) or with the
  customer's own token (a JWT whose e-mail is the order's).

Pure: every combination is tested (tests/unit/test_access.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from gateway.domain.principal import Principal, Role

EVERY_RECORD = frozenset({Role.SUPPORT, Role.OPS})


def sees_every_record(principal: Principal) -> bool:
    return bool(principal.roles & EVERY_RECORD)


def works_at(principal: Principal, location_ids: Iterable[str]) -> bool:
    """May act on something at these nodes: staff anywhere, an associate at its store."""
    if sees_every_record(principal):
        return True
    return (
        principal.has(Role.STORE_ASSOCIATE)
        and principal.location_id is not None
        and principal.location_id in set(location_ids)
    )


def may_change_hold(principal: Principal, taken_by: str | None) -> bool:
    """A hold is changed by whoever took it, or by staff (a hold the gateway took for an
    order, ``taken_by`` None, is staff's alone)."""
    return sees_every_record(principal) or (taken_by is not None and principal.id == taken_by)


def may_read_order(
    principal: Principal,
    *,
    customer_email: str | None,
    location_ids: Iterable[str],
    holds_access_token: bool,
) -> bool:
    if works_at(principal, location_ids):
        return True
    if not principal.has(Role.STOREFRONT):
        return False
    if holds_access_token:
        return True
    return (
        principal.customer_email is not None
        and customer_email is not None
        and principal.customer_email.casefold() == customer_email.casefold()
    )


def order_access_token(secret: bytes, order_id: str) -> str:
    """The order's access token: the same on every process sharing ``secret`` and on every
    retry of the placement, so it is never stored and never lost."""
    digest = hmac.new(secret, f"order:{order_id}".encode(), hashlib.sha256).digest()
    return "oat_" + base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def is_access_token(secret: bytes, order_id: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(order_access_token(secret, order_id), presented)
