"""The rules WooCommerce runs when an order is created, changes status or is refunded.

* Creating prices each line from the catalogue (tax-inclusive prices, see
  sandbox.woocommerce.orders); ``set_paid`` runs payment_complete: date_paid, status
  processing, stock reduced.
* A status change runs WooCommerce's hooks: processing/completed/on-hold reduce stock once
  (``_order_stock_reduced``), cancelled/pending give back what was reduced, paid statuses set
  date_paid, completed sets date_completed, and refunded refunds whatever is left
  (wc_order_fully_refunded, without moving money or stock).
* A refund (wc_create_refund) may not exceed the remaining amount, asks the payment
  gateway when ``api_refund`` is on, restocks what the order's lines had reduced when
  ``api_restock`` is on, and moves the order to refunded once nothing is left.

``listeners`` hear (order, "created" | "updated") where WooCommerce fires
woocommerce_new_order, woocommerce_update_order and woocommerce_order_refunded: the first
save of a new order, then every later save (REST create's payment_complete is one), an
update and a refund. A note alone does not save the order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.woocommerce.catalog import Catalog, Record, fold_sku
from sandbox.woocommerce.orders import (
    CENT,
    PAID_STATUSES,
    STOCK_REDUCING,
    STOCK_RESTORING,
    LineItem,
    Order,
    OrderNote,
    Refund,
    RefundLine,
    Sequences,
    ShippingLine,
    price_line,
)
from sandbox.woocommerce.wire import WPError

BILLING_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
)
SHIPPING_FIELDS = tuple(f for f in BILLING_FIELDS if f != "email")
FULLY_REFUNDED_REASON = (
    "Order status set to refunded. To return funds to the customer you will need to issue a "
    "refund through your payment gateway."
)
_PAYABLE = frozenset({"pending", "failed", "on-hold", "checkout-draft"})


@dataclass(frozen=True)
class RefundLineRequest:
    item_id: int
    quantity: int
    refund_total: Decimal | None  # None when not numeric: then no amount is derived
    refund_tax: Decimal


@dataclass(frozen=True)
class RefundRequest:
    amount: str | None  # as sent; None when absent
    reason: str
    api_refund: bool
    api_restock: bool
    lines: tuple[RefundLineRequest, ...]


def address(posted: Any, fields: Sequence[str]) -> dict[str, str]:
    given = posted if isinstance(posted, Mapping) else {}
    return {name: str(given.get(name) or "") for name in fields}


def order_key(order_id: int) -> str:
    digest = hashlib.blake2b(f"order-key|{order_id}".encode(), digest_size=8).hexdigest()
    return f"wc_order_{digest[:13]}"


class OrderBook:
    def __init__(
        self,
        catalog: Catalog,
        sequences: Sequences,
        orders: Iterable[Order] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.catalog = catalog
        self.sequences = sequences
        self.orders: dict[int, Order] = {o.id: o for o in orders}
        self._clock = clock
        self.listeners: list[Callable[[Order, str], None]] = []

    def get(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    # --- create / update (WC_REST_Orders_Controller) ----------------------------------------

    def create(self, args: Mapping[str, Any]) -> Order:
        now = self._now()
        order_id = self.sequences.next_post()
        order = Order(
            id=order_id,
            status="pending",
            created=now,
            modified=now,
            billing=address(args.get("billing"), BILLING_FIELDS),
            shipping=address(args.get("shipping"), SHIPPING_FIELDS),
            payment_method=str(args.get("payment_method") or ""),
            order_key=order_key(order_id),
            customer_id=int(args.get("customer_id") or 0),
            customer_note=str(args.get("customer_note") or ""),
            payment_method_title_override=args.get("payment_method_title"),
        )
        # Resolve every line before taking ids, so a bad line leaves no trace.
        resolved = [self._resolve(posted) for posted in _objects(args.get("line_items"))]
        self._set_meta(order, args.get("meta_data"))
        for record, quantity in resolved:
            order.lines.append(self._line(record, quantity))
        for posted in _objects(args.get("shipping_lines")):
            order.shipping_lines.append(
                ShippingLine(
                    id=self.sequences.next_item(),
                    method_id=str(posted.get("method_id") or ""),
                    method_title=str(posted.get("method_title") or ""),
                    instance_id=str(posted.get("instance_id") or ""),
                    total=_decimal(posted.get("total")) or Decimal(0),
                    meta=[
                        (self.sequences.next_meta(), str(m.get("key")), str(m.get("value")))
                        for m in _objects(posted.get("meta_data"))
                        if m.get("key")
                    ],
                )
            )
        order.tax_line_id = self.sequences.next_item()
        self.orders[order.id] = order
        if args.get("status"):
            self.set_status(order, args["status"])
        self._notify(order, "created")
        if args.get("set_paid") is True and order.status in _PAYABLE:
            # WC_Order::payment_complete: paid now, and processing since goods must ship.
            order.transaction_id = str(args.get("transaction_id") or "")
            order.date_paid = self._now()
            self.set_status(order, "processing")
            self._notify(order, "updated")
        return order

    def _set_meta(self, order: Order, posted: Any) -> None:
        """WC_Data::set_meta_data: an entry with a known ``id`` replaces that one, any other
        is added (several entries may share a key)."""
        for entry in _objects(posted):
            key = str(entry.get("key") or "")
            if not key:
                continue
            value = str(entry.get("value") if entry.get("value") is not None else "")
            known = next((i for i, m in enumerate(order.meta) if m[0] == entry.get("id")), None)
            if known is not None:
                order.meta[known] = (order.meta[known][0], key, value)
            else:
                order.meta.append((self.sequences.next_meta(), key, value))

    def update(self, order: Order, args: Mapping[str, Any]) -> Order:
        self._set_meta(order, args.get("meta_data"))
        if "customer_note" in args:
            order.customer_note = str(args["customer_note"] or "")
        if "transaction_id" in args:
            order.transaction_id = str(args["transaction_id"] or "")
        if args.get("status"):
            self.set_status(order, args["status"])
        if args.get("set_paid") is True and order.status in _PAYABLE:
            order.date_paid = self._now()
            self.set_status(order, "processing")
        order.modified = self._now()
        self._notify(order, "updated")
        return order

    def _notify(self, order: Order, event: str) -> None:
        for listener in self.listeners:
            listener(order, event)

    def add_note(self, order: Order, note: str, *, customer_note: bool, author: str) -> OrderNote:
        """WC_Order::add_order_note."""
        added = OrderNote(self.sequences.next_comment(), self._now(), note, customer_note, author)
        order.notes.insert(0, added)
        return added

    def set_status(self, order: Order, status: str) -> None:
        if status == order.status:
            return
        now = self._now()
        before = order.status
        order.status, order.modified = status, now
        self.add_note(
            order,
            f"Order status changed from {_label(before)} to {_label(status)}.",
            customer_note=False,
            author="system",
        )
        if status in PAID_STATUSES and order.date_paid is None:
            order.date_paid = now
        if status == "completed":
            order.date_completed = now
        if status in STOCK_REDUCING:
            self._reduce_stock(order)
        elif status in STOCK_RESTORING:
            self._restore_stock(order)
        elif status == "refunded" and order.remaining_refund_amount > 0:
            request = RefundRequest(None, FULLY_REFUNDED_REASON, False, False, ())
            self._record_refund(order, order.remaining_refund_amount, request)

    # --- refunds (wc_create_refund) ---------------------------------------------------------

    def refund(self, order: Order, request: RefundRequest) -> Refund:
        amount = self._refund_amount(request)
        if amount < 0:
            raise WPError(
                "woocommerce_rest_invalid_order_refund",
                "Refund amount must be greater than zero.",
                400,
            )
        if amount.quantize(CENT) > order.remaining_refund_amount.quantize(CENT):
            # WooCommerce reports every wc_create_refund failure as a 500.
            raise _cannot_refund("Invalid refund amount.")
        if request.api_refund and not order.can_refund_payment:
            raise _cannot_refund(
                "The payment gateway for this order does not support automatic refunds."
            )
        refund = self._record_refund(order, amount, request)
        if request.api_restock:
            for line in refund.lines:
                self._restock(line.item, line.quantity)
        if order.remaining_refund_amount <= 0:
            self.set_status(order, "refunded")
        self._notify(order, "updated")  # woocommerce_order_refunded
        return refund

    def _refund_amount(self, request: RefundRequest) -> Decimal:
        if request.amount is not None:
            # The amount wins over the lines' totals whenever it is sent.
            amount = _decimal(request.amount)
            if amount is None:
                raise _cannot_refund("Invalid refund amount.")
            return amount
        totals = [line.refund_total for line in request.lines]
        if not totals or any(total is None for total in totals):
            return Decimal(0)
        return sum(
            (line.refund_total + line.refund_tax for line in request.lines if line.refund_total),
            Decimal(0),
        )

    def _record_refund(self, order: Order, amount: Decimal, request: RefundRequest) -> Refund:
        refund = Refund(
            id=self.sequences.next_post(),
            order_id=order.id,
            created=self._now(),
            amount=amount.quantize(CENT),
            reason=request.reason,
            refunded_payment=request.api_refund,
        )
        wanted = {line.item_id: line for line in request.lines}
        for item in order.lines:
            posted = wanted.get(item.id)
            if posted is None or not (posted.quantity or posted.refund_total or posted.refund_tax):
                continue
            refund.lines.append(
                RefundLine(
                    id=self.sequences.next_item(),
                    item=item,
                    quantity=posted.quantity,
                    total=posted.refund_total or Decimal(0),
                    tax=posted.refund_tax,
                    meta_id=self.sequences.next_meta(),
                )
            )
        order.refunds.insert(0, refund)
        order.modified = refund.created
        return refund

    # --- stock ------------------------------------------------------------------------------

    def _reduce_stock(self, order: Order) -> None:
        if order.stock_reduced:
            return
        for line in order.lines:
            record = self.catalog.get(line.stock_record_id)
            if record is not None and record.manage_stock:
                self.catalog.adjust_stock(record, -line.quantity)
                line.reduced_stock = line.quantity
        order.stock_reduced = True

    def _restore_stock(self, order: Order) -> None:
        if not order.stock_reduced:
            return
        for line in order.lines:
            self._restock(line, line.reduced_stock)
        order.stock_reduced = False

    def _restock(self, line: LineItem, quantity: int) -> None:
        # wc_restock_refunded_items: only what the order had taken out comes back.
        quantity = min(quantity, line.reduced_stock)
        record = self.catalog.get(line.stock_record_id)
        if quantity <= 0 or record is None:
            return
        self.catalog.adjust_stock(record, quantity)
        line.reduced_stock -= quantity

    # --- lines ------------------------------------------------------------------------------

    def _resolve(self, posted: Mapping[str, Any]) -> tuple[Record, int]:
        record: Record | None
        if posted.get("sku"):
            found = self.catalog.with_skus([fold_sku(str(posted["sku"]))])
            record = found[0] if found else None
        elif posted.get("variation_id"):
            record = self.catalog.get(_int(posted["variation_id"]))
        elif posted.get("product_id"):
            record = self.catalog.get(_int(posted["product_id"]))
        else:
            raise WPError(
                "woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400
            )
        if record is None or record.type not in ("simple", "variation") or not record.own_price:
            raise WPError("order_item_product_invalid_product", "Invalid product", 400)
        quantity = _int(posted.get("quantity", 1))
        if quantity <= 0:
            raise WPError(
                "woocommerce_rest_invalid_product_quantity",
                "Product quantity must be a positive float.",
                400,
            )
        return record, quantity

    def _line(self, record: Record, quantity: int) -> LineItem:
        parent = self.catalog.get(record.parent_id) if record.type == "variation" else None
        item_id = self.sequences.next_item()
        attributes = tuple(
            (name, value, self.sequences.next_meta()) for name, value in record.attributes
        )
        unit_gross = record.own_price or Decimal(0)
        return LineItem(
            id=item_id,
            product_id=parent.id if parent else record.id,
            variation_id=record.id if parent else 0,
            name=record.name,
            parent_name=parent.name if parent else None,
            sku=record.sku,
            quantity=quantity,
            price=price_line(unit_gross, quantity),
            attributes=attributes if parent else (),
        )

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)


def _label(status: str) -> str:
    """wc_get_order_status_name."""
    return status.replace("-", " ").capitalize()


def _cannot_refund(message: str) -> WPError:
    return WPError("woocommerce_rest_cannot_create_order_refund", message, 500)


def _objects(value: Any) -> list[Mapping[str, Any]]:
    items = list(value.values()) if isinstance(value, dict) else value
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _int(value: Any) -> int:
    number = _decimal(value)
    return int(number) if number is not None else 0


def parse_refund_lines(value: Any) -> tuple[RefundLineRequest, ...]:
    """line_items as the REST API takes them: [{id, quantity, refund_total, refund_tax}]."""
    lines: list[RefundLineRequest] = []
    for posted in _objects(value):
        taxes = _objects(posted.get("refund_tax"))
        tax = sum((_decimal(t.get("refund_total")) or Decimal(0) for t in taxes), Decimal(0))
        lines.append(
            RefundLineRequest(
                item_id=_int(posted.get("id")),
                quantity=_int(posted.get("quantity") or posted.get("qty")),
                refund_total=_decimal(posted.get("refund_total")),
                refund_tax=tax,
            )
        )
    return tuple(lines)
