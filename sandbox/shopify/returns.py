"""Returns (RMA): returnableFulfillments, returnRequest -> returnApproveRequest or
returnDeclineRequest, returnCreate (merchant-initiated, born OPEN) and returnClose.

Returns point at FulfillmentLineItems (what was shipped), not at order lines, and only the
quantity not already on a live return (REQUESTED, OPEN or CLOSED) can be returned again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sandbox.shopify.catalog import ReasonDefinition, gid, gid_number
from sandbox.shopify.store import (
    FulfillmentLine,
    Order,
    Return,
    ReturnLine,
    ReverseFulfillmentOrder,
    Shop,
)
from sandbox.shopify.wire import user_error

Payload = dict[str, Any]
_LIVE = ("REQUESTED", "OPEN", "CLOSED")
# The deprecated ReturnReason enum value each reason definition stands for.
_ENUM_OF_HANDLE = {
    "color": "COLOR",
    "defective": "DEFECTIVE",
    "damaged": "DEFECTIVE",
    "not-as-described": "NOT_AS_DESCRIBED",
    "wrong-item": "WRONG_ITEM",
    "style": "STYLE",
    "too-large": "SIZE_TOO_LARGE",
    "too-small": "SIZE_TOO_SMALL",
    "unwanted": "UNWANTED",
    "other": "OTHER",
}


def returnable_quantities(order: Order) -> dict[FulfillmentLine, int]:
    on_returns: dict[str, int] = {}
    for ret in order.returns:
        if ret.status in _LIVE:
            for line in ret.lines:
                key = line.fulfillment_line_item.id
                on_returns[key] = on_returns.get(key, 0) + line.quantity
    return {
        fl: fl.quantity - on_returns.get(fl.id, 0)
        for fulfillment in order.fulfillments
        for fl in fulfillment.lines
    }


def returnable_fulfillments(shop: Shop, order_id: str) -> list[dict[str, Any]]:
    order = shop.orders.get(order_id)
    if order is None:
        return []
    left = returnable_quantities(order)
    answer = []
    for fulfillment in order.fulfillments:
        # "id" lets the connection order and page the rows; GraphQL never renders it.
        items = [
            {"id": fl.id, "quantity": left[fl], "fulfillmentLineItem": fl}
            for fl in fulfillment.lines
            if left[fl] > 0
        ]
        if items:
            answer.append(
                {
                    "id": gid("ReturnableFulfillment", gid_number(fulfillment.id)),
                    "fulfillment": fulfillment,
                    "returnableFulfillmentLineItems": items,
                }
            )
    return answer


def open_return(shop: Shop, data: dict[str, Any], *, approved: bool, field: str) -> Payload:
    """returnRequest (``approved=False``: REQUESTED) and returnCreate (OPEN at once)."""
    order = shop.orders.get(str(data.get("orderId")))
    if order is None:
        msg = "Order does not exist."
        return {"return": None, "userErrors": [user_error([field, "orderId"], msg, "NOT_FOUND")]}
    left = {fl.id: q for fl, q in returnable_quantities(order).items()}
    errors: list[dict[str, Any]] = []
    lines: list[ReturnLine] = []
    wanted: Sequence[dict[str, Any]] = data.get("returnLineItems") or []
    if not wanted:
        errors.append(
            user_error([field, "returnLineItems"], "Return line items can't be blank.", "BLANK")
        )
    for i, item in enumerate(wanted):
        where = [field, "returnLineItems", str(i)]
        fl = shop.fulfillment_lines.get(str(item.get("fulfillmentLineItemId")))
        quantity = int(item.get("quantity") or 0)
        if fl is None or fl.id not in left:
            msg = "Fulfillment line item does not exist on this order."
            errors.append(user_error([*where, "fulfillmentLineItemId"], msg, "NOT_FOUND"))
            continue
        if quantity < 1 or quantity > left[fl.id]:
            msg = "Quantity is not available for return."
            errors.append(user_error([*where, "quantity"], msg, "INVALID"))
            continue
        definition: ReasonDefinition | None = None
        if item.get("returnReasonDefinitionId") is not None:
            definition = shop.reason_by_id.get(str(item["returnReasonDefinitionId"]))
            if definition is None:
                msg = "Return reason definition does not exist."
                errors.append(user_error([*where, "returnReasonDefinitionId"], msg, "NOT_FOUND"))
                continue
        reason = item.get("returnReason") or (
            _ENUM_OF_HANDLE.get(definition.handle, "OTHER") if definition else "UNKNOWN"
        )
        left[fl.id] -= quantity
        lines.append(
            ReturnLine(
                id=shop.new_id("ReturnLineItem"),
                fulfillment_line_item=fl,
                quantity=quantity,
                customer_note=item.get("customerNote"),
                return_reason_note=str(item.get("returnReasonNote") or ""),
                return_reason_definition=definition,
                return_reason=str(reason),
            )
        )
    if errors:
        return {"return": None, "userErrors": errors}
    now = shop.now()
    ret = Return(
        id=shop.new_id("Return"),
        name=f"{order.name}-R{len(order.returns) + 1}",
        order=order,
        status="REQUESTED",
        lines=lines,
        created_at=now,
    )
    if approved:
        _open(shop, ret)
    order.returns.append(ret)
    shop.returns[ret.id] = ret
    return {"return": ret, "userErrors": []}


def _open(shop: Shop, ret: Return) -> None:
    ret.status = "OPEN"
    ret.request_approved_at = shop.now()
    ret.reverse_fulfillment_orders.append(
        ReverseFulfillmentOrder(shop.new_id("ReverseFulfillmentOrder"))
    )


def _find(shop: Shop, return_id: str, field: list[str], want: str, done: str) -> Return | Payload:
    """The return, if it exists and is in status ``want``; else the payload refusing it."""
    ret = shop.returns.get(return_id)
    if ret is None:
        return {
            "return": None,
            "userErrors": [user_error(field, "Return does not exist.", "NOT_FOUND")],
        }
    if ret.status != want:
        msg = f"Only returns with status {want} can be {done}; this one is {ret.status}."
        return {"return": None, "userErrors": [user_error(field, msg, "INVALID_STATE")]}
    return ret


def approve(shop: Shop, data: dict[str, Any]) -> Payload:
    found = _find(shop, str(data.get("id")), ["input", "id"], "REQUESTED", "approved")
    if not isinstance(found, Return):
        return found
    _open(shop, found)
    return {"return": found, "userErrors": []}


def decline(shop: Shop, data: dict[str, Any]) -> Payload:
    found = _find(shop, str(data.get("id")), ["input", "id"], "REQUESTED", "declined")
    if not isinstance(found, Return):
        return found
    note = data.get("declineNote")
    if note is not None and len(note) > 500:
        msg = "Decline note is too long (maximum is 500 characters)."
        return {
            "return": None,
            "userErrors": [user_error(["input", "declineNote"], msg, "TOO_LONG")],
        }
    found.status = "DECLINED"
    found.decline = {"reason": str(data["declineReason"]), "note": note}
    return {"return": found, "userErrors": []}


def close(shop: Shop, return_id: str) -> Payload:
    found = _find(shop, return_id, ["id"], "OPEN", "closed")
    if not isinstance(found, Return):
        return found
    found.status = "CLOSED"
    found.closed_at = shop.now()
    for rfo in found.reverse_fulfillment_orders:
        rfo.status = "CLOSED"
    return {"return": found, "userErrors": []}
