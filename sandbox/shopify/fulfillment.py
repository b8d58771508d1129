"""Fulfillment-order mutations: move, fulfil (fulfillmentCreate), cancel, hold, release.

Each checks the fulfillment order's ``supportedActions`` first, so what the API lists is what
it accepts; a refused request is a userError with HTTP 200, never a GraphQL error. Message
texts follow Shopify's where the contract quotes one, and are plain English otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sandbox.shopify.catalog import Location
from sandbox.shopify.orders import add_fulfillment_order
from sandbox.shopify.store import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentOrderLine,
    Hold,
    Shop,
    supported_actions,
)
from sandbox.shopify.wire import user_error

Payload = dict[str, Any]
_QUANTITY_TOO_HIGH = "Quantity must be less than or equal to the remaining quantity."


def _missing(field: list[str]) -> dict[str, Any]:
    return user_error(field, "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")


def _pick_lines(
    fo: FulfillmentOrder, wanted: Sequence[dict[str, Any]] | None, field: list[str]
) -> tuple[list[tuple[FulfillmentOrderLine, int]], list[dict[str, Any]]]:
    """(line, quantity) pairs asked for; none asked means everything still remaining."""
    if wanted is None:
        return [(ln, ln.remaining_quantity) for ln in fo.lines if ln.remaining_quantity], []
    by_id = {ln.id: ln for ln in fo.lines}
    picked: list[tuple[FulfillmentOrderLine, int]] = []
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(wanted):
        line = by_id.get(str(item.get("id")))
        quantity = int(item.get("quantity") or 0)
        if line is None:
            msg = "Fulfillment order line item does not belong to the fulfillment order."
            errors.append(user_error([*field, str(i), "id"], msg))
        elif quantity < 1:
            errors.append(user_error([*field, str(i), "quantity"], "Quantity must be positive."))
        elif quantity > line.remaining_quantity:
            errors.append(user_error([*field, str(i), "quantity"], _QUANTITY_TOO_HIGH))
        else:
            picked.append((line, quantity))
    return picked, errors


def _split_off(
    shop: Shop,
    fo: FulfillmentOrder,
    picked: Sequence[tuple[FulfillmentOrderLine, int]],
    location: Location,
) -> FulfillmentOrder:
    """A new OPEN fulfillment order at ``location`` holding ``picked``, taken out of ``fo``."""
    new_lines = []
    for line, quantity in picked:
        new_lines.append(
            FulfillmentOrderLine(
                shop.new_id("FulfillmentOrderLineItem"), line.line_item, quantity, quantity
            )
        )
        line.total_quantity -= quantity
        line.remaining_quantity -= quantity
    fo.lines = [ln for ln in fo.lines if ln.total_quantity > 0]
    fo.updated_at = shop.now()
    return add_fulfillment_order(shop, fo.order, location, new_lines)


def move(
    shop: Shop, fo_id: str, location_id: str, wanted: Sequence[dict[str, Any]] | None
) -> Payload:
    empty: Payload = {
        "movedFulfillmentOrder": None,
        "originalFulfillmentOrder": None,
        "remainingFulfillmentOrder": None,
    }
    fo = shop.fulfillment_orders.get(fo_id)
    if fo is None:
        return {**empty, "userErrors": [_missing(["id"])]}
    if "MOVE" not in supported_actions(fo):
        msg = f"Cannot move a fulfillment order with status {fo.status.lower()}."
        return {**empty, "userErrors": [user_error(["id"], msg)]}
    location = shop.location_by_id.get(location_id)
    if location is None or not location.is_active:
        return {**empty, "userErrors": [user_error(["newLocationId"], "Location not found.")]}
    if location is fo.location:
        msg = "The fulfillment order is already assigned to this location."
        return {**empty, "userErrors": [user_error(["newLocationId"], msg)]}
    picked, errors = _pick_lines(fo, wanted, ["fulfillmentOrderLineItems"])
    if errors or not picked:
        errors = errors or [user_error(["id"], "There is nothing left to move.")]
        return {**empty, "userErrors": errors}
    everything = sum(q for _, q in picked) == sum(ln.remaining_quantity for ln in fo.lines)
    if everything and not fo.fulfilled_anything:
        # Nothing shipped yet and all of it moves: Shopify re-assigns the order itself.
        fo.location = location
        fo.updated_at = shop.now()
        return {
            **empty,
            "movedFulfillmentOrder": fo,
            "originalFulfillmentOrder": fo,
            "userErrors": [],
        }
    moved = _split_off(shop, fo, picked, location)
    if not any(ln.remaining_quantity for ln in fo.lines):
        fo.status = "CLOSED"
    return {
        "movedFulfillmentOrder": moved,
        "originalFulfillmentOrder": fo,
        "remainingFulfillmentOrder": fo,
        "userErrors": [],
    }


def fulfil(shop: Shop, data: dict[str, Any]) -> Payload:
    """fulfillmentCreate: all listed fulfillment orders share one order and one location."""
    field = ["fulfillment", "lineItemsByFulfillmentOrder"]
    groups = data.get("lineItemsByFulfillmentOrder") or []
    errors: list[dict[str, Any]] = []
    picked: list[tuple[FulfillmentOrderLine, int]] = []
    touched: list[FulfillmentOrder] = []
    for i, group in enumerate(groups):
        fo = shop.fulfillment_orders.get(str(group.get("fulfillmentOrderId")))
        if fo is None:
            errors.append(_missing([*field, str(i), "fulfillmentOrderId"]))
            continue
        if "CREATE_FULFILLMENT" not in supported_actions(fo):
            msg = f"Fulfillment order {fo.id} has an unfulfillable status= {fo.status.lower()}."
            errors.append(user_error([*field, str(i), "fulfillmentOrderId"], msg))
            continue
        if touched and (fo.order is not touched[0].order or fo.location is not touched[0].location):
            msg = "All fulfillment orders must belong to the same order and location."
            errors.append(user_error([*field, str(i), "fulfillmentOrderId"], msg))
            continue
        lines, line_errors = _pick_lines(
            fo,
            group.get("fulfillmentOrderLineItems"),
            [*field, str(i), "fulfillmentOrderLineItems"],
        )
        errors += line_errors
        picked += lines
        touched.append(fo)
    if not groups:
        errors.append(user_error(field, "Line items by fulfillment order can't be blank."))
    elif not errors and not picked:
        errors.append(user_error(field, "There are no remaining line items to fulfill."))
    if errors:
        return {"fulfillment": None, "userErrors": errors}

    order, location = touched[0].order, touched[0].location
    fulfilled: list[FulfillmentLine] = []
    for line, quantity in picked:
        line.remaining_quantity -= quantity
        line.line_item.fulfilled += quantity
        fl = FulfillmentLine(shop.new_id("FulfillmentLineItem"), line.line_item, quantity)
        shop.fulfillment_lines[fl.id] = fl
        fulfilled.append(fl)
    fulfillment = Fulfillment(
        id=shop.new_id("Fulfillment"),
        name=f"{order.name}.{len(order.fulfillments) + 1}",
        order=order,
        location=location,
        created_at=shop.now(),
        tracking_info=_tracking(data.get("trackingInfo")),
        lines=fulfilled,
    )
    shop.fulfillments[fulfillment.id] = fulfillment
    order.fulfillments.append(fulfillment)
    for fo in dict.fromkeys(touched):
        fo.fulfillments.append(fulfillment)
        # Partial shipment leaves the order IN_PROGRESS; nothing remaining closes it.
        fo.status = "CLOSED" if not any(ln.remaining_quantity for ln in fo.lines) else "IN_PROGRESS"
        fo.updated_at = fulfillment.created_at
    return {"fulfillment": fulfillment, "userErrors": []}


def _tracking(info: dict[str, Any] | None) -> list[dict[str, str | None]]:
    if not info:
        return []
    numbers = list(info.get("numbers") or ([info["number"]] if info.get("number") else []))
    urls = list(info.get("urls") or ([info["url"]] if info.get("url") else []))
    company = info.get("company")
    count = max(len(numbers), len(urls), 1 if company else 0)
    return [
        {
            "company": company,
            "number": numbers[i] if i < len(numbers) else None,
            "url": urls[i] if i < len(urls) else None,
        }
        for i in range(count)
    ]


def cancel(shop: Shop, fo_id: str) -> Payload:
    """Cancels the fulfillment order and opens a replacement with what was left: it takes
    the work away from that location; it does not cancel the order (orderCancel does)."""
    empty: Payload = {"fulfillmentOrder": None, "replacementFulfillmentOrder": None}
    fo = shop.fulfillment_orders.get(fo_id)
    if fo is None:
        return {**empty, "userErrors": [_missing(["id"])]}
    if "CANCEL_FULFILLMENT_ORDER" not in supported_actions(fo):
        msg = f"Cannot cancel a fulfillment order with status {fo.status.lower()}."
        return {**empty, "userErrors": [user_error(["id"], msg)]}
    fo.status = "CANCELLED"
    fo.updated_at = shop.now()
    remaining = [
        FulfillmentOrderLine(
            shop.new_id("FulfillmentOrderLineItem"),
            ln.line_item,
            ln.remaining_quantity,
            ln.remaining_quantity,
        )
        for ln in fo.lines
        if ln.remaining_quantity
    ]
    replacement = (
        add_fulfillment_order(shop, fo.order, fo.location, remaining) if remaining else None
    )
    return {"fulfillmentOrder": fo, "replacementFulfillmentOrder": replacement, "userErrors": []}


def hold(shop: Shop, fo_id: str, data: dict[str, Any]) -> Payload:
    empty: Payload = {
        "fulfillmentOrder": None,
        "fulfillmentHold": None,
        "remainingFulfillmentOrder": None,
    }
    fo = shop.fulfillment_orders.get(fo_id)
    if fo is None:
        return {**empty, "userErrors": [_missing(["id"])]}
    if "HOLD" not in supported_actions(fo):
        msg = f"Cannot hold a fulfillment order with status {fo.status.lower()}."
        return {**empty, "userErrors": [user_error(["id"], msg, "INVALID_STATE")]}
    handle = data.get("handle")
    if handle and any(h.handle == handle for h in fo.holds):
        msg = "The handle provided for the fulfillment hold is already in use by this app."
        return {
            **empty,
            "userErrors": [
                user_error(["fulfillmentHold", "handle"], msg, "DUPLICATE_FULFILLMENT_HOLD_HANDLES")
            ],
        }
    remaining = None
    wanted = data.get("fulfillmentOrderLineItems")
    if wanted:
        picked, errors = _pick_lines(fo, wanted, ["fulfillmentHold", "fulfillmentOrderLineItems"])
        if errors:
            return {**empty, "userErrors": errors}
        held = {line.id: q for line, q in picked}
        rest = [(ln, ln.remaining_quantity - held.get(ln.id, 0)) for ln in fo.lines]
        rest = [(ln, q) for ln, q in rest if q > 0]
        if rest:
            # Only the listed items are held; the others go on in their own order.
            remaining = _split_off(shop, fo, rest, fo.location)
    new_hold = Hold(
        shop.new_id("FulfillmentHold"), str(data["reason"]), data.get("reasonNotes"), handle
    )
    fo.holds.append(new_hold)
    fo.status = "ON_HOLD"
    fo.updated_at = shop.now()
    return {
        "fulfillmentOrder": fo,
        "fulfillmentHold": new_hold,
        "remainingFulfillmentOrder": remaining,
        "userErrors": [],
    }


def release_hold(shop: Shop, fo_id: str, hold_ids: Sequence[str] | None) -> Payload:
    fo = shop.fulfillment_orders.get(fo_id)
    if fo is None:
        return {"fulfillmentOrder": None, "userErrors": [_missing(["id"])]}
    if "RELEASE_HOLD" not in supported_actions(fo):
        msg = "The fulfillment order is not on hold."
        return {"fulfillmentOrder": None, "userErrors": [user_error(["id"], msg, "INVALID_STATE")]}
    released = set(hold_ids) if hold_ids else {h.id for h in fo.holds}
    fo.holds = [h for h in fo.holds if h.id not in released]
    if not fo.holds:
        fo.status = "IN_PROGRESS" if fo.fulfilled_anything else "OPEN"
    fo.updated_at = shop.now()
    return {"fulfillmentOrder": fo, "userErrors": []}


def set_status(shop: Shop, fo_id: str, status: str) -> FulfillmentOrder | str:
    """Sandbox-only: what a warehouse app does when it starts (or undoes) picking."""
    fo = shop.fulfillment_orders.get(fo_id)
    if fo is None:
        return "Fulfillment order does not exist."
    if status not in ("OPEN", "IN_PROGRESS") or fo.status not in ("OPEN", "IN_PROGRESS"):
        return f"Cannot set status {status} on a fulfillment order that is {fo.status}."
    fo.status = status
    fo.updated_at = shop.now()
    return fo
