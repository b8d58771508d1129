"""orderCreate, orderCancel and the order look-ups (``order(id)``, ``orders(query:)``).

orderCreate imports an order placed elsewhere and, like a shop without order routing rules,
assigns all of it to one fulfillment order at the default location. ``sourceIdentifier`` is
stored and searchable but not unique: Shopify does not refuse a second order with the same
value, which is why a client must look before it creates.

orderCancel cancels the order itself (``cancelledAt``, ``cancelReason``) and with it all the
work still open: every fulfillment order not yet CLOSED is CANCELLED and, unlike
fulfillmentOrderCancel, no replacement is opened. Shopify runs it as a background job; here
the job is done by the time the mutation answers. Shopify documents that an order can only
be cancelled if it has not been cancelled already and has no return in progress, so a second
orderCancel is an orderCancelUserError (code INVALID; the message text is the simulator's),
as is one on an order with a requested or open return. A fulfillment order that shipped part
of its units is CLOSED rather than CANCELLED. ``refund`` (deprecated since 2025-07),
``refundMethod`` and ``restock`` are accepted but not acted on: the simulator keeps no
payments or inventory for orders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.retailer import CURRENCY
from sandbox.shopify.catalog import Location, iso
from sandbox.shopify.search import matches, parse_query
from sandbox.shopify.store import FulfillmentOrder, FulfillmentOrderLine, LineItem, Order, Shop
from sandbox.shopify.wire import user_error

_PAID_KINDS = ("SALE", "CAPTURE")


def create_order(
    shop: Shop, data: dict[str, Any], options: dict[str, Any] | None
) -> dict[str, Any]:
    """The OrderCreatePayload: the new order, or userErrors and no order."""
    errors: list[dict[str, Any]] = []
    currency = str(data.get("currency") or CURRENCY)
    lines_in = data.get("lineItems") or []
    if not lines_in:
        errors.append(user_error(["order", "lineItems"], "Line items can't be blank.", "BLANK"))
    drafts: list[tuple[Any, str | None, str, int, Decimal]] = []
    for i, line in enumerate(lines_in):
        where = ["order", "lineItems", str(i)]
        variant = None
        if line.get("variantId") is not None:
            variant = shop.variant_by_id.get(str(line["variantId"]))
            if variant is None:
                errors.append(
                    user_error([*where, "variantId"], "Variant does not exist.", "INVALID")
                )
                continue
        elif not line.get("title"):
            errors.append(
                user_error(
                    [*where, "title"], "Custom line items need a title and a price.", "INVALID"
                )
            )
            continue
        quantity = int(line.get("quantity") or 0)
        if quantity < 1:
            errors.append(
                user_error([*where, "quantity"], "Quantity must be greater than 0.", "INVALID")
            )
            continue
        price = _amount(line.get("priceSet"))
        if price is None:
            price = variant.price if variant is not None else Decimal(0)
        title = variant.product["title"] if variant is not None else str(line["title"])
        sku = variant.sku if variant is not None else line.get("sku")
        drafts.append((variant, sku, title, quantity, price))
    if errors:
        return {"order": None, "userErrors": errors}

    created = shop.now()
    items = [
        LineItem(shop.new_id("LineItem"), sku, title, quantity, price, currency, variant)
        for variant, sku, title, quantity, price in drafts
    ]
    shipping = sum(
        (_amount(s.get("priceSet")) or Decimal(0) for s in data.get("shippingLines") or []),
        Decimal(0),
    )
    paid = sum(
        (
            _amount(t.get("amountSet")) or Decimal(0)
            for t in data.get("transactions") or []
            if t.get("kind", "SALE") in _PAID_KINDS and t.get("status", "SUCCESS") == "SUCCESS"
        ),
        Decimal(0),
    )
    customer = (data.get("customer") or {}).get("toUpsert")
    order = Order(
        id=shop.new_id("Order"),
        number=shop.next_order_number(),
        source_identifier=data.get("sourceIdentifier"),
        source_name=data.get("sourceName"),
        email=data.get("email") or (customer or {}).get("email"),
        note=data.get("note"),
        tags=sorted({str(tag) for tag in data.get("tags") or []}),
        currency_code=currency,
        created_at=created,
        line_items=items,
        total=sum((i.unit_price * i.quantity for i in items), Decimal(0)) + shipping,
        paid=paid,
        address=data.get("shippingAddress"),
        customer=_customer(customer),
    )
    shop.orders[order.id] = order
    fo_lines = [
        FulfillmentOrderLine(shop.new_id("FulfillmentOrderLineItem"), i, i.quantity, i.quantity)
        for i in items
    ]
    add_fulfillment_order(shop, order, shop.default_location, fo_lines)
    return {"order": order, "userErrors": []}


def add_fulfillment_order(
    shop: Shop, order: Order, location: Location, lines: list[FulfillmentOrderLine]
) -> FulfillmentOrder:
    now = shop.clock()
    fo = FulfillmentOrder(
        id=shop.new_id("FulfillmentOrder"),
        order=order,
        location=location,
        lines=lines,
        created_at=iso(now),
        updated_at=iso(now),
        # Shopify schedules an unscheduled order's fulfilment for the hour it came in.
        fulfill_at=iso(now.replace(minute=0, second=0, microsecond=0)),
    )
    order.fulfillment_orders.append(fo)
    shop.fulfillment_orders[fo.id] = fo
    for line in lines:
        shop.fulfillment_order_lines[line.id] = line
    return fo


def search_orders(shop: Shop, query: str | None) -> list[Order]:
    groups = parse_query(query)
    return [order for order in shop.orders.values() if matches(order, groups, _order_values)]


def _order_values(order: Order, key: str) -> Sequence[str] | None:
    if key == "source_identifier":
        return [order.source_identifier] if order.source_identifier else []
    if key == "name":
        return [order.name, order.name.lstrip("#")]
    if key == "id":
        return [order.id, order.id.rsplit("/", 1)[-1]]
    if key == "email":
        return [order.email] if order.email else []
    if key == "tag":
        return order.tags
    return None


def _customer(upsert: dict[str, Any] | None) -> dict[str, Any] | None:
    if not upsert:
        return None
    first, last = upsert.get("firstName"), upsert.get("lastName")
    display = " ".join(str(p) for p in (first, last) if p) or str(upsert.get("email") or "")
    digest = hashlib.blake2b(f"{upsert.get('email')}|{display}".encode(), digest_size=5)
    number = int.from_bytes(digest.digest(), "big")
    return {
        "id": f"gid://shopify/Customer/{number}",
        "displayName": display,
        "email": upsert.get("email"),
        "firstName": first,
        "lastName": last,
    }


def _amount(bag: Any) -> Decimal | None:
    if not isinstance(bag, dict):
        return None
    money = bag.get("shopMoney") or bag.get("presentmentMoney") or {}
    try:
        return Decimal(str(money.get("amount")))
    except (InvalidOperation, ValueError):
        return None


def cancel_order(shop: Shop, order_id: str, args: dict[str, Any]) -> dict[str, Any]:
    """The OrderCancelPayload. ``userErrors`` (deprecated) repeats the typed errors."""
    order = shop.orders.get(order_id)
    if order is None:
        return _cancel_refused("Order does not exist.", "NOT_FOUND")
    if order.cancelled_at is not None:
        return _cancel_refused("Order has already been cancelled.", "INVALID")
    if any(r.status in ("REQUESTED", "OPEN") for r in order.returns):
        return _cancel_refused("Order has a return in progress.", "INVALID")
    now = shop.now()
    for fo in order.fulfillment_orders:
        if fo.status in ("CLOSED", "CANCELLED"):
            continue
        fo.status = "CLOSED" if fo.fulfilled_anything else "CANCELLED"
        fo.updated_at = now
    order.cancelled_at = now
    order.cancel_reason = str(args["reason"])
    job: dict[str, Any] = {"id": shop.new_id("Job"), "done": True}
    shop.jobs[job["id"]] = job
    return {"job": job, "orderCancelUserErrors": [], "userErrors": []}


def _cancel_refused(message: str, code: str) -> dict[str, Any]:
    error = user_error(["orderId"], message, code)  # UserError renders no code
    return {"job": None, "orderCancelUserErrors": [error], "userErrors": [error]}
