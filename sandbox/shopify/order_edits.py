"""Order editing: orderEditBegin, orderEditSetQuantity, orderEditAddVariant, orderEditCommit.

An edit is staged: orderEditBegin opens a CalculatedOrder (a second begin opens another,
fresh one) and the SetQuantity/AddVariant mutations change only it; nothing reaches the
order until orderEditCommit. Checked against captures of a live store (2026-04):

* userErrors: an unknown order is ``["id"] The order does not exist.``, an unknown or
  already committed calculated order ``["id"] The calculated order does not exist.``, an
  unknown line ``["lineItemId"] The line item does not exist on the order.``, an unknown
  variant ``["variantId"] The variant does not exist in the shop.``, a quantity below zero
  ``["quantity"] must be greater than or equal to 0`` (orderEditAddVariant also wants more
  than 0), and a cancelled order ``(no field) The order cannot be edited.``. A closed
  (archived) order can be edited; the commit reopens it ("Order unarchived").
* Commit: a line set lower keeps its ``quantity`` and drops its ``currentQuantity`` (to 0
  when removed: the line stays); added variants become new line items at the variant's
  price. The removed units come off the open fulfillment-order lines holding them (same
  line ids, lower totals), and the added units go onto a new OPEN fulfillment order, as a
  live store did with an open one at hand. The simulator assigns it to the location holding
  most of the order's open units, or the default location when none is open.
* The staff note is shown with the "edited" entry of the order's timeline (Order.events,
  action "edited", "<app> edited this order."), not in Order.note.

The simulator's own wording (no capture): a quantity below what was fulfilled, an unknown
``locationId``, a variant already on the order without ``allowDuplicates``. Where a line
whose units all left a fulfillment order goes (here: off the fulfillment order, which
closes when nothing remains on it) is not confirmed. ``restock`` is recorded, not acted on:
the simulator keeps no inventory. Starting an edit while another is open is allowed here;
a commit voids every other open edit of the order (they were computed on what it was).
"""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from sandbox.shopify.catalog import Location, gid, gid_number
from sandbox.shopify.edit_records import CalculatedLine, CalculatedOrder, Event, OrderEdit
from sandbox.shopify.orders import add_fulfillment_order
from sandbox.shopify.store import FulfillmentOrderLine, LineItem, Order, Shop
from sandbox.shopify.wire import user_error

Payload = dict[str, Any]
APP_TITLE = "Commerce Gateway"  # the sandbox's one custom app, as timeline entries name it
_NOT_EDITABLE = "The order cannot be edited."
_NO_CALCULATED_ORDER = "The calculated order does not exist."
# Removed units leave the fulfillment orders least far along first.
_TAKE_FROM = ("OPEN", "SCHEDULED", "ON_HOLD", "IN_PROGRESS")


def begin(shop: Shop, order_id: str) -> Payload:
    empty: Payload = {"calculatedOrder": None, "orderEditSession": None}
    order = shop.orders.get(order_id)
    if order is None:
        return {**empty, "userErrors": [user_error(["id"], "The order does not exist.")]}
    if not order.merchant_editable:
        return {**empty, "userErrors": [user_error(None, _NOT_EDITABLE)]}
    calculated = CalculatedOrder(
        shop.new_id("CalculatedOrder"), order, [_as_calculated(li) for li in order.line_items]
    )
    shop.calculated_orders[calculated.id] = calculated
    return {
        "calculatedOrder": calculated,
        "orderEditSession": calculated.order_edit_session,
        "userErrors": [],
    }


def set_quantity(
    shop: Shop, edit_id: str, line_id: str, quantity: int, restock: bool | None
) -> Payload:
    empty: Payload = {"calculatedOrder": None, "calculatedLineItem": None, "orderEditSession": None}
    calculated = _staged(shop, edit_id)
    if calculated is None:
        return {**empty, "userErrors": [user_error(["id"], _NO_CALCULATED_ORDER)]}
    if quantity < 0:
        error = user_error(["quantity"], "must be greater than or equal to 0")
        return {**empty, "userErrors": [error]}
    line = next((ln for ln in (*calculated.lines, *calculated.added) if ln.id == line_id), None)
    if line is None:
        error = user_error(["lineItemId"], "The line item does not exist on the order.")
        return {**empty, "userErrors": [error]}
    if quantity < line.uneditable:
        message = f"Quantity can't be less than the {line.uneditable} already fulfilled."
        return {**empty, "userErrors": [user_error(["quantity"], message)]}
    line.quantity = quantity
    line.restocking = bool(restock) and line.restockable and quantity < line.before
    return _staged_payload(calculated, line)


def add_variant(
    shop: Shop,
    edit_id: str,
    variant_id: str,
    quantity: int,
    location_id: str | None,
    allow_duplicates: bool | None,
) -> Payload:
    empty: Payload = {"calculatedOrder": None, "calculatedLineItem": None, "orderEditSession": None}
    calculated = _staged(shop, edit_id)
    if calculated is None:
        return {**empty, "userErrors": [user_error(["id"], _NO_CALCULATED_ORDER)]}
    errors = []
    if quantity <= 0:
        errors.append(user_error(["quantity"], "must be greater than 0"))
    if quantity < 0:
        errors.append(user_error(["quantity"], "must be greater than or equal to 0"))
    variant = shop.variant_by_id.get(variant_id)
    if not errors and variant is None:
        errors.append(user_error(["variantId"], "The variant does not exist in the shop."))
    location = shop.location_by_id.get(location_id) if location_id is not None else None
    if not errors and location_id is not None and (location is None or not location.is_active):
        errors.append(user_error(["locationId"], "Location not found."))
    lines = (*calculated.lines, *calculated.added)
    if not errors and not allow_duplicates and any(ln.variant is variant for ln in lines):
        message = "The variant is already on the order; allowDuplicates adds it again."
        errors.append(user_error(["variantId"], message))
    if errors or variant is None:
        return {**empty, "userErrors": errors}
    line = CalculatedLine(
        id=f"gid://shopify/CalculatedLineItem/{uuid.uuid4()}",
        sku=variant.sku,
        title=variant.product["title"],
        unit_price=variant.price,
        currency=calculated.order.currency_code,
        variant=variant,
        quantity=quantity,
        before=0,
    )
    calculated.added.append(line)
    return _staged_payload(calculated, line)


