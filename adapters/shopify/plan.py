"""Which fulfillment-order moves put each allocation's units at its location: a pure
function, so the routing arithmetic is tested without a server.

Shopify assigns a new order to one location; the gateway has already decided where each unit
ships from (``OmsAllocation``). For every SKU, units held at a location beyond what is
allocated there are surplus, units allocated beyond what is held are a deficit, and surplus
lines in movable fulfillment orders are moved to the deficits: a subset move splits a line
across locations. Running the plan again on the result yields no moves, which is what makes
a retried ``create_order`` finish an interrupted routing instead of repeating it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from gateway.domain.documents import OmsAllocation, OmsFulfillmentOrder

DONE = ("CLOSED", "CANCELLED")


@dataclass(frozen=True, slots=True)
class Move:
    fulfillment_order_id: str
    location_ref: str
    lines: tuple[tuple[str, int], ...]  # (FulfillmentOrderLineItem gid, quantity)


def plan_moves(
    fulfillment_orders: Sequence[OmsFulfillmentOrder],
    allocations: Sequence[OmsAllocation],
    movable: Collection[str],
) -> list[Move]:
    """``movable``: ids of the fulfillment orders whose supportedActions include MOVE."""
    need: dict[tuple[str, str], int] = defaultdict(int)
    for a in allocations:
        need[(a.location_ref, a.sku)] += a.quantity
    live = [fo for fo in fulfillment_orders if fo.status not in DONE]
    have: dict[tuple[str, str], int] = defaultdict(int)
    for fo in live:
        for line in fo.lines:
            have[(fo.location_ref, line.sku)] += line.remaining_quantity

    surplus = {key: held - need.get(key, 0) for key, held in have.items()}
    # Orders at locations nothing is allocated to are emptied first.
    sources = sorted(
        (fo for fo in live if fo.id in movable),
        key=lambda fo: any(loc == fo.location_ref for loc, _ in need),
    )
    grouped: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    taken_from: dict[str, int] = defaultdict(int)  # line id -> units already planned away
    for (location, sku), wanted in need.items():
        missing = wanted - have.get((location, sku), 0)
        for fo in sources:
            if fo.location_ref == location:
                continue
            for line in fo.lines:
                if missing <= 0:
                    break
                if line.sku != sku:
                    continue
                spare = min(
                    line.remaining_quantity - taken_from[line.id],
                    surplus.get((fo.location_ref, sku), 0),
                )
                take = min(spare, missing)
                if take <= 0:
                    continue
                planned = grouped[(fo.id, location)]
                planned[line.id] = planned.get(line.id, 0) + take
                taken_from[line.id] += take
                surplus[(fo.location_ref, sku)] -= take
                missing -= take
    return [
        Move(fo_id, location, tuple(lines.items())) for (fo_id, location), lines in grouped.items()
    ]
