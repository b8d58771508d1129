"""What a webhook event names, and when it happened at its source (pure).

An event is a doorbell, not a figure: the processor reads the source afresh for what the
event names, so an old event delivered after a newer one finds the newest figure and changes
nothing. What is read from each:

    backend      topic                          names
    WooCommerce  order.*                        the web order (id)
                 product.*                      the SKU's listing (sku)
    Square       inventory.count.updated        the variations whose counts changed, where
                                                (catalog_object_id, location_id)
                 catalog.version.updated        the whole catalogue
    Shopify      orders/*                       the gateway order it was created for
                                                (source_identifier)
                 fulfillment_orders/*           the Shopify order of that fulfilment order
    ERPNext      Bin, Stock Ledger Entry        the item's stock (item_code, warehouse)
                 Sales Order                    the gateway order (po_no: order or order@node)
                 Item                           the item (item_code or name)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.domain import SourceSystem

# Shopify retries a failed delivery 8 times over 4 hours, Square for up to a day: an event
# older than this is refused (a retry that old carries nothing the delta poll has not read).
DEFAULT_MAX_AGE = timedelta(days=1)
# Clocks drift; an event stamped further in the future than this is not believed either.
FUTURE_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Named:
    skus: frozenset[str] = frozenset()  # SKUs whose stock or listing may have changed
    square_variations: frozenset[str] = frozenset()  # Square variation ids (SKU looked up)
    locations: frozenset[str] = frozenset()  # the source's location refs, where it says
    web_order: int | None = None  # a WooCommerce order id
    order: str | None = None  # a gateway order id
    oms_order: str | None = None  # a Shopify order gid
    catalogue: bool = False  # anything in the catalogue may have changed

    @property
    def stock(self) -> bool:
        return bool(self.skus or self.square_variations or self.catalogue)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and str(value) else None


def named_by(system: SourceSystem, topic: str, payload: Mapping[str, Any]) -> Named:
    match system:
        case SourceSystem.STOREFRONT:
            return _woocommerce(topic, payload)
        case SourceSystem.POS:
            return _square(topic, payload)
        case SourceSystem.OMS:
            return _shopify(topic, payload)
        case _:
            return _erpnext(topic, payload)


def _woocommerce(topic: str, payload: Mapping[str, Any]) -> Named:
    if topic.startswith("order."):
        order_id = payload.get("id")
        return Named(web_order=order_id if isinstance(order_id, int) else None)
    if topic.startswith("product."):
        sku = _text(payload.get("sku"))
        return Named(skus=frozenset([sku])) if sku else Named(catalogue=True)
    return Named()


def _square(topic: str, payload: Mapping[str, Any]) -> Named:
    if topic == "catalog.version.updated":
        return Named(catalogue=True)
    if topic != "inventory.count.updated":
        return Named()
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    counts = obj.get("inventory_counts") if isinstance(obj, Mapping) else None
    variations: set[str] = set()
    locations: set[str] = set()
    for count in counts if isinstance(counts, list) else []:
        if not isinstance(count, Mapping):
            continue
        variation, location = _text(count.get("catalog_object_id")), _text(count.get("location_id"))
        if variation:
            variations.add(variation)
        if location:
            locations.add(location)
    return Named(square_variations=frozenset(variations), locations=frozenset(locations))


def _shopify(topic: str, payload: Mapping[str, Any]) -> Named:
    if topic.startswith("orders/"):
        reference = _text(payload.get("source_identifier"))
        order = reference.split("@")[0] if reference else None
        return Named(order=order, oms_order=_text(payload.get("admin_graphql_api_id")))
    if topic.startswith("fulfillment_orders/"):
        return Named(oms_order=_fulfillment_order_owner(payload))
    return Named()


def _fulfillment_order_owner(payload: Mapping[str, Any]) -> str | None:
    """The Shopify order a fulfillment_orders/* event is about. The payload names are not
    confirmed in the contracts: the fulfilment order (or its original, or the one it moved
    to) is looked in for an order gid under the names shopify.dev uses."""
    for key in ("fulfillment_order", "original_fulfillment_order", "moved_fulfillment_order"):
        fulfilment = payload.get(key)
        if isinstance(fulfilment, Mapping):
            for name in ("order_id", "order_admin_graphql_api_id"):
                found = _text(fulfilment.get(name))
                if found:
                    return _order_gid(found)
    found = _text(payload.get("order_id"))
    return _order_gid(found) if found else None


def _order_gid(value: str) -> str:
    return value if value.startswith("gid://") else f"gid://shopify/Order/{value}"


def _erpnext(doctype: str, payload: Mapping[str, Any]) -> Named:
    if doctype in ("Bin", "Stock Ledger Entry"):
        sku, warehouse = _text(payload.get("item_code")), _text(payload.get("warehouse"))
        return Named(
            skus=frozenset([sku]) if sku else frozenset(),
            locations=frozenset([warehouse]) if warehouse else frozenset(),
        )
    if doctype == "Item":
        sku = _text(payload.get("item_code")) or _text(payload.get("name"))
        return Named(skus=frozenset([sku])) if sku else Named(catalogue=True)
    if doctype == "Sales Order":
        reference = _text(payload.get("po_no"))
        return Named(order=reference.split("@")[0] if reference else None)
    return Named()


def happened_at(
    system: SourceSystem, headers: Mapping[str, str], payload: Mapping[str, Any]
) -> datetime | None:
    """When the event happened at its source, where the contract carries it: Shopify's
    X-Shopify-Triggered-At, Square's created_at. WooCommerce and ERPNext deliveries carry
    the resource's modification time, which is not when the event was sent (a product
    untouched for a year is re-sent with last year's date), so they have none."""
    match system:
        case SourceSystem.OMS:
            raw = _header(headers, "x-shopify-triggered-at")
        case SourceSystem.POS:
            raw = _text(payload.get("created_at"))
        case _:
            raw = None
    return _timestamp(raw) if raw else None


def _timestamp(raw: str) -> datetime | None:
    text = raw.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Square stamps nanoseconds; Python parses at most microseconds.
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def is_stale(at: datetime | None, now: datetime, max_age: timedelta = DEFAULT_MAX_AGE) -> bool:
    """Too old to act on, or stamped in the future beyond clock drift. An event without a
    time is judged by its identity alone (gateway.events.identity)."""
    if at is None:
        return False
    return at < now - max_age or at > now + FUTURE_SKEW
