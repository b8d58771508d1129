"""Orders and refunds rendered as the wc/v3 orders and refunds controllers answer them.

Money is a string with two decimals (``dp``), except a line's ``price``: a JSON number,
unrounded and excluding tax. Refund lines and totals are negative, each refund line
carrying ``_refunded_item_id``; the refund's own ``amount`` is positive.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.retailer import SHOP_URL
from sandbox.woocommerce.catalog import ATTRIBUTE_IDS, slugify
from sandbox.woocommerce.orders import (
    TAX_LABEL,
    TAX_RATE,
    TAX_RATE_CODE,
    TAX_RATE_ID,
    LineItem,
    Order,
    OrderNote,
    Refund,
    RefundLine,
    ShippingLine,
)
from sandbox.woocommerce.payloads import gmt_date, local_date

WC_VERSION = "10.3.5"
_NO_IMAGE = {"id": 0, "src": ""}


def _money(amount: Decimal, dp: int = 2) -> str:
    return f"{amount:.{dp}f}"


def _six(amount: Decimal) -> str:
    return f"{amount:.6f}"


def order_payload(order: Order, api: str, dp: int = 2) -> dict[str, Any]:
    """GET /orders/<id> and the items of GET /orders."""
    return {
        "id": order.id,
        "parent_id": 0,
        "status": order.status,
        "currency": order.currency,
        "version": WC_VERSION,
        "prices_include_tax": True,
        "date_created": local_date(order.created),
        "date_modified": local_date(order.modified),
        "discount_total": _money(Decimal(0), dp),
        "discount_tax": _money(Decimal(0), dp),
        "shipping_total": _money(order.shipping_total, dp),
        "shipping_tax": _money(order.shipping_tax, dp),
        "cart_tax": _money(order.cart_tax, dp),
        "total": _money(order.total, dp),
        "total_tax": _money(order.total_tax, dp),
        "customer_id": order.customer_id,
        "order_key": order.order_key,
        "billing": dict(order.billing),
        "shipping": dict(order.shipping),
        "payment_method": order.payment_method,
        "payment_method_title": order.payment_method_title,
        "transaction_id": order.transaction_id,
        "customer_ip_address": order.customer_ip_address,
        "customer_user_agent": order.customer_user_agent,
        "created_via": order.created_via,
        "customer_note": order.customer_note,
        "date_completed": local_date(order.date_completed) if order.date_completed else None,
        "date_paid": local_date(order.date_paid) if order.date_paid else None,
        "cart_hash": order.cart_hash,
        "number": str(order.id),
        "meta_data": [{"id": i, "key": key, "value": value} for i, key, value in order.meta],
        "line_items": [_line_item(line, dp) for line in order.lines],
        "tax_lines": [_tax_line(order, dp)] if order.lines or order.shipping_lines else [],
        "shipping_lines": [_shipping_line(s, dp) for s in order.shipping_lines],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [
            {"id": r.id, "reason": r.reason, "total": _money(-r.amount, dp)} for r in order.refunds
        ],
        "payment_url": (
            f"{SHOP_URL}/checkout/order-pay/{order.id}/?pay_for_order=true&key={order.order_key}"
        ),
        "is_editable": order.status in ("pending", "on-hold", "auto-draft"),
        "needs_payment": order.status in ("pending", "failed") and order.total > 0,
        "needs_processing": bool(order.lines),
        "date_created_gmt": gmt_date(order.created),
        "date_modified_gmt": gmt_date(order.modified),
        "date_completed_gmt": gmt_date(order.date_completed) if order.date_completed else None,
        "date_paid_gmt": gmt_date(order.date_paid) if order.date_paid else None,
        "currency_symbol": "€" if order.currency == "EUR" else order.currency,
        "_links": {
            "self": [{"href": f"{api}/orders/{order.id}"}],
            "collection": [{"href": f"{api}/orders"}],
        },
    }


def refund_payload(refund: Refund, api: str, dp: int = 2) -> dict[str, Any]:
    """GET /orders/<id>/refunds items and the answer to POST /orders/<id>/refunds."""
    collection = f"{api}/orders/{refund.order_id}/refunds"
    return {
        "id": refund.id,
        "date_created": local_date(refund.created),
        "date_created_gmt": gmt_date(refund.created),
        "amount": _money(refund.amount, dp),
        "reason": refund.reason,
        "refunded_by": 1,
        "refunded_payment": refund.refunded_payment,
        "meta_data": [],
        "line_items": [_refund_line(line, dp) for line in refund.lines],
        "_links": {
            "self": [{"href": f"{collection}/{refund.id}"}],
            "collection": [{"href": collection}],
            "up": [{"href": f"{api}/orders/{refund.order_id}"}],
        },
    }


def note_payload(order_id: int, note: OrderNote, api: str) -> dict[str, Any]:
    """GET /orders/<id>/notes items and the answer to POST /orders/<id>/notes."""
    collection = f"{api}/orders/{order_id}/notes"
    return {
        "id": note.id,
        "author": note.author,
        "date_created": local_date(note.created),
        "date_created_gmt": gmt_date(note.created),
        "note": note.note,
        "customer_note": note.customer_note,
        "_links": {
            "self": [{"href": f"{collection}/{note.id}"}],
            "collection": [{"href": collection}],
            "up": [{"href": f"{api}/orders/{order_id}"}],
        },
    }


def _line_item(line: LineItem, dp: int) -> dict[str, Any]:
    price = line.price
    return {
        "id": line.id,
        "name": line.name,
        "product_id": line.product_id,
        "variation_id": line.variation_id,
        "quantity": line.quantity,
        "tax_class": "",
        "subtotal": _money(price.subtotal, dp),
        "subtotal_tax": _money(price.tax, dp),
        "total": _money(price.subtotal, dp),
        "total_tax": _money(price.tax, dp),
        "taxes": [
            {"id": TAX_RATE_ID, "total": _six(price.tax_exact), "subtotal": _six(price.tax_exact)}
        ],
        "meta_data": [
            _attribute_meta(name, value, meta_id) for name, value, meta_id in line.attributes
        ],
        "sku": line.sku,
        # A PHP float on the wire; the simulator's Decimal becomes the same JSON number.
        "price": float(price.unit_net),
        "image": dict(_NO_IMAGE),
        "parent_name": line.parent_name,
    }


def _refund_line(line: RefundLine, dp: int) -> dict[str, Any]:
    item = line.item
    total, tax = -line.total, -line.tax
    unit = total / abs(line.quantity) if line.quantity else total
    return {
        "id": line.id,
        "name": item.name,
        "product_id": item.product_id,
        "variation_id": item.variation_id,
        "quantity": -line.quantity,
        "tax_class": "",
        "subtotal": _money(total, dp),
        "subtotal_tax": _money(tax, dp),
        "total": _money(total, dp),
        "total_tax": _money(tax, dp),
        "taxes": [{"id": TAX_RATE_ID, "total": _money(tax, dp), "subtotal": _money(tax, dp)}],
        "meta_data": [
            {
                "id": line.meta_id,
                "key": "_refunded_item_id",
                "value": str(item.id),
                "display_key": "_refunded_item_id",
                "display_value": str(item.id),
            }
        ],
        "sku": item.sku,
        "price": float(unit),
        "image": dict(_NO_IMAGE),
        "parent_name": item.parent_name,
    }


def _shipping_line(line: ShippingLine, dp: int) -> dict[str, Any]:
    return {
        "id": line.id,
        "method_title": line.method_title,
        "method_id": line.method_id,
        "instance_id": line.instance_id,
        "total": _money(line.total, dp),
        "total_tax": _money(line.tax, dp),
        "taxes": [{"id": TAX_RATE_ID, "total": _six(line.tax_exact), "subtotal": ""}],
        "meta_data": [
            {"id": id, "key": key, "value": value, "display_key": key, "display_value": value}
            for id, key, value in line.meta
        ],
    }


def _tax_line(order: Order, dp: int) -> dict[str, Any]:
    return {
        "id": order.tax_line_id,
        "rate_code": TAX_RATE_CODE,
        "rate_id": TAX_RATE_ID,
        "label": TAX_LABEL,
        "compound": False,
        "tax_total": _money(order.cart_tax, dp),
        "shipping_tax_total": _money(order.shipping_tax, dp),
        "rate_percent": int(TAX_RATE * 100),
        "meta_data": [],
    }


def _attribute_meta(name: str, value: str, meta_id: int) -> dict[str, Any]:
    key = f"pa_{slugify(name)}" if name in ATTRIBUTE_IDS else slugify(name)
    return {
        "id": meta_id,
        "key": key,
        "value": slugify(value),
        "display_key": name,
        "display_value": value,
    }
