"""The bodies of the store's webhook deliveries: REST-style JSON (snake_case, numeric ids with
``admin_graphql_api_id`` beside them), as Shopify serialises webhooks.

* orders/*: the order as the REST Admin API's Order resource shows it, abridged to what the
  simulator knows (the contract's example is abridged the same way). ``source_identifier``
  is the one orderCreate was given; ``updated_at`` is when the order last changed.
* fulfillments/create: the REST Fulfillment resource.
* fulfillment_orders/*: shaped after shopify.dev's webhook reference examples
  (``{"fulfillment_order": {"id": gid, "status": ...}, ...}``). NOT CONFIRMED (the contracts
  say so too): the exact keys and whether ``status`` is lower case. Each fulfillment order
  object here also carries ``order_id``, the order's gid, so a receiver can tell which order
  it is about; Shopify's examples show no order reference.
* returns/*: the Return's id, status and order, abridged; NOT CONFIRMED either.
* orders/edited: ``{"order_edit": {...}}``, what changed rather than the order (line items
  added and removed with their deltas, the staff note), after Shopify's webhook reference
  example. ``app_id`` and ``user_id`` are null: the sandbox has no app or staff records.

Times are the shop's local time with its offset (the contract's ``created_at`` style); the
shop's time zone is taken to be Europe/Berlin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.shopify.edit_records import OrderEdit
from sandbox.shopify.store import (
    Fulfillment,
    FulfillmentOrder,
    FulfillmentOrderLine,
    Hold,
    LineItem,
    Order,
    Return,
)

SHOP_ZONE = ZoneInfo("Europe/Berlin")


def numeric_id(gid: str) -> int:
    return int(gid.rsplit("/", 1)[-1])


def shop_time(iso_utc: str | None) -> str | None:
    """A GraphQL DateTime ("...Z") as the REST resources write it: local time and offset."""
    if iso_utc is None:
        return None
    moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    return moment.astimezone(SHOP_ZONE).isoformat()


def order_body(order: Order, updated_at: str) -> dict[str, Any]:
    shipped = sum(line.fulfilled for line in order.line_items)
    ordered = sum(line.current_quantity for line in order.line_items)
    return {
        "id": numeric_id(order.id),
        "admin_graphql_api_id": order.id,
        "name": order.name,
        "order_number": order.number,
        "email": order.email,
        "created_at": shop_time(order.created_at),
        "updated_at": shop_time(updated_at),
        "processed_at": shop_time(order.processed_at),
        "cancelled_at": shop_time(order.cancelled_at),
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "closed_at": None,
        "currency": order.currency_code,
        "financial_status": order.display_financial_status.lower(),
        "fulfillment_status": _fulfillment_status(shipped, ordered),
        "total_price": f"{order.total:.2f}",
        "source_identifier": order.source_identifier,
        "source_name": order.source_name or "",
        "tags": ", ".join(order.tags),
        "note": order.note,
        "test": False,
        "shipping_address": _address(order),
        "line_items": [_line_item(line, order) for line in order.line_items],
        "fulfillments": [fulfillment_body(f) for f in order.fulfillments],
    }


def _fulfillment_status(shipped: int, ordered: int) -> str | None:
    if ordered and shipped >= ordered:
        return "fulfilled"
    return "partial" if shipped else None


def _line_item(line: LineItem, order: Order) -> dict[str, Any]:
    variant = line.variant
    open_quantity = 0 if order.cancelled_at else line.unfulfilled_quantity
    return {
        "id": numeric_id(line.id),
        "admin_graphql_api_id": line.id,
        "variant_id": numeric_id(variant.id) if variant else None,
        "product_id": numeric_id(variant.product["id"]) if variant else None,
        "sku": line.sku,
        "title": line.title,
        "variant_title": variant.title if variant else None,
        "name": variant.display_name if variant else line.title,
        "quantity": line.quantity,
        "current_quantity": line.current_quantity,
        "fulfillable_quantity": open_quantity,
        "fulfillment_status": _fulfillment_status(line.fulfilled, line.current_quantity),
        "price": f"{line.unit_price:.2f}",
        "requires_shipping": True,
    }


def _address(order: Order) -> dict[str, Any] | None:
    given = order.address
    if given is None:
        return None
    return {
        "first_name": given.get("firstName"),
        "last_name": given.get("lastName"),
        "address1": given.get("address1"),
        "address2": given.get("address2"),
        "city": given.get("city"),
        "zip": given.get("zip"),
        "province": given.get("province"),
        "country_code": given.get("countryCode"),
        "phone": given.get("phone"),
    }


def fulfillment_body(fulfillment: Fulfillment) -> dict[str, Any]:
    tracking = fulfillment.tracking_info
    numbers = [t["number"] for t in tracking if t.get("number")]
    urls = [t["url"] for t in tracking if t.get("url")]
    return {
        "id": numeric_id(fulfillment.id),
        "admin_graphql_api_id": fulfillment.id,
        "order_id": numeric_id(fulfillment.order.id),
        "name": fulfillment.name,
        "status": fulfillment.status.lower(),
        "created_at": shop_time(fulfillment.created_at),
        "updated_at": shop_time(fulfillment.updated_at),
        "location_id": numeric_id(fulfillment.location.id),
        "tracking_company": tracking[0]["company"] if tracking else None,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
        "line_items": [
            {
                "id": numeric_id(fl.line_item.id),
                "admin_graphql_api_id": fl.line_item.id,
                "sku": fl.line_item.sku,
                "quantity": fl.quantity,
            }
            for fl in fulfillment.lines
        ],
    }


def fulfillment_order_ref(fo: FulfillmentOrder | None) -> dict[str, Any] | None:
    if fo is None:
        return None
    return {
        "id": fo.id,
        "status": fo.status.lower(),
        "assigned_location_id": fo.location.id,
        "order_id": fo.order.id,  # the simulator's addition: see the module docstring
    }


def hold_ref(hold: Hold | None) -> dict[str, Any] | None:
    if hold is None:
        return None
    return {
        "id": hold.id,
        "reason": hold.reason.lower(),
        "reason_notes": hold.reason_notes,
        "handle": hold.handle,
        "held_by_requesting_app": hold.held_by_requesting_app,
    }


def line_refs(lines: list[FulfillmentOrderLine]) -> list[dict[str, Any]]:
    return [{"id": line.id, "quantity": line.remaining_quantity} for line in lines]


def return_body(ret: Return) -> dict[str, Any]:
    return {
        "id": numeric_id(ret.id),
        "admin_graphql_api_id": ret.id,
        "name": ret.name,
        "status": ret.status.lower(),
        "order": {"id": numeric_id(ret.order.id), "admin_graphql_api_id": ret.order.id},
        "total_return_line_items": ret.total_quantity,
        "return_line_items": [
            {
                "id": numeric_id(line.id),
                "admin_graphql_api_id": line.id,
                "fulfillment_line_item": {
                    "id": numeric_id(line.fulfillment_line_item.id),
                    "admin_graphql_api_id": line.fulfillment_line_item.id,
                    "line_item": {
                        "id": numeric_id(line.fulfillment_line_item.line_item.id),
                        "admin_graphql_api_id": line.fulfillment_line_item.line_item.id,
                    },
                },
                "quantity": line.quantity,
                "return_reason": line.return_reason.lower(),
                "return_reason_note": line.return_reason_note,
                "customer_note": line.customer_note,
            }
            for line in ret.lines
        ],
    }


def order_edit_body(edit: OrderEdit) -> dict[str, Any]:
    def deltas(lines: list[tuple[LineItem, int]]) -> list[dict[str, int]]:
        return [{"id": numeric_id(item.id), "delta": units} for item, units in lines]

    return {
        "order_edit": {
            "id": numeric_id(edit.id),
            "app_id": None,
            "created_at": shop_time(edit.created_at),
            "notify_customer": edit.notify_customer,
            "order_id": numeric_id(edit.order.id),
            "staff_note": edit.staff_note or "",
            "user_id": None,
            "line_items": {
                "additions": deltas(edit.additions),
                "removals": deltas(edit.removals),
            },
            "discounts": {"additions": [], "removals": []},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }
