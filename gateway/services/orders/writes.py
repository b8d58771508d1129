"""The OMS writes an order owes, as outbox messages (pure).

The OMS (Shopify) gets every gateway order, split into fulfillment orders at the locations
the router chose; a cancellation cancels them and a pickup or shipment fulfils them. Each
message's reference is the idempotency key the adapter uses (sourceIdentifier for create).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from gateway.domain import Location
from gateway.domain.documents import DocumentLine, OmsAllocation, OmsOrderDraft, Tracking
from gateway.domain.orders import Order
from gateway.domain.outbox import (
    CancelOmsOrder,
    CreateOmsOrder,
    FulfillOmsOrder,
    ReallocateOmsOrder,
)


def oms_create_reference(order_id: str) -> str:
    return f"{order_id}:oms"


def oms_allocations(
    order: Order, locations: Mapping[str, Location]
) -> tuple[OmsAllocation, ...] | None:
    """What each OMS location fulfils of the order; None when a node of it is not known to
    the OMS (no Shopify location configured)."""
    per_location: dict[tuple[str, str], int] = defaultdict(int)
    for line in order.lines:
        location = locations.get(line.location_id or "")
        if location is None or location.oms_ref is None:
            return None
        per_location[(location.oms_ref, line.sku)] += line.quantity
    return tuple(
        OmsAllocation(location_ref, sku, qty) for (location_ref, sku), qty in per_location.items()
    )


def create_oms_order(order: Order, locations: Mapping[str, Location]) -> CreateOmsOrder | None:
    """None when no chosen node is known to the OMS (no Shopify location configured)."""
    allocations = oms_allocations(order, locations)
    if allocations is None:
        return None
    draft = OmsOrderDraft(
        reference=order.id,
        email=order.customer_email or "",
        customer_name=order.customer_name,
        currency=order.total.currency,
        lines=tuple(DocumentLine(line.sku, line.quantity, line.unit_price) for line in order.lines),
        allocations=allocations,
        shipping_address=order.delivery,
        tags=("commerce-gateway", order.channel.value.lower()),
    )
    return CreateOmsOrder(
        ordering_key=order.id,
        reference=oms_create_reference(order.id),
        order_id=order.id,
        draft=draft,
    )


def reallocate_oms_order(
    order_id: str, allocations: tuple[OmsAllocation, ...], step: str
) -> ReallocateOmsOrder:
    """The OMS's fulfillment orders moved to the nodes that now fill the order."""
    return ReallocateOmsOrder(
        ordering_key=order_id,
        reference=f"{order_id}:oms-reallocate:{step}",
        order_id=order_id,
        create_reference=oms_create_reference(order_id),
        allocations=allocations,
    )


def cancel_oms_order(order_id: str) -> CancelOmsOrder:
    return CancelOmsOrder(
        ordering_key=order_id,
        reference=f"{order_id}:oms-cancel",
        order_id=order_id,
        create_reference=oms_create_reference(order_id),
    )


def fulfill_oms_order(order_id: str, tracking: Tracking | None, step: str) -> FulfillOmsOrder:
    return FulfillOmsOrder(
        ordering_key=order_id,
        reference=f"{order_id}:oms-fulfill:{step}",
        order_id=order_id,
        create_reference=oms_create_reference(order_id),
        tracking=tracking,
    )
