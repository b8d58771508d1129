"""Taking holds on PostgreSQL in one statement: ``gw_take_holds`` (migration 0003).

It makes the same decision as ``gateway.services.holds.take_holds`` (which SQLite uses), in
the database, so a reservation costs one round trip instead of seven. The source figures
(on hand, reserved, safety stock, when they were observed) come from the caller, exactly
as for the Python path.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Location, NodeAvailability
from gateway.domain.reservations import HoldPlan, Reservation
from gateway.errors import InsufficientStock

TAKE_HOLDS = text(
    "SELECT gw_take_holds(:key, :operation, :request_hash, CAST(:reservation AS jsonb), "
    "CAST(:positions AS jsonb), CAST(:holds AS jsonb), :now, :applied_after)"
)


@dataclass(frozen=True, slots=True)
class FirstUse:
    """The key was used before: by this request (same hash) or another."""

    resource_id: str
    operation: str
    request_hash: str


def hold_item(
    reservation: Reservation,
    plans: Sequence[HoldPlan],
    location: Location,
    source: Mapping[str, NodeAvailability],
    claim: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """One reservation as the database functions take it."""
    needed_by_sku: Counter[str] = Counter()
    for plan in plans:
        needed_by_sku[plan.sku] += plan.quantity
    positions = []
    for sku, needed in sorted(needed_by_sku.items()):
        row = source.get(sku)
        observed = None if row is None else (row.fetched_at or row.as_of)
        positions.append(
            {
                "sku": sku,
                "needed": needed,
                "on_hand": 0 if row is None else row.on_hand,
                "reserved": 0 if row is None else row.reserved,
                "safety": location.safety_stock,
                "observed_at": None if observed is None else observed.isoformat(),
            }
        )
    key, operation, request_hash = claim or (None, None, None)
    return {
        "key": key,
        "operation": operation,
        "request_hash": request_hash,
        "reservation": {
            "id": reservation.id,
            "status": reservation.status.value,
            "location_id": reservation.location_id,
            "channel": reservation.channel.value,
            "customer_ref": reservation.customer_ref,
            "order_id": reservation.order_id,
            "created_at": reservation.created_at.isoformat(),
            "expires_at": reservation.expires_at.isoformat(),
        },
        "positions": positions,
        "holds": [
            {
                "line_sku": p.line_sku,
                "line_quantity": p.line_quantity,
                "sku": p.sku,
                "quantity": p.quantity,
            }
            for p in plans
        ],
    }


async def take_holds(
    conn: AsyncConnection,
    reservation: Reservation,
    plans: Sequence[HoldPlan],
    location: Location,
    source: Mapping[str, NodeAvailability],
    *,
    now: datetime,
    applied_after: datetime,
    claim: tuple[str, str, str] | None = None,
) -> FirstUse | None:
    """Claim ``claim`` = (key, operation, request hash) if given, then hold and write the
    reservation, in the caller's transaction; raise InsufficientStock when a position is
    short (the caller's transaction is then to be rolled back)."""
    item = hold_item(reservation, plans, location, source, claim)
    params: dict[str, Any] = {
        "key": item["key"],
        "operation": item["operation"],
        "request_hash": item["request_hash"],
        "reservation": json.dumps(item["reservation"]),
        "positions": json.dumps(item["positions"]),
        "holds": json.dumps(item["holds"]),
        "now": now,
        "applied_after": applied_after,
    }
    try:
        answer = (await conn.execute(TAKE_HOLDS, params)).scalar_one()
    except DBAPIError as exc:
        short = _shortfalls(exc)
        if short is None:
            raise
        raise insufficient(location, short) from None
    return outcome(answer, location)


def insufficient(location: Location, short: list[dict[str, Any]]) -> InsufficientStock:
    names = ", ".join(f"{s['sku']} ({s['available']} available)" for s in short)
    return InsufficientStock(f"Not enough stock at {location.name}: {names}", shortfalls=short)


def outcome(answer: Any, location: Location) -> FirstUse | None:
    """A function's answer for one item: None (held), the key's first use, or raise."""
    if isinstance(answer, str):
        answer = json.loads(answer)
    if "replay" in answer:
        return FirstUse(answer["replay"], answer["operation"], answer["request_hash"])
    if "short" in answer:
        raise insufficient(location, answer["short"])
    return None


def _shortfalls(exc: DBAPIError) -> list[dict[str, object]] | None:
    """The shortfall list a GW001 exception carries in its DETAIL, else None."""
    cause = getattr(exc.orig, "__cause__", None) or exc.orig
    if getattr(cause, "sqlstate", None) != "GW001":
        return None
    return json.loads(cause.detail)
