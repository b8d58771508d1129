"""The simulator's orders and refunds as WooCommerce stores them, and the tax arithmetic it
applies when a line is priced.

The shop enters prices including tax (``prices_include_tax``), one German rate of 19%:
a line's tax is taken out of its gross price to six places (``taxes[].total``), the net
line total is rounded to cents, and the rounded tax is what is left of the gross, so
``subtotal + subtotal_tax`` is exactly what the customer saw. Refunds keep their amounts
positive here; the payloads turn them negative as WooCommerce stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

TAX_RATE = Decimal("0.19")
TAX_RATE_ID = 1
TAX_RATE_CODE = "DE-MWST-1"
TAX_LABEL = "MwSt."
CENT = Decimal("0.01")
SIX_PLACES = Decimal("0.000001")
CURRENCY = "EUR"

# wc_maybe_reduce_stock_levels / wc_maybe_increase_stock_levels are hooked to these.
STOCK_REDUCING = frozenset({"processing", "completed", "on-hold"})
STOCK_RESTORING = frozenset({"cancelled", "pending"})
PAID_STATUSES = frozenset({"processing", "completed"})  # wc_get_is_paid_statuses()
# Gateways whose process_refund exists; the others cannot move money back (api_refund).
PAYMENT_METHODS = {
    "stripe": ("Credit card", True),
    "ppcp-gateway": ("PayPal", True),
    "bacs": ("Direct bank transfer", False),
    "cod": ("Cash on delivery", False),
}


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class LinePrice:
    subtotal: Decimal  # net, cents
    tax: Decimal  # cents; subtotal + tax == gross
    tax_exact: Decimal  # six places, as taxes[].total shows it
    unit_net: Decimal  # six places, the line's JSON-number ``price``


def price_line(unit_gross: Decimal, quantity: int) -> LinePrice:
    """A line priced from a tax-inclusive unit price."""
    gross = unit_gross * quantity
    tax_exact = (gross * TAX_RATE / (1 + TAX_RATE)).quantize(SIX_PLACES, ROUND_HALF_UP)
    net_exact = gross - tax_exact
    subtotal = cents(net_exact)
    unit_net = (net_exact / quantity).quantize(SIX_PLACES, ROUND_HALF_UP) if quantity else net_exact
    return LinePrice(subtotal, gross - subtotal, tax_exact, unit_net)


@dataclass
class LineItem:
    id: int
    product_id: int
    variation_id: int
    name: str
    parent_name: str | None
    sku: str
    quantity: int
    price: LinePrice
    attributes: tuple[tuple[str, str, int], ...] = ()  # (attribute name, value, meta id)
    reduced_stock: int = 0  # the _reduced_stock meta: what a restock may still give back

    @property
    def stock_record_id(self) -> int:
        return self.variation_id or self.product_id


@dataclass
class ShippingLine:
    id: int
    method_id: str
    method_title: str
    instance_id: str
    total: Decimal  # net, as the request gives it
    meta: list[tuple[int, str, str]] = field(default_factory=list)  # (id, key, value)

    @property
    def tax_exact(self) -> Decimal:
        return (self.total * TAX_RATE).quantize(SIX_PLACES, ROUND_HALF_UP)

    @property
    def tax(self) -> Decimal:
        return cents(self.tax_exact)


@dataclass
class RefundLine:
    id: int
    item: LineItem  # the order line refunded (meta _refunded_item_id)
    quantity: int  # positive here, negative on the wire
    total: Decimal  # excluding tax
    tax: Decimal
    meta_id: int


@dataclass
class Refund:
    id: int
    order_id: int
    created: datetime  # aware UTC
    amount: Decimal
    reason: str
    refunded_payment: bool
    lines: list[RefundLine] = field(default_factory=list)


@dataclass(frozen=True)
class OrderNote:
    """An order note (a WordPress comment): internal, or sent to the customer."""

    id: int
    created: datetime  # aware UTC
    note: str
    customer_note: bool
    author: str  # "system" for WooCommerce's own notes, else the API user


@dataclass
class Order:
    id: int
    status: str
    created: datetime  # aware UTC
    modified: datetime
    billing: dict[str, str]
    shipping: dict[str, str]
    payment_method: str
    order_key: str
    cart_hash: str = ""
    customer_id: int = 0
    transaction_id: str = ""
    customer_ip_address: str = ""
    customer_user_agent: str = ""
    created_via: str = "rest-api"
    customer_note: str = ""
    date_paid: datetime | None = None
    date_completed: datetime | None = None
    lines: list[LineItem] = field(default_factory=list)
    shipping_lines: list[ShippingLine] = field(default_factory=list)
    tax_line_id: int = 0
    refunds: list[Refund] = field(default_factory=list)  # newest first, as WooCommerce lists
    stock_reduced: bool = False  # _order_stock_reduced
    currency: str = CURRENCY
    payment_method_title_override: str | None = None
    # Custom fields (order meta, e.g. a geocoding plugin's coordinates): (id, key, value).
    meta: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[OrderNote] = field(default_factory=list)  # newest first, as WooCommerce lists

    @property
    def payment_method_title(self) -> str:
        if self.payment_method_title_override is not None:
            return self.payment_method_title_override
        return PAYMENT_METHODS.get(self.payment_method, (self.payment_method, False))[0]

    @property
    def can_refund_payment(self) -> bool:
        return PAYMENT_METHODS.get(self.payment_method, ("", False))[1]

    @property
    def cart_tax(self) -> Decimal:
        return sum((line.price.tax for line in self.lines), Decimal(0))

    @property
    def shipping_total(self) -> Decimal:
        return sum((s.total for s in self.shipping_lines), Decimal(0))

    @property
    def shipping_tax(self) -> Decimal:
        return sum((s.tax for s in self.shipping_lines), Decimal(0))

    @property
    def total_tax(self) -> Decimal:
        return self.cart_tax + self.shipping_tax

    @property
    def total(self) -> Decimal:
        net = sum((line.price.subtotal for line in self.lines), Decimal(0))
        return net + self.shipping_total + self.total_tax

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))

    @property
    def remaining_refund_amount(self) -> Decimal:
        return self.total - self.refunded

    def line(self, item_id: int) -> LineItem | None:
        return next((line for line in self.lines if line.id == item_id), None)


@dataclass
class Sequences:
    """WooCommerce's id counters: orders and refunds share one table (and so one sequence),
    order items have theirs, item meta theirs, order notes (comments) theirs."""

    post: int
    item: int
    meta: int
    comment: int = 1

    def next_comment(self) -> int:
        self.comment += 1
        return self.comment - 1

    def next_post(self) -> int:
        self.post += 1
        return self.post - 1

    def next_item(self) -> int:
        self.item += 1
        return self.item - 1

    def next_meta(self) -> int:
        self.meta += 1
        return self.meta - 1
