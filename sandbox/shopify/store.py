"""What one simulated Shopify store holds: its catalogue (``catalog``) and the orders,
fulfillment orders, fulfillments and returns the API creates, kept in memory.

Records are plain dataclasses whose attribute names are the GraphQL field names in
snake_case, so the resolver layer can render most fields by name; derived fields (an order's
display statuses, a fulfillment order's supported actions) are properties. Ids are gids from
per-type counters that start at the contract's example numbers, so a fresh store answers the
contract's first requests with the contract's ids.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.retailer import Dataset
from sandbox.shopify.catalog import (
    FIRST_ORDER_NUMBER,
    ID_STARTS,
    REASON_DEFINITIONS,
    Location,
    ReasonDefinition,
    Variant,
    gid,
    iso,
    money_bag,
    variants,
)

if TYPE_CHECKING:
    from sandbox.shopify.edit_records import CalculatedOrder, Event


@dataclass(eq=False)
class LineItem:
    id: str
    sku: str | None
    title: str
    quantity: int
    unit_price: Decimal
    currency: str
    variant: Variant | None
    fulfilled: int = 0
    removed: int = 0  # units order edits took off; ``quantity`` keeps counting them

    @property
    def name(self) -> str:
        return self.title

    @property
    def current_quantity(self) -> int:
        return self.quantity - self.removed

    @property
    def unfulfilled_quantity(self) -> int:
        return self.current_quantity - self.fulfilled

    @property
    def original_unit_price_set(self) -> dict[str, Any]:
        return money_bag(self.unit_price, self.currency)


@dataclass(eq=False)
class FulfillmentOrderLine:
    id: str
    line_item: LineItem
    total_quantity: int
    remaining_quantity: int

    @property
    def sku(self) -> str | None:
        return self.line_item.sku

    @property
    def variant(self) -> Variant | None:
        return self.line_item.variant

    @property
    def product_title(self) -> str:
        return self.line_item.title


@dataclass(eq=False)
class Hold:
    id: str
    reason: str
    reason_notes: str | None
    handle: str | None
    held_by_requesting_app: bool = True


@dataclass(eq=False)
class FulfillmentLine:
    id: str
    line_item: LineItem
    quantity: int


@dataclass(eq=False)
class Fulfillment:
    id: str
    name: str
    order: Order
    location: Location
    created_at: str
    tracking_info: list[dict[str, str | None]]
    lines: list[FulfillmentLine]
    status: str = "SUCCESS"
    display_status: str = "FULFILLED"

    @property
    def updated_at(self) -> str:
        return self.created_at

    @property
    def total_quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def fulfillment_line_items(self) -> list[FulfillmentLine]:
        return self.lines


@dataclass(eq=False)
class FulfillmentOrder:
    id: str
    order: Order
    location: Location
    lines: list[FulfillmentOrderLine]
    created_at: str
    updated_at: str
    fulfill_at: str
    status: str = "OPEN"
    request_status: str = "UNSUBMITTED"
    fulfill_by: str | None = None
    holds: list[Hold] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)

    @property
    def order_id(self) -> str:
        return self.order.id

    @property
    def order_name(self) -> str:
        return self.order.name

    @property
    def assigned_location(self) -> dict[str, Any]:
        return {"name": self.location.name, "location": self.location}

    @property
    def destination(self) -> dict[str, Any] | None:
        address = self.order.address
        if address is None:
            return None
        return {**address, "email": self.order.email}

    @property
    def delivery_method(self) -> dict[str, str]:
        return {"methodType": "SHIPPING"}

    @property
    def fulfillment_holds(self) -> list[Hold]:
        return self.holds

    @property
    def line_items(self) -> list[FulfillmentOrderLine]:
        return self.lines

    @property
    def fulfilled_anything(self) -> bool:
        return any(line.remaining_quantity < line.total_quantity for line in self.lines)

    @property
    def supported_actions(self) -> list[dict[str, str]]:
        return [{"action": action} for action in supported_actions(self)]


def supported_actions(fo: FulfillmentOrder) -> list[str]:
    """What Shopify lists for a merchant-managed location (no 3PL request handshake).

    OPEN and ON_HOLD are the contract's lists. IN_PROGRESS is the simulator's reading of
    "a warehouse started picking": it can still ship, hold or be cancelled (until something
    shipped), but not move, since the goods are already being picked at that location.
    """
    if fo.status == "OPEN":
        return ["CREATE_FULFILLMENT", "HOLD", "MOVE", "CANCEL_FULFILLMENT_ORDER"]
    if fo.status == "ON_HOLD":
        return ["RELEASE_HOLD", "HOLD", "MOVE"]
    if fo.status == "IN_PROGRESS":
        actions = ["CREATE_FULFILLMENT", "HOLD"]
        return actions if fo.fulfilled_anything else [*actions, "CANCEL_FULFILLMENT_ORDER"]
    return []


@dataclass(eq=False)
class ReturnLine:
    id: str
    fulfillment_line_item: FulfillmentLine
    quantity: int
    customer_note: str | None
    return_reason_note: str
    return_reason_definition: ReasonDefinition | None
    return_reason: str


@dataclass(eq=False)
class ReverseFulfillmentOrder:
    id: str
    status: str = "OPEN"


@dataclass(eq=False)
class Return:
    id: str
    name: str
    order: Order
    status: str
    lines: list[ReturnLine]
    created_at: str
    decline: dict[str, str | None] | None = None
    reverse_fulfillment_orders: list[ReverseFulfillmentOrder] = field(default_factory=list)
    request_approved_at: str | None = None
    closed_at: str | None = None

    @property
    def total_quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def return_line_items(self) -> list[ReturnLine]:
        return self.lines


@dataclass(eq=False)
class Order:
    id: str
    number: int
    source_identifier: str | None
    source_name: str | None
    email: str | None
    note: str | None
    tags: list[str]
    currency_code: str
    created_at: str
    line_items: list[LineItem]
    total: Decimal
    paid: Decimal
    address: dict[str, Any] | None = None  # the MailingAddressInput as sent
    customer: dict[str, Any] | None = None
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)
    cancelled_at: str | None = None
    cancel_reason: str | None = None  # OrderCancelReason, set with cancelled_at
    closed: bool = False
    events: list[Event] = field(default_factory=list)  # the timeline (order edits only)

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def updated_at(self) -> str:
        return self.created_at

    @property
    def processed_at(self) -> str:
        return self.created_at

    @property
    def shipping_address(self) -> dict[str, Any] | None:
        if self.address is None:
            return None
        a = self.address
        full_name = " ".join(str(a[k]) for k in ("firstName", "lastName") if a.get(k))
        return {**a, "name": full_name or None, "countryCodeV2": a.get("countryCode")}

    @property
    def total_price_set(self) -> dict[str, Any]:
        return money_bag(self.total, self.currency_code)

    @property
    def merchant_editable(self) -> bool:
        return self.cancelled_at is None

    @property
    def display_financial_status(self) -> str:
        if self.paid <= 0:
            return "PENDING"
        return "PAID" if self.paid >= self.total else "PARTIALLY_PAID"

    @property
    def display_fulfillment_status(self) -> str:
        ordered = sum(line.current_quantity for line in self.line_items)
        shipped = sum(line.fulfilled for line in self.line_items)
        live = [fo for fo in self.fulfillment_orders if fo.status not in ("CLOSED", "CANCELLED")]
        if ordered and shipped >= ordered:
            return "FULFILLED"
        if shipped:
            return "PARTIALLY_FULFILLED"
        if live and all(fo.status == "ON_HOLD" for fo in live):
            return "ON_HOLD"
        if any(fo.status == "IN_PROGRESS" for fo in live):
            return "IN_PROGRESS"
        return "UNFULFILLED"

    @property
    def return_status(self) -> str:
        statuses = {r.status for r in self.returns}
        if "REQUESTED" in statuses:
            return "RETURN_REQUESTED"
        if "OPEN" in statuses:
            return "IN_PROGRESS"
        return "RETURNED" if "CLOSED" in statuses else "NO_RETURN"


class Shop:
    """The store's catalogue (read-only, from the dataset) and its documents (in memory)."""

    def __init__(self, dataset: Dataset, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        names = [w.warehouse_name for w in dataset.leaf_warehouses]
        names += [s.name for s in dataset.stores]
        active = [True] * len(dataset.leaf_warehouses) + [
            s.status == "ACTIVE" for s in dataset.stores
        ]
        # oms_location_ids() and the names above follow the same node order.
        self.locations = [
            Location(location_id, name, is_active)
            for location_id, name, is_active in zip(
                dataset.oms_location_ids().values(), names, active, strict=True
            )
        ]
        self.location_by_id = {loc.id: loc for loc in self.locations}
        self.variants = list(variants(dataset))
        self.variant_by_id = {v.id: v for v in self.variants}
        self.variant_by_sku = {v.sku.casefold(): v for v in self.variants}
        self.reasons = [
            ReasonDefinition(gid("ReturnReasonDefinition", n), h, name)
            for n, h, name in REASON_DEFINITIONS
        ]
        self.reason_by_id = {r.id: r for r in self.reasons}
        self.orders: dict[str, Order] = {}
        self.fulfillment_orders: dict[str, FulfillmentOrder] = {}
        self.fulfillment_order_lines: dict[str, FulfillmentOrderLine] = {}
        self.fulfillments: dict[str, Fulfillment] = {}
        self.fulfillment_lines: dict[str, FulfillmentLine] = {}
        self.returns: dict[str, Return] = {}
        self.jobs: dict[str, dict[str, Any]] = {}  # Job gid -> {"id", "done"}
        self.calculated_orders: dict[str, CalculatedOrder] = {}  # staged order edits
        self._counters = {kind: itertools.count(start) for kind, start in ID_STARTS.items()}
        self._order_numbers = itertools.count(FIRST_ORDER_NUMBER)

    @property
    def default_location(self) -> Location:
        """Where orderCreate assigns every fulfillment order: no order routing rules."""
        return self.locations[0]

    def new_id(self, kind: str) -> str:
        return gid(kind, next(self._counters[kind]))

    def next_order_number(self) -> int:
        return next(self._order_numbers)

    def now(self) -> str:
        return iso(self.clock())
