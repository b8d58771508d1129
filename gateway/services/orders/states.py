"""The canonical order state machine and how each backend's statuses map onto it.

    PLACED -> ALLOCATED -> PICKING -> SHIPPED -> DELIVERED -> PARTIALLY_RETURNED -> RETURNED
                  |           |                               (or straight to RETURNED)
                  |           +-> READY_FOR_PICKUP -> COLLECTED -> (returns as above)
                  +-> READY_FOR_PICKUP / SHIPPED (a step may be skipped)
    PLACED, ALLOCATED, PICKING, READY_FOR_PICKUP -> CANCELLED

CANCELLED and RETURNED are final. Nothing moves backwards: a backend reporting an earlier
state than the gateway already knows is recorded on the timeline but does not move the
order. Backend mappings (None = the status says nothing about the canonical order):

WooCommerce order.status         Shopify FulfillmentOrder.status   ERPNext Sales Order.status
  checkout-draft   None            OPEN, SCHEDULED, ON_HOLD  ALLOCATED   Draft            PLACED
  pending, on-hold PLACED          IN_PROGRESS, INCOMPLETE   PICKING     On Hold          ALLOCATED
  processing       ALLOCATED       CLOSED                    SHIPPED     To Deliver and Bill,
  ready-for-pickup READY_FOR_PICKUP  CANCELLED               CANCELLED     To Deliver     ALLOCATED
  completed        DELIVERED (COLLECTED for pickup orders)               To Bill, Completed
  cancelled, failed, trash CANCELLED                                           SHIPPED (*)
  refunded         RETURNED                                            Cancelled        CANCELLED
                                                                       Closed           None
(*) a Delivery Note was submitted: the goods left the warehouse (COLLECTED for a pickup
order); ERPNext knows nothing of the carrier's delivery.
An order with several fulfillment orders is as far along as its least advanced one.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.domain import Channel
from gateway.domain.orders import OrderStatus
from gateway.errors import IllegalTransition

S = OrderStatus

ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PLACED: frozenset({S.ALLOCATED, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.PICKING, S.READY_FOR_PICKUP, S.SHIPPED, S.CANCELLED}),
    S.PICKING: frozenset({S.READY_FOR_PICKUP, S.SHIPPED, S.CANCELLED}),
    S.READY_FOR_PICKUP: frozenset({S.COLLECTED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.PARTIALLY_RETURNED, S.RETURNED}),
    S.DELIVERED: frozenset({S.PARTIALLY_RETURNED, S.RETURNED}),
    S.COLLECTED: frozenset({S.PARTIALLY_RETURNED, S.RETURNED}),
    S.PARTIALLY_RETURNED: frozenset({S.PARTIALLY_RETURNED, S.RETURNED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}

# How far along each status is, for "never move backwards" and "least advanced wins".
PROGRESS: dict[OrderStatus, int] = {
    S.PLACED: 0,
    S.ALLOCATED: 1,
    S.PICKING: 2,
    S.READY_FOR_PICKUP: 3,
    S.SHIPPED: 3,
    S.DELIVERED: 4,
    S.COLLECTED: 4,
    S.PARTIALLY_RETURNED: 5,
    S.RETURNED: 6,
    S.CANCELLED: 6,
}

CANCELLABLE = frozenset(s for s, nxt in ALLOWED.items() if S.CANCELLED in nxt)
# Only what reached the customer can come back.
RETURNABLE = frozenset({S.DELIVERED, S.COLLECTED, S.PARTIALLY_RETURNED})


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    return target in ALLOWED[current]


def require_transition(order_id: str, current: OrderStatus, target: OrderStatus) -> None:
    if not can_move(current, target):
        allowed = ", ".join(sorted(ALLOWED[current])) or "nothing (it is final)"
        raise IllegalTransition(
            f"Order {order_id} is {current.value}; it cannot become {target.value}. "
            f"From {current.value} it can become: {allowed}",
            status=current.value,
            requested=target.value,
        )


# The statuses an order of each channel never takes.
_NOT_FOR: dict[Channel, frozenset[OrderStatus]] = {
    Channel.PICKUP: frozenset({S.SHIPPED, S.DELIVERED}),
    Channel.ONLINE: frozenset({S.READY_FOR_PICKUP, S.COLLECTED}),
}


def path(current: OrderStatus, target: OrderStatus, channel: Channel) -> tuple[OrderStatus, ...]:
    """The statuses an order of ``channel`` enters on its way from ``current`` to
    ``target`` (target last), by the fewest allowed steps; () when no such way exists.

    A backend may report a state several steps ahead (the ERP delivered an order the
    gateway still has ALLOCATED); each status passed through owes its own writes."""
    parents: dict[OrderStatus, OrderStatus] = {}
    frontier = [current]
    while frontier:
        following: list[OrderStatus] = []
        for here in frontier:
            for nxt in sorted(ALLOWED[here]):
                if nxt in parents or nxt is current or nxt in _NOT_FOR[channel]:
                    continue
                parents[nxt] = here
                following.append(nxt)
        if target in parents:
            way = [target]
            while way[-1] in parents and parents[way[-1]] is not current:
                way.append(parents[way[-1]])
            return tuple(reversed(way))
        frontier = following
    return ()


def woocommerce_status(status: str, channel: Channel) -> OrderStatus | None:
    if status == "completed":
        return S.COLLECTED if channel is Channel.PICKUP else S.DELIVERED
    return _WOO.get(status)


_WOO: dict[str, OrderStatus] = {
    "pending": S.PLACED,
    "on-hold": S.PLACED,
    "processing": S.ALLOCATED,
    "ready-for-pickup": S.READY_FOR_PICKUP,
    "cancelled": S.CANCELLED,
    "failed": S.CANCELLED,
    "trash": S.CANCELLED,
    "refunded": S.RETURNED,
}

_SHOPIFY_FULFILLMENT_ORDER: dict[str, OrderStatus] = {
    "OPEN": S.ALLOCATED,
    "SCHEDULED": S.ALLOCATED,
    "ON_HOLD": S.ALLOCATED,
    "IN_PROGRESS": S.PICKING,
    "INCOMPLETE": S.PICKING,
    "CLOSED": S.SHIPPED,
    "CANCELLED": S.CANCELLED,
}

_ERPNEXT_SALES_ORDER: dict[str, OrderStatus] = {
    "Draft": S.PLACED,
    "On Hold": S.ALLOCATED,
    "To Deliver and Bill": S.ALLOCATED,
    "To Deliver": S.ALLOCATED,
    "Cancelled": S.CANCELLED,
}
# A submitted Delivery Note: the goods left the warehouse (ERPNext knows nothing of the
# carrier's delivery).
_ERPNEXT_DELIVERED = frozenset({"To Bill", "Completed"})


def shopify_status(fulfillment_order_statuses: Iterable[str]) -> OrderStatus | None:
    mapped = [
        _SHOPIFY_FULFILLMENT_ORDER[s]
        for s in fulfillment_order_statuses
        if s in _SHOPIFY_FULFILLMENT_ORDER
    ]
    live = [m for m in mapped if m is not S.CANCELLED]
    if not mapped:
        return None
    if not live:
        return S.CANCELLED
    return min(live, key=lambda s: PROGRESS[s])


def erpnext_status(status: str, channel: Channel) -> OrderStatus | None:
    if status in _ERPNEXT_DELIVERED:
        return S.COLLECTED if channel is Channel.PICKUP else S.SHIPPED
    return _ERPNEXT_SALES_ORDER.get(status)


def advance(current: OrderStatus, reported: OrderStatus | None) -> OrderStatus | None:
    """The status to move to when a backend reports ``reported``; None to stay put.

    A backend may skip steps the gateway did not see (PICKING straight to SHIPPED), so a
    report further along moves the order if a path of allowed steps leads there.
    """
    if reported is None or reported is current:
        return None
    if PROGRESS[reported] <= PROGRESS[current] and reported is not S.CANCELLED:
        return None
    return reported if _reachable(current, reported) else None


def _reachable(start: OrderStatus, goal: OrderStatus) -> bool:
    seen = {start}
    frontier = [start]
    while frontier:
        here = frontier.pop()
        for nxt in ALLOWED[here]:
            if nxt is goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return False
