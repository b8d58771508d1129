"""Taking holds on PostgreSQL, inside the database: the ledger rule in SQL.

One function decides: ``gw_take_holds_batch`` (migrations 0004, 0006, 0024) claims each
item's idempotency key if it has one, locks the (SKU, node) guards in one global order,
reads the ledger under the locks (the rule of ``gw_free_to_promise``, migration 0003) and
writes the reservation and its holds, or answers with the shortfalls. ``PostgresHoldTaker``
calls it with one item inside the caller's transaction (an order's holds, written with the
order); ``hold_batcher.HoldBatcher`` calls it with every reserve that arrives while its
previous call is in flight. The source figures (on hand, reserved, safety stock, when they were
observed) come from the caller, exactly as for SQLite's Python path (sqlite_holds).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Location
from gateway.domain.idempotency import Claim, FirstUse
from gateway.domain.reservations import HoldRequest, needed_by_sku
from gateway.persistence.sqlite_holds import insufficient

TAKE_HOLDS = text("SELECT gw_take_holds_batch(CAST(:items AS jsonb), :now, :applied_after)")
# The same call through asyncpg itself (hold_batcher.HoldBatcher).
TAKE_HOLDS_BATCH = "SELECT gw_take_holds_batch($1::jsonb, $2, $3)"


def hold_item(hold: HoldRequest, claim: Claim | None = None) -> dict[str, Any]:
    """One reservation as the database function takes it."""
    reservation, location = hold.reservation, hold.location
    positions = []
    for sku, needed in sorted(needed_by_sku(hold.plans).items()):
        row = hold.source.get(sku)
        observed = None if row is None else (row.fetched_at or row.as_of)
        positions.append(
            {
                "sku": sku,
                "needed": needed,
                "on_hand": 0 if row is None else row.on_hand,
                "reserved": 0 if row is None else row.reserved,
                # What the node keeps back: its safety stock, or more under a promise cap.
                "safety": location.safety_stock if row is None else row.safety_stock,
                "observed_at": None if observed is None else observed.isoformat(),
            }
        )
    return {
        "key": None if claim is None else claim.key,
        "operation": None if claim is None else claim.operation,
        "request_hash": None if claim is None else claim.fingerprint,
        "reservation": {
            "id": reservation.id,
            "status": reservation.status.value,
            "location_id": reservation.location_id,
            "channel": reservation.channel.value,
            "customer_ref": reservation.customer_ref,
            "requested_by": reservation.requested_by,
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
            for p in hold.plans
        ],
    }


def outcome(answer: Any, location: Location) -> FirstUse | None:
    """The function's answer for one item: None (held), the key's first use, or raise
    InsufficientStock."""
    if isinstance(answer, str):
        answer = json.loads(answer)
    if "replay" in answer:
        return FirstUse(answer["replay"], answer["operation"], answer["request_hash"])
    if "short" in answer:
        raise insufficient(location.name, answer["short"])
    return None


class PostgresHoldTaker:
    def __init__(self, conn: AsyncConnection, *, horizon: timedelta) -> None:
        self._conn = conn
        self._horizon = horizon

    async def take(self, hold: HoldRequest, *, now: datetime) -> None:
        answers = (
            await self._conn.execute(
                TAKE_HOLDS,
                {
                    "items": json.dumps([hold_item(hold)]),
                    "now": now,
                    "applied_after": now - self._horizon,
                },
            )
        ).scalar_one()
        if isinstance(answers, str):
            answers = json.loads(answers)
        # Short: the caller's transaction is rolled back, so nothing of it is recorded.
        outcome(answers[0], hold.location)
