"""What an order edit leaves in the store: the staged edit (a CalculatedOrder and its
CalculatedLineItems, nothing of which touches the order until committed), the committed
edit, and the BasicEvent it writes on the order's timeline.

Ids follow Shopify's as captured from a live store (2026-04): a CalculatedOrder and its
OrderEditSession share a number; a calculated line standing for an existing line item
carries that line item's number (``CalculatedLineItem/<LineItem number>``), one added in
the edit a UUID.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.shopify.catalog import money_bag

if TYPE_CHECKING:
    from sandbox.shopify.catalog import Variant
    from sandbox.shopify.store import LineItem, Order


@dataclass(eq=False)
class CalculatedLine:
    """A line as the edit would leave it. ``line_item`` is None for one added in this edit;
    ``before`` is the quantity it had when the edit began; ``uneditable`` the units already
    fulfilled, which no edit can take away."""

    id: str
    sku: str | None
    title: str
    unit_price: Decimal
    currency: str
    variant: Variant | None
    quantity: int
    before: int
    line_item: LineItem | None = None
    uneditable: int = 0
    restocking: bool = False

    @property
    def variant_title(self) -> str | None:
        return self.variant.title if self.variant is not None else None

    @property
    def original_unit_price_set(self) -> dict[str, Any]:
        return money_bag(self.unit_price, self.currency)

    @property
    def editable_quantity(self) -> int:
        return self.quantity - self.uneditable

    @property
    def editable_quantity_before_changes(self) -> int:
        return self.before - self.uneditable

    @property
    def restockable(self) -> bool:
        return self.line_item is not None and self.variant is not None


@dataclass(eq=False)
class CalculatedOrder:
    """A staged edit: ``lines`` are the order's line items as edited, ``added`` the lines
    this edit adds (CalculatedOrder.lineItems and .addedLineItems)."""

    id: str
    order: Order
    lines: list[CalculatedLine]
    added: list[CalculatedLine] = field(default_factory=list)

    @property
    def session_id(self) -> str:
        return self.id.replace("/CalculatedOrder/", "/OrderEditSession/")

    @property
    def order_edit_session(self) -> dict[str, str]:
        return {"id": self.session_id}

    @property
    def original_order(self) -> Order:
        return self.order

    @property
    def line_items(self) -> list[CalculatedLine]:
        return self.lines

    @property
    def added_line_items(self) -> list[CalculatedLine]:
        return self.added

    @property
    def subtotal_line_items_quantity(self) -> int:
        return sum(line.quantity for line in (*self.lines, *self.added))

    @property
    def subtotal_price_set(self) -> dict[str, Any]:
        lines = (*self.lines, *self.added)
        subtotal = sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
        return money_bag(subtotal, self.order.currency_code)

    @property
    def total_price_set(self) -> dict[str, Any]:
        lines = (*self.lines, *self.added)
        change = sum((ln.unit_price * (ln.quantity - ln.before) for ln in lines), Decimal(0))
        return money_bag(self.order.total + change, self.order.currency_code)


@dataclass(eq=False)
class OrderEdit:
    """A committed edit: what the orders/edited webhook reports."""

    id: str
    order: Order
    created_at: str
    staff_note: str | None
    notify_customer: bool
    additions: list[tuple[LineItem, int]]
    removals: list[tuple[LineItem, int]]


@dataclass(eq=False)
class Event:
    """A BasicEvent on the order's timeline. An edit's staff note is shown with its "edited"
    entry; the simulator keeps it, with the lines the edit changed, in ``additionalContent``
    (Shopify's field for a timeline entry's collapsible part; the content's exact shape is
    not confirmed). ``additionalContent`` is a JSON-encoded string, as a live store answers."""

    id: str
    order: Order
    action: str
    message: str
    created_at: str
    app_title: str | None
    edit: OrderEdit | None = None
    secondary_message: str | None = None
    attribute_to_app: bool = True
    attribute_to_user: bool = False
    critical_alert: bool = False
    subject_type: str = "ORDER"

    @property
    def subject_id(self) -> str:
        return self.order.id

    @property
    def has_additional_content(self) -> bool:
        return self.edit is not None

    @property
    def additional_content(self) -> str:
        content = edit_content(self.edit) if self.edit is not None else None
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False)


def edit_content(edit: OrderEdit) -> dict[str, Any]:
    """The collapsible part of an "edited" timeline entry: the staff note and the lines."""
    return {
        "staff_note": edit.staff_note,
        "line_items": {
            "additions": [{"id": li.id, "sku": li.sku, "delta": n} for li, n in edit.additions],
            "removals": [{"id": li.id, "sku": li.sku, "delta": n} for li, n in edit.removals],
        },
    }
