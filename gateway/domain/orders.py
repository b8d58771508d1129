"""The canonical order and return, as the support console sees them wherever they began."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from gateway.domain.catalog import Channel, Money, SourceSystem
from gateway.domain.documents import PostalAddress, Tracking


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    ALLOCATED = "ALLOCATED"
    PICKING = "PICKING"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COLLECTED = "COLLECTED"
    CANCELLED = "CANCELLED"
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED"
    RETURNED = "RETURNED"


class OrderOrigin(StrEnum):
    GATEWAY = "GATEWAY"  # placed through this API
    STOREFRONT = "STOREFRONT"  # a WooCommerce web order, imported


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Money
    location_id: str | None = None
    returned_quantity: int = 0
    web_line_id: int | None = None


@dataclass(frozen=True, slots=True)
class SystemRecord:
    """One record of this order in one backend (a split order has a Sales Order per
    warehouse): its own id and status, the node it is for, and when the gateway last
    heard of it. An update with no ``id`` applies to every record of that system."""

    system: SourceSystem
    id: str | None
    status: str | None
    location_id: str | None = None
    synced_at: datetime | None = None
    # The backend's own time of this state (WooCommerce's date_modified), on its clock: a
    # read of the record older than this is not news.
    modified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    at: datetime
    kind: str
    source: SourceSystem
    from_status: OrderStatus | None = None
    to_status: OrderStatus | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    origin: OrderOrigin
    channel: Channel
    status: OrderStatus
    customer_email: str | None
    customer_name: str
    total: Money
    lines: tuple[OrderLine, ...]
    created_at: datetime
    updated_at: datetime
    delivery: PostalAddress | None = None
    pickup_location_id: str | None = None
    pickup_deadline: datetime | None = None
    # The customer accepted collection after a transfer from another node, if needed.
    allow_transfer: bool = False
    systems: tuple[SystemRecord, ...] = ()
    tracking: tuple[Tracking, ...] = ()
    events: tuple[OrderEvent, ...] = ()

    @property
    def fulfillment_location_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.location_id for line in self.lines if line.location_id))


@dataclass(frozen=True, slots=True)
class OrderChanges:
    """What a change sets on an order besides its status; what is left out stays as it is.

    ``systems``: what a backend said of the order, its own id and status (an id or status
    of None leaves the one already known).
    """

    systems: tuple[SystemRecord, ...] = ()
    tracking: tuple[Tracking, ...] | None = None
    pickup_deadline: datetime | None = None


NO_CHANGES = OrderChanges()


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """What the support console narrows a list of orders by (None: any)."""

    customer_email: str | None = None
    status: OrderStatus | None = None
    channel: Channel | None = None
    created_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """The router's decision for a gateway order, with the request it was taken on, as
    stored (gateway.routing.snapshot), so it can be shown and replayed later."""

    order_id: str
    decided_at: datetime
    strategy: str
    snapshot_version: int
    request: dict[str, Any]
    plan: dict[str, Any]


class ReturnReason(StrEnum):
    DAMAGED = "DAMAGED"
    DEFECTIVE = "DEFECTIVE"
    WRONG_ITEM = "WRONG_ITEM"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    SIZE_OR_FIT = "SIZE_OR_FIT"
    CHANGED_MIND = "CHANGED_MIND"
    OTHER = "OTHER"


class ItemCondition(StrEnum):
    NEW = "NEW"
    OPENED = "OPENED"
    DAMAGED = "DAMAGED"
    DEFECTIVE = "DEFECTIVE"


class Disposition(StrEnum):
    RESTOCK = "RESTOCK"  # back on the shelf, sellable again
    INSPECT = "INSPECT"  # held for inspection: incoming, not sellable
    REFURBISH = "REFURBISH"  # to the repair/refurbishment flow
    DISPOSE = "DISPOSE"  # written off


# Units back at the node that someone must look at before they are sold or written off.
AWAITING_DECISION = frozenset({Disposition.INSPECT, Disposition.REFURBISH})


class ReturnStatus(StrEnum):
    OPEN = "OPEN"  # approved, units on their way back
    RECEIVED = "RECEIVED"  # units arrived at the node and were dispositioned
    CLOSED = "CLOSED"  # refunded (where the gateway refunds) and closed in the OMS


@dataclass(frozen=True, slots=True)
class ReturnLine:
    sku: str
    quantity: int
    reason: ReturnReason
    condition: ItemCondition
    disposition: Disposition
    location_id: str
    refund: Money
    line_id: int | None = None  # once stored
    received_at: datetime | None = None
    decided_at: datetime | None = None  # INSPECT / REFURBISH: restocked or disposed since

    @property
    def awaiting_decision(self) -> bool:
        """Back at the node, waiting for someone to restock or dispose of it."""
        return (
            self.received_at is not None
            and self.decided_at is None
            and self.disposition in AWAITING_DECISION
        )


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    id: str
    order_id: str
    status: ReturnStatus
    lines: tuple[ReturnLine, ...]
    refund_total: Money
    created_at: datetime
    updated_at: datetime
    oms_return_id: str | None = None
    web_refund_id: int | None = None
