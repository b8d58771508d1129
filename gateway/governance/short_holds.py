"""Units promised, then sold at the till (pure).

Square does not ask the gateway before a sale, so a store's count can fall below what the
gateway holds there: a walk-in customer bought the unit a pickup order was promised. At one
store and SKU the source's figure (Square's IN_STOCK; negative once the shelf is oversold)
still has to cover the holds it has not yet taken off itself; the ones it took off (the
order's sale is recorded) are already out of it. So the shelf is short by

    shortage = unapplied held units - source figure        (when above zero)

and no more than every unit held there. Who loses: the most recently committed order
first, then the one before it (first come, first served: an order promised earlier keeps
its promise); within one order nothing is split further than needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.reservations import OrderHold


@dataclass(frozen=True, slots=True)
class Shortfall:
    order_id: str
    sku: str
    location_id: str
    missing: int  # of the order's held units there, how many the shelf no longer has
    held: int


def shortage(source_figure: int, holds: Sequence[OrderHold]) -> int:
    unapplied = sum(h.quantity for h in holds if not h.applied)
    return max(0, min(unapplied - source_figure, sum(h.quantity for h in holds)))


def short_holds(source_figure: int, holds: Sequence[OrderHold]) -> list[Shortfall]:
    """The holds at one store and SKU that the shelf cannot cover, most recent first."""
    left = shortage(source_figure, holds)
    per_order: dict[str, list[OrderHold]] = {}
    for hold in holds:
        per_order.setdefault(hold.order_id, []).append(hold)
    found: list[Shortfall] = []
    latest_first = sorted(
        per_order.values(),
        key=lambda hs: (max(h.held_at for h in hs), hs[0].order_id),
        reverse=True,
    )
    for order_holds in latest_first:
        if left <= 0:
            break
        held = sum(h.quantity for h in order_holds)
        missing = min(held, left)
        first = order_holds[0]
        found.append(Shortfall(first.order_id, first.sku, first.location_id, missing, held))
        left -= missing
    return found
