"""What placing an order writes, decided without I/O: the canonical order, the confirmed
hold that backs it, and the backend writes it owes (the source of truth's commitment and
the OMS order)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from gateway.domain import Channel, Location, Money, SourceSystem
from gateway.domain.documents import PostalAddress
from gateway.domain.orders import Order, OrderEvent, OrderLine, OrderOrigin, OrderStatus
from gateway.domain.reservations import HoldPlan, Reservation, ReservationLine, ReservationStatus
from gateway.errors import BadUserInput, NotFound
from gateway.persistence.outbox import OutboxMessage
from gateway.services.order_writes import create_oms_order
from gateway.services.routing import NodeChoice
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


def unit_price(product: object | None, sku: str) -> Money:
    if product is None:
        raise NotFound(f"No product with SKU {sku!r}", field="sku", sku=sku)
    price = getattr(product, "web_price", None) or getattr(product, "list_price", None)
    if price is None:
        raise BadUserInput(f"{sku} has no price and cannot be ordered", field="sku", sku=sku)
    return price


@dataclass(frozen=True, slots=True)
class PlacementDraft:
    order: Order
    reservation: Reservation
    messages: list[OutboxMessage]


def draft_placement(
    *,
    order_id: str,
    reservation_id: str,
    request: PlaceOrderRequest,
    lines: Sequence[ReservationLine],
    plans: Sequence[HoldPlan],
    prices: dict[str, Money],
    choice: NodeChoice,
    locations: Sequence[Location],
    now: datetime,
    hold_for: timedelta,
    erp_customer: str,
) -> PlacementDraft:
    location = choice.location
    currency = next(iter(prices.values())).currency
    total = sum((prices[line.sku].amount * line.quantity for line in lines), start=Decimal(0))
    order = Order(
        id=order_id,
        origin=OrderOrigin.GATEWAY,
        channel=request.channel,
        status=OrderStatus.ALLOCATED,
        customer_email=request.email.strip(),
        customer_name=request.name.strip(),
        total=Money(total, currency),
        lines=tuple(
            OrderLine(line.sku, line.quantity, prices[line.sku], location.id) for line in lines
        ),
        created_at=now,
        updated_at=now,
        delivery=request.delivery,
        pickup_location_id=request.pickup_location_id,
        events=(
            OrderEvent(now, "PLACED", SourceSystem.GATEWAY, None, OrderStatus.PLACED),
            OrderEvent(
                now,
                "ALLOCATED",
                SourceSystem.GATEWAY,
                OrderStatus.PLACED,
                OrderStatus.ALLOCATED,
                f"{location.name} ({location.id}): {choice.reason}",
            ),
        ),
    )
    reservation = Reservation(
        id=reservation_id,
        status=ReservationStatus.CONFIRMED,
        location_id=location.id,
        channel=request.channel,
        customer_ref=order.customer_email,
        lines=tuple(lines),
        created_at=now,
        # A confirmed hold does not expire; this only bounds the row's own field.
        expires_at=now + hold_for,
        order_id=order_id,
    )
    messages = commit_messages(
        ordering_key=order_id,
        reference=order_id,
        location=location,
        plans=plans,
        customer=erp_customer,
        prices={p.sku: prices[p.line_sku] for p in plans if p.sku == p.line_sku},
        now=now,
    )
    oms = create_oms_order(order, {loc.id: loc for loc in locations})
    if oms is not None:
        messages.append(oms)
    return PlacementDraft(order, reservation, messages)