def commit(
    shop: Shop, edit_id: str, notify_customer: bool | None, staff_note: str | None
) -> Payload:
    empty: Payload = {"order": None, "successMessages": None}
    calculated = _staged(shop, edit_id)
    if calculated is None:
        return {**empty, "userErrors": [user_error(["id"], _NO_CALCULATED_ORDER)]}
    order = calculated.order
    if not order.merchant_editable:
        return {**empty, "userErrors": [user_error(None, _NOT_EDITABLE)]}
    removals: list[tuple[LineItem, int]] = []
    additions: list[tuple[LineItem, int]] = []
    for line in calculated.lines:
        item, delta = line.line_item, line.quantity - line.before
        assert item is not None  # lines of the order itself
        if delta < 0:
            item.removed -= delta
            removals.append((item, -delta))
        elif delta > 0:
            item.quantity += delta
            additions.append((item, delta))
    for line in calculated.added:
        if line.quantity > 0:
            item = LineItem(
                shop.new_id("LineItem"),
                line.sku,
                line.title,
                line.quantity,
                line.unit_price,
                line.currency,
                line.variant,
            )
            order.line_items.append(item)
            additions.append((item, line.quantity))
    order.total += sum((i.unit_price * n for i, n in additions), Decimal(0))
    order.total -= sum((i.unit_price * n for i, n in removals), Decimal(0))
    for item, units in removals:
        _take_off(shop, order, item, units)
    if additions:
        lines = [
            FulfillmentOrderLine(shop.new_id("FulfillmentOrderLineItem"), item, n, n)
            for item, n in additions
        ]
        add_fulfillment_order(shop, order, _home(shop, order), lines)
    messages = ["Order updated"]
    if order.closed:
        order.closed = False
        messages.append("Order unarchived")
    if notify_customer:
        messages.append("Notification sent")  # the sandbox sends no mail
    now = shop.now()
    edit = OrderEdit(
        shop.new_id("OrderEdit"), order, now, staff_note, bool(notify_customer), additions, removals
    )
    order.events.append(
        Event(
            shop.new_id("BasicEvent"),
            order,
            "edited",
            f"{APP_TITLE} edited this order.",
            now,
            APP_TITLE,
            edit,
        )
    )
    for stale in [k for k, c in shop.calculated_orders.items() if c.order is order]:
        del shop.calculated_orders[stale]
    return {"order": order, "successMessages": messages, "userErrors": []}


def _as_calculated(item: LineItem) -> CalculatedLine:
    return CalculatedLine(
        id=gid("CalculatedLineItem", gid_number(item.id)),
        sku=item.sku,
        title=item.title,
        unit_price=item.unit_price,
        currency=item.currency,
        variant=item.variant,
        quantity=item.current_quantity,
        before=item.current_quantity,
        line_item=item,
        uneditable=item.fulfilled,
    )


def _staged(shop: Shop, edit_id: str) -> CalculatedOrder | None:
    """The id of a CalculatedOrder or of its OrderEditSession (accepted since 2025-10)."""
    return shop.calculated_orders.get(edit_id.replace("/OrderEditSession/", "/CalculatedOrder/"))


def _staged_payload(calculated: CalculatedOrder, line: CalculatedLine) -> Payload:
    return {
        "calculatedOrder": calculated,
        "calculatedLineItem": line,
        "orderEditSession": calculated.order_edit_session,
        "userErrors": [],
    }


def _take_off(shop: Shop, order: Order, item: LineItem, units: int) -> None:
    live = sorted(
        (fo for fo in order.fulfillment_orders if fo.status in _TAKE_FROM),
        key=lambda fo: _TAKE_FROM.index(fo.status),
    )
    for fo in live:
        touched = False
        for line in fo.lines:
            if units and line.line_item is item and line.remaining_quantity:
                take = min(units, line.remaining_quantity)
                line.total_quantity -= take
                line.remaining_quantity -= take
                units -= take
                touched = True
        if not touched:
            continue
        fo.lines = [ln for ln in fo.lines if ln.total_quantity > 0]
        if not any(ln.remaining_quantity for ln in fo.lines):
            fo.status = "CLOSED"
        fo.updated_at = shop.now()


def _home(shop: Shop, order: Order) -> Location:
    """Where added units go: the location holding most of the order's open units."""
    held: Counter[str] = Counter()
    locations: dict[str, Location] = {}
    for fo in order.fulfillment_orders:
        if fo.status in _TAKE_FROM:
            units = sum(ln.remaining_quantity for ln in fo.lines)
            if units:
                held[fo.location.id] += units
                locations.setdefault(fo.location.id, fo.location)
    if not held:
        return shop.default_location
    return locations[held.most_common(1)[0][0]]
