"""What placing an order writes, decided without I/O: the canonical order, the confirmed
hold that backs it, and the backend writes it owes (the source of truth's commitment and
the OMS order)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from gateway.domain import Channel, Location, Money, SourceSystem
from gateway.domain.documents import PostalAddress
from gateway.domain.orders import Order, OrderEvent, OrderLine, OrderOrigin, OrderStatus
from gateway.domain.outbox import OutboxMessage
from gateway.domain.reservations import HoldPlan, Reservation, ReservationLine, ReservationStatus
from gateway.errors import BadUserInput, InsufficientStock, NotFound
from gateway.routing import FulfillmentPlan, Strategy
from gateway.services.orders.writes import create_oms_order
from gateway.services.source_writes import commit_messages

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class PlaceOrderRequest:
    lines: tuple[ReservationLine, ...]
    channel: Channel
    email: str
    name: str
    delivery: PostalAddress | None = None
    pickup_location_id: str | None = None
    strategy: Strategy | None = None  # None: the channel's default
    deliver_by: date | None = None
    service_level: str | None = None
    # A pickup order its store cannot fill alone may wait for a transfer from other nodes.
    allow_transfer: bool = False


def validate_place(request: PlaceOrderRequest) -> None:
    if not EMAIL.match(request.email.strip()):
        raise BadUserInput(f"{request.email!r} is not an email address", field="customer.email")
    if not request.name.strip():
        raise BadUserInput("customer.name is required", field="customer.name")
    if (request.delivery is None) == (request.pickup_location_id is None):
        raise BadUserInput("give exactly one of delivery or pickup", field="delivery")
    if request.pickup_location_id is not None and request.channel is not Channel.PICKUP:
        raise BadUserInput("a pickup order must use channel PICKUP", field="channel")
    if request.delivery is not None:
        if request.channel is not Channel.ONLINE:
            raise BadUserInput("a delivery order must use channel ONLINE", field="channel")
        if request.delivery.point is None:
            raise BadUserInput("delivery.address needs lat and lng", field="delivery")


def refuse_unplaceable(plan: FulfillmentPlan, request: PlaceOrderRequest) -> None:
    """An order is placed whole or not at all: INSUFFICIENT_STOCK names what is short, and
    for a pickup order that needs a transfer the customer did not accept, the stores that
    have everything."""
    if plan.unfulfillable:
        raise InsufficientStock(
            "Cannot fill: "
            + "; ".join(f"{u.sku} x{u.quantity}: {u.reason}" for u in plan.unfulfillable),
            shortfalls=[
                {
                    "sku": u.sku,
                    "locationId": None,
                    "requested": u.quantity,
                    "available": u.available,
                }
                for u in plan.unfulfillable
            ],
        )
    transfers = [s for s in plan.shipments if s.transfer_to is not None]
    if transfers and not request.allow_transfer:
        store = request.pickup_location_id
        held = {
            line.sku: line.quantity
            for s in plan.shipments
            if s.transfer_to is None
            for line in s.lines
        }
        wanted: dict[str, int] = {}
        for line in request.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        elsewhere = ", ".join(s.node_name for s in plan.alternative_stores)
        raise InsufficientStock(
            f"{store} cannot fill the order today; set allowTransfer to collect it there on "
            f"{plan.promised_date}" + (f", or collect today at: {elsewhere}" if elsewhere else ""),
            shortfalls=[
                {"sku": sku, "locationId": store, "requested": qty, "available": held.get(sku, 0)}
                for sku, qty in wanted.items()
                if held.get(sku, 0) < qty
            ],
        )


def unit_price(product: object | None, sku: str) -> Money:
    if product is None:
        raise NotFound(f"No product with SKU {sku!r}", field="sku", sku=sku)
    price = getattr(product, "web_price", None) or getattr(product, "list_price", None)
    if price is None:
        raise BadUserInput(f"{sku} has no price and cannot be ordered", field="sku", sku=sku)
    return price


def source_reference(order_id: str, location_id: str, shipments: int) -> str:
    """The reference an order's commitment at one node is written under in its source of
    truth (the ERP's po_no, the POS sale's key). A one-node order uses the order id, as
    the ERP and POS know it; a split order needs one per node."""
    return order_id if shipments == 1 else f"{order_id}@{location_id}"


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one node ships of an order, and the hold that backs it."""

    location: Location
    reservation_id: str
    lines: tuple[ReservationLine, ...]
    plans: tuple[HoldPlan, ...]


