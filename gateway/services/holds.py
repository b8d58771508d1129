"""Taking holds without ever promising a unit twice.

``plan_holds`` and ``shortfalls`` decide (pure); ``take_holds`` runs them inside the
caller's transaction with every (SKU, node) position it touches locked, so the figures it
checks cannot change before its own holds are written. The source figures come from the
availability service (cached readings); the gateway's ledger is read under the lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Kit, Location, NodeAvailability
from gateway.domain.reservations import HoldPlan, LedgerEntry, ReservationLine
from gateway.errors import BadUserInput, InsufficientStock
from gateway.persistence.reservations import ledger_entries, lock_positions
from gateway.services.availability import free_to_promise
from gateway.services.ledger import overlay

MAX_LINES = 100
MAX_QUANTITY = 10_000


def normalise_lines(lines: Iterable[ReservationLine]) -> tuple[ReservationLine, ...]:
    """Validate quantities and merge repeated SKUs, keeping first-seen order."""
    merged: dict[str, int] = {}
    for line in lines:
        sku = line.sku.strip()
        if not sku:
            raise BadUserInput("every line needs a sku", field="sku")
        if line.quantity <= 0:
            raise BadUserInput(
                f"quantity for {sku} must be at least 1, got {line.quantity}", field="quantity"
            )
        merged[sku] = merged.get(sku, 0) + line.quantity
        if merged[sku] > MAX_QUANTITY:
            raise BadUserInput(f"quantity for {sku} exceeds {MAX_QUANTITY}", field="quantity")
    if not merged:
        raise BadUserInput("at least one line is required", field="lines")
    if len(merged) > MAX_LINES:
        raise BadUserInput(f"at most {MAX_LINES} lines", field="lines")
    return tuple(ReservationLine(sku, qty) for sku, qty in merged.items())


def plan_holds(lines: Sequence[ReservationLine], kits: Mapping[str, Kit]) -> list[HoldPlan]:
    """A kit is held as its components, so its parts cannot be sold separately meanwhile."""
    plans: list[HoldPlan] = []
    for line in lines:
        kit = kits.get(line.sku)
        if kit is None:
            plans.append(HoldPlan(line.sku, line.quantity, line.sku, line.quantity))
        else:
            plans.extend(
                HoldPlan(line.sku, line.quantity, c.sku, c.quantity * line.quantity)
                for c in kit.components
            )
    return plans


def needed_by_sku(plans: Iterable[HoldPlan]) -> dict[str, int]:
    needed: dict[str, int] = defaultdict(int)
    for plan in plans:
        needed[plan.sku] += plan.quantity
    return dict(needed)


def per_sku(plans: Iterable[HoldPlan]) -> list[HoldPlan]:
    """One plan per held SKU. A kit and a loose component (or two kits sharing one) hold
    the same SKU twice; the source is written once per SKU, since each write's reference
    (its idempotency key) names the SKU and two writes with one key would be one write."""
    return [HoldPlan(sku, qty, sku, qty) for sku, qty in needed_by_sku(plans).items()]


def shortfalls(
    needed: Mapping[str, int],
    source: Mapping[str, NodeAvailability],
    entries: Iterable[LedgerEntry],
    location: Location,
) -> list[dict[str, object]]:
    """Positions that cannot give what is asked, with what they can still give."""
    by_sku: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        if entry.location_id == location.id:
            by_sku[entry.sku].append(entry)
    short: list[dict[str, object]] = []
    for sku, quantity in needed.items():
        row = source.get(sku)
        if row is None:
            available = 0
        else:
            available = free_to_promise(
                row.on_hand,
                row.reserved,
                row.safety_stock,
                overlay(by_sku[sku], row.fetched_at or row.as_of),
            )
        if available < quantity:
            short.append(
                {
                    "sku": sku,
                    "locationId": location.id,
                    "requested": quantity,
                    "available": available,
                }
            )
    return short


async def take_holds(
    conn: AsyncConnection,
    plans: Sequence[HoldPlan],
    location: Location,
    source: Mapping[str, NodeAvailability],
    *,
    now: datetime,
    applied_after: datetime,
) -> None:
    """Lock the positions, re-read the ledger under the lock, refuse if anything is short.
    The caller writes the holds in the same transaction."""
    needed = needed_by_sku(plans)
    await lock_positions(conn, ((sku, location.id) for sku in needed))
    entries = await ledger_entries(
        conn, sorted(needed), now=now, applied_after=applied_after, location_ids=[location.id]
    )
    short = shortfalls(needed, source, entries, location)
    if short:
        names = ", ".join(f"{s['sku']} ({s['available']} available)" for s in short)
        raise InsufficientStock(f"Not enough stock at {location.name}: {names}", shortfalls=short)
