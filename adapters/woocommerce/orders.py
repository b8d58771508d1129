"""WooCommerce orders and refunds (WebOrdersPort).

* ``web_orders`` pages through ``GET orders`` 100 at a time, filtered on ``modified_after``
  with ``dates_are_gmt=true``. Pages are taken in id order, which an order being modified
  while we page does not reshuffle (modification order would move it to the end and shift
  every later order back by one, so one could be skipped); the result is then sorted by
  modification time, oldest first.
* Times are the ``*_gmt`` fields, made aware UTC; money is Decimal from WooCommerce's
  strings (a line's number-typed ``price`` is not used). A line keeps its ``total`` (before
  tax), its ``total_tax`` and the tax per rate id (``taxes``), so it can be refunded in full.
* A refund sends ``amount`` (including tax, which WooCommerce takes over the line totals),
  and per line ``refund_total`` (before tax) and ``refund_tax`` per rate id.
* ``set_status`` is a plain update (setting the status an order has changes nothing);
  ``add_note`` reads the order's notes first and adds none when one with the same text is
  there, so a repeated delivery never tells the customer twice.
* ``refund`` is idempotent on the draft's reference, written into the refund's reason as
  ``[ref:<reference>]``: the refunds already made are read first, and a refund carrying the
  tag is returned instead of making a second one. The POST itself is never blindly retried:
  after a failure that may or may not have created the refund, the list is read again
  (adapters.look_then_create).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from adapters.http import json_body
from adapters.look_then_create import look_then_create
from adapters.woocommerce.connection import (
    BACKEND,
    PER_PAGE,
    WooCommerceConnection,
    decode,
    error_message,
    integer,
    money,
    utc,
    woocommerce_error,
)
from gateway.domain import GeoPoint, Money
from gateway.domain.documents import (
    PostalAddress,
    WebOrder,
    WebOrderLine,
    WebRefund,
    WebRefundDraft,
    WebRefundLine,
    WebTax,
)
from gateway.errors import BackendError, BackendRejected, NotFound

CENT = Decimal("0.01")
_EPOCH = datetime.min.replace(tzinfo=UTC)


def reference_tag(reference: str) -> str:
    return f"[ref:{reference}]"


class WebOrders:
    def __init__(self, connection: WooCommerceConnection) -> None:
        self._connection = connection

    async def web_orders(self, *, modified_after: datetime | None = None) -> list[WebOrder]:
        params: dict[str, str | int] = {
            "per_page": PER_PAGE,
            "orderby": "id",
            "order": "asc",
            "dates_are_gmt": "true",
        }
        if modified_after is not None:
            moment = modified_after.astimezone(UTC) if modified_after.tzinfo else modified_after
            params["modified_after"] = moment.strftime("%Y-%m-%dT%H:%M:%S")
        items = await self._connection.get_all("orders", params)
        latest: dict[int, WebOrder] = {}
        for item in items:
            order = to_web_order(item, self._connection.currency)
            seen = latest.get(order.id)
            if seen is None or order.modified_at >= seen.modified_at:
                latest[order.id] = order
        return sorted(latest.values(), key=lambda o: (o.modified_at, o.id))

    async def web_order(self, order_id: int) -> WebOrder | None:
        client = self._connection.client
        try:
            response = await self._connection.send(lambda: client.get(f"orders/{order_id}"))
        except BackendRejected as error:
            if error.status == 404:
                return None
            raise
        return to_web_order(decode(response, dict), self._connection.currency)

    async def refund(self, order_id: int, draft: WebRefundDraft) -> WebRefund:
        tag = reference_tag(draft.reference)
        body = refund_body(draft)
        client = self._connection.client

        async def look() -> WebRefund | None:
            return await self._tagged_refund(order_id, tag)

        async def create() -> WebRefund:
            response = await self._connection.send(
                lambda: client.post(f"orders/{order_id}/refunds", json=body),
                parse_error=refund_error,
                max_retries=0,
            )
            return to_web_refund(decode(response, dict), self._currency_of(draft))

        try:
            return await look_then_create(look, create, max_retries=self._connection.max_retries)
        except BackendRejected as error:
            if error.status == 404:
                raise NotFound(f"WooCommerce has no order {order_id}", order_id=order_id) from error
            raise

    async def set_status(self, order_id: int, status: str) -> str:
        client = self._connection.client
        response = await self._connection.send(
            lambda: client.put(f"orders/{order_id}", json={"status": status})
        )
        return str(decode(response, dict).get("status") or "")

    async def add_note(self, order_id: int, note: str, *, customer_note: bool) -> int:
        client = self._connection.client

        async def look() -> int | None:
            response = await self._connection.send(lambda: client.get(f"orders/{order_id}/notes"))
            for item in decode(response, list):
                if isinstance(item, dict) and item.get("note") == note:
                    return integer(item.get("id"))
            return None

        async def create() -> int:
            body = {"note": note, "customer_note": customer_note}
            response = await self._connection.send(
                lambda: client.post(f"orders/{order_id}/notes", json=body), max_retries=0
            )
            return integer(decode(response, dict).get("id")) or 0

        return await look_then_create(look, create, max_retries=self._connection.max_retries)

    async def _tagged_refund(self, order_id: int, tag: str) -> WebRefund | None:
        refunds = await self._connection.get_all(
            f"orders/{order_id}/refunds", {"per_page": PER_PAGE}
        )
        for item in refunds:
            if tag in str(item.get("reason") or ""):
                return to_web_refund(item, self._connection.currency)
        return None

    def _currency_of(self, draft: WebRefundDraft) -> str:
        return draft.amount.currency or self._connection.currency


def refund_body(draft: WebRefundDraft) -> dict[str, Any]:
    """The POST body: amounts as strings with two decimals, never through a float."""
    reason = f"{draft.reason} {reference_tag(draft.reference)}".strip()
    return {
        "amount": _two_places(draft.amount.amount),
        "reason": reason,
        "api_refund": draft.move_money,
        "api_restock": draft.restock,
        "line_items": [_refund_line(line) for line in draft.lines],
    }


def _refund_line(line: WebRefundLine) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": line.line_id,
        "quantity": line.quantity,
        "refund_total": _two_places(line.amount.amount),
    }
    if line.taxes:
        body["refund_tax"] = [
            {"id": tax.rate_id, "refund_total": _two_places(tax.amount.amount)}
            for tax in line.taxes
        ]
    return body


def refund_error(response: httpx.Response) -> BackendError:
    """WooCommerce answers a refused refund (more than is left, a gateway that cannot pay
    back) with a 500; it is a refusal, not an outage, so it is not retried."""
    body = json_body(response)
    if isinstance(body, dict) and body.get("code") == "woocommerce_rest_cannot_create_order_refund":
        status = response.status_code
        return BackendRejected(
            f"WooCommerce {body['code']}: {error_message(body, status)}",
            backend=BACKEND,
            status=status,
            backend_code=body["code"],
        )
    return woocommerce_error(response)


def to_web_order(item: Mapping[str, Any], default_currency: str) -> WebOrder:
    """An order payload as a WebOrder; keys not read here are ignored."""
    currency = str(item.get("currency") or default_currency)
    billing = _mapping(item.get("billing"))
    shipping = _mapping(item.get("shipping"))
    return WebOrder(
        id=int(item["id"]),
        number=str(item.get("number") or item["id"]),
        status=str(item.get("status") or ""),
        created_at=utc(item.get("date_created_gmt")) or _EPOCH,
        modified_at=utc(item.get("date_modified_gmt")) or _EPOCH,
        email=str(billing.get("email") or "") or None,
        customer_name=_name(billing) or _name(shipping),
        total=_amount(item.get("total"), currency),
        lines=tuple(
            _line(line, currency)
            for line in item.get("line_items") or ()
            if isinstance(line, Mapping)
        ),
        shipping_address=_address(shipping, _meta(item.get("meta_data"))),
        pickup_location=_pickup_location(item.get("shipping_lines")),
    )


# WooCommerce's local pickup (block checkout: pickup_location, with the store in the
# line's meta) and the classic local_pickup method (no store named).
PICKUP_METHODS = ("pickup_location", "local_pickup")


def _pickup_location(shipping_lines: Any) -> str | None:
    for line in shipping_lines or ():
        if isinstance(line, Mapping) and line.get("method_id") in PICKUP_METHODS:
            return str(_meta(line.get("meta_data")).get("pickup_location") or "")
    return None


def _line(line: Mapping[str, Any], currency: str) -> WebOrderLine:
    return WebOrderLine(
        id=int(line["id"]),
        sku=str(line.get("sku") or "") or None,
        quantity=integer(line.get("quantity")) or 0,
        total=_amount(line.get("total"), currency),
        tax=_amount(line.get("total_tax"), currency),
        taxes=tuple(
            WebTax(rate_id, _amount(tax.get("total"), currency))
            for tax in line.get("taxes") or ()
            if isinstance(tax, Mapping) and (rate_id := integer(tax.get("id"))) is not None
        ),
    )


def to_web_refund(item: Mapping[str, Any], currency: str) -> WebRefund:
    return WebRefund(
        id=int(item["id"]),
        amount=_amount(item.get("amount"), currency),
        reason=str(item.get("reason") or ""),
    )


def _two_places(amount: Decimal) -> str:
    return str(amount.quantize(CENT, ROUND_HALF_UP))


def _amount(value: Any, currency: str) -> Money:
    return money(value, currency) or Money(Decimal(0), currency)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _name(address: Mapping[str, Any]) -> str:
    return f"{address.get('first_name') or ''} {address.get('last_name') or ''}".strip()


# Order meta keys that carry the shipping address's coordinates (WooCommerce has no field of
# its own for them: address-picker and geocoding plugins store them as order meta).
LATITUDE_KEYS = ("_shipping_latitude", "_shipping_lat", "shipping_latitude", "shipping_lat")
LONGITUDE_KEYS = ("_shipping_longitude", "_shipping_lng", "shipping_longitude", "shipping_lng")


def _meta(value: Any) -> dict[str, Any]:
    entries = value if isinstance(value, list) else []
    return {
        str(e["key"]): e.get("value") for e in entries if isinstance(e, Mapping) and e.get("key")
    }


def _coordinate(meta: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        try:
            return float(str(meta[key]).strip())
        except (KeyError, ValueError):
            continue
    return None


def _point(meta: Mapping[str, Any]) -> GeoPoint | None:
    lat = _coordinate(meta, LATITUDE_KEYS)
    lng = _coordinate(meta, LONGITUDE_KEYS)
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return GeoPoint(lat, lng)


def _address(shipping: Mapping[str, Any], meta: Mapping[str, Any]) -> PostalAddress | None:
    if not shipping.get("address_1"):
        return None
    return PostalAddress(
        name=_name(shipping),
        line1=str(shipping["address_1"]),
        city=str(shipping.get("city") or ""),
        postal_code=str(shipping.get("postcode") or ""),
        country_code=str(shipping.get("country") or ""),
        line2=str(shipping.get("address_2") or "") or None,
        point=_point(meta),
    )
