"""Planning holds (pure): which lines a request holds, as which SKUs.

Taking them, without ever promising a unit twice, is the storage's job
(``UnitOfWork.holds``, gateway.ports.storage): it locks every (SKU, node) position a hold
touches and checks the ledger under the lock (gateway.domain.ledger).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from gateway.domain import Kit
from gateway.domain.reservations import HoldPlan, ReservationLine, needed_by_sku
from gateway.errors import BadUserInput

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


def per_sku(plans: Iterable[HoldPlan]) -> list[HoldPlan]:
    """One plan per held SKU. A kit and a loose component (or two kits sharing one) hold
    the same SKU twice; the source is written once per SKU, since each write's reference
    (its idempotency key) names the SKU and two writes with one key would be one write."""
    return [HoldPlan(sku, qty, sku, qty) for sku, qty in needed_by_sku(plans).items()]