@dataclass(frozen=True, slots=True)
class PlacementDraft:
    order: Order
    reservations: list[Reservation]
    messages: list[OutboxMessage]


def allocated_lines(
    allocations: Sequence[Allocation],
    prices: Mapping[str, Money],
    web_line_ids: Mapping[str, int] | None = None,
) -> tuple[OrderLine, ...]:
    """The order's lines as the plan split them over its nodes."""
    web = web_line_ids or {}
    return tuple(
        OrderLine(
            line.sku,
            line.quantity,
            prices[line.sku],
            allocation.location.id,
            web_line_id=web.get(line.sku),
        )
        for allocation in allocations
        for line in allocation.lines
    )


def confirmed_holds(
    order: Order, allocations: Sequence[Allocation], now: datetime, hold_for: timedelta
) -> list[Reservation]:
    """One confirmed hold per node of the plan, backing the order."""
    return [
        Reservation(
            id=allocation.reservation_id,
            status=ReservationStatus.CONFIRMED,
            location_id=allocation.location.id,
            channel=order.channel,
            customer_ref=order.customer_email,
            lines=allocation.lines,
            created_at=now,
            # A confirmed hold does not expire; this only bounds the row's own field.
            expires_at=now + hold_for,
            order_id=order.id,
        )
        for allocation in allocations
    ]


def owed_writes(
    order: Order,
    allocations: Sequence[Allocation],
    prices: Mapping[str, Money],
    locations: Sequence[Location],
    now: datetime,
    erp_customer: str,
) -> list[OutboxMessage]:
    """What an allocated order owes: each node's source of truth takes over its hold (an ERP
    Sales Order, a POS sale), and the OMS gets the order."""
    messages: list[OutboxMessage] = []
    for allocation in allocations:
        messages += commit_messages(
            ordering_key=order.id,
            reference=source_reference(order.id, allocation.location.id, len(allocations)),
            location=allocation.location,
            plans=allocation.plans,
            customer=erp_customer,
            prices={p.sku: prices[p.line_sku] for p in allocation.plans if p.sku == p.line_sku},
            now=now,
        )
    oms = create_oms_order(order, {loc.id: loc for loc in locations})
    if oms is not None:
        messages.append(oms)
    return messages


def draft_placement(
    *,
    order_id: str,
    request: PlaceOrderRequest,
    allocations: Sequence[Allocation],
    prices: dict[str, Money],
    routing_summary: str,
    locations: Sequence[Location],
    now: datetime,
    hold_for: timedelta,
    erp_customer: str,
) -> PlacementDraft:
    currency = next(iter(prices.values())).currency
    order_lines = allocated_lines(allocations, prices)
    total = sum((line.unit_price.amount * line.quantity for line in order_lines), Decimal(0))
    order = Order(
        id=order_id,
        origin=OrderOrigin.GATEWAY,
        channel=request.channel,
        status=OrderStatus.ALLOCATED,
        customer_email=request.email.strip(),
        customer_name=request.name.strip(),
        total=Money(total, currency),
        lines=order_lines,
        created_at=now,
        updated_at=now,
        delivery=request.delivery,
        pickup_location_id=request.pickup_location_id,
        allow_transfer=request.allow_transfer,
        events=(
            OrderEvent(now, "PLACED", SourceSystem.GATEWAY, None, OrderStatus.PLACED),
            OrderEvent(
                now,
                "ALLOCATED",
                SourceSystem.GATEWAY,
                OrderStatus.PLACED,
                OrderStatus.ALLOCATED,
                routing_summary,
            ),
        ),
    )
    return PlacementDraft(
        order,
        confirmed_holds(order, allocations, now, hold_for),
        owed_writes(order, allocations, prices, locations, now, erp_customer),
    )
