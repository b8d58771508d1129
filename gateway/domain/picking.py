"""Picking at a store: what is due first, and what may stand in for a unit not found.

**The pick list.** A store picks its open click-and-collect orders and the delivery orders
it ships, soonest promised first: a pickup order is promised ready ``pickup_ready`` after it
was placed, a delivery order shipped ``ship_within`` after (PICKING__*). Ties go to the order
placed first.

**Substitutes.** When a picker finds fewer units than an order needs, another SKU may stand
in for the missing ones: of the same category, priced within ``band`` (a share) of the
missing SKU's price either way, with every missing unit available to promise at that store.
The closest price comes first, then the most available, then the SKU, and a few are
offered (the customer chooses one, or declines and the missing units are dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from gateway.domain.catalog import Channel


@dataclass(frozen=True, slots=True)
class PickLine:
    sku: str
    name: str
    quantity: int
    shelf: str | None  # where the source keeps it on the shop floor, if it says


@dataclass(frozen=True, slots=True)
class PickTask:
    order_id: str
    channel: Channel
    status: str
    customer_name: str
    placed_at: datetime
    promised_by: datetime
    lines: tuple[PickLine, ...]


def promised_by(
    channel: Channel, placed_at: datetime, pickup_ready: timedelta, ship_within: timedelta
) -> datetime:
    """When the store has promised the order: ready for pickup, or shipped."""
    return placed_at + (pickup_ready if channel is Channel.PICKUP else ship_within)


def pick_order(tasks: Iterable[PickTask]) -> list[PickTask]:
    """Soonest promised first; then the order placed first; then by id."""
    return sorted(tasks, key=lambda t: (t.promised_by, t.placed_at, t.order_id))


@dataclass(frozen=True, slots=True)
class Candidate:
    sku: str
    category: str | None
    price: Decimal | None
    available: int  # to promise at the store


def substitutes(
    missing_sku: str,
    category: str | None,
    price: Decimal,
    missing: int,
    candidates: Iterable[Candidate],
    band: Decimal,
    limit: int,
) -> list[Candidate]:
    """The SKUs that may stand in for ``missing`` units of ``missing_sku``, best first."""
    if missing < 1:
        raise ValueError("a substitute stands in for at least one unit")
    if not Decimal(0) <= band <= Decimal(1) or limit < 0:
        raise ValueError("a band is a share between 0 and 1, a limit not negative")
    low, high = price * (1 - band), price * (1 + band)
    fitting = [
        c
        for c in candidates
        if c.sku != missing_sku
        and category is not None
        and c.category == category
        and c.price is not None
        and low <= c.price <= high
        and c.available >= missing
    ]
    fitting.sort(key=lambda c: (abs((c.price or price) - price), -c.available, c.sku))
    return fitting[:limit]


class SubstitutionStatus(StrEnum):
    OFFERED = "OFFERED"  # the customer has not answered
    ACCEPTED = "ACCEPTED"  # a substitute stands in for the missing units
    DECLINED = "DECLINED"  # the missing units are dropped from the order


@dataclass(frozen=True, slots=True)
class Substitution:
    """Units a picker did not find, and what the customer was offered instead."""

    id: str
    order_id: str
    location_id: str
    sku: str
    missing: int
    offered: tuple[str, ...]
    status: SubstitutionStatus
    offered_at: datetime
    chosen: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None


class ShortPickOutcome(StrEnum):
    REROUTED = "REROUTED"  # another node fills the missing units
    SUBSTITUTES_OFFERED = "SUBSTITUTES_OFFERED"  # the customer chooses
    DROPPED = "DROPPED"  # nothing can stand in: the missing units leave the order


def short_by(ordered: int, found: int) -> int:
    """How many units a pick is short; refused when nothing is."""
    if found < 0:
        raise ValueError("found is not negative")
    if found >= ordered:
        raise ValueError(f"found {found} of {ordered}: nothing is short")
    return ordered - found


def line_changes(sku: str, missing: int, chosen: str | None) -> Sequence[tuple[str, int]]:
    """How each SKU's quantity on the order moves: the missing units off, the chosen
    substitute's on (none when declined)."""
    moves = [(sku, -missing)]
    if chosen is not None:
        moves.append((chosen, missing))
    return moves
