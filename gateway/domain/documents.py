"""Documents the gateway writes to, and reads back from, the backends for orders,
holds and returns.

Each carries a ``reference``: the gateway's own id for the write. Adapters use it as the
backend's idempotency mechanism (Square ``idempotency_key``, Shopify ``sourceIdentifier``,
ERPNext ``po_no``, a tag in a WooCommerce refund's reason), so a retried delivery finds the
first write instead of making a second one. Statuses are the backend's own words, kept raw;
``gateway.services.orders.states`` maps them to the canonical order status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from gateway.domain.catalog import GeoPoint, Money


@dataclass(frozen=True, slots=True)
class PostalAddress:
    name: str
    line1: str
    city: str
    postal_code: str
    country_code: str
    line2: str | None = None
    point: GeoPoint | None = None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    sku: str
    quantity: int
    unit_price: Money | None = None


@dataclass(frozen=True, slots=True)
class Tracking:
    company: str | None = None
    number: str | None = None
    url: str | None = None


# --- OMS (Shopify Admin GraphQL) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OmsAllocation:
    """``quantity`` of ``sku`` to be fulfilled from the OMS location ``location_ref`` (a gid)."""

    location_ref: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OmsOrderDraft:
    reference: str  # becomes sourceIdentifier: the idempotent look-up key
    email: str
    customer_name: str
    currency: str
    lines: tuple[DocumentLine, ...]
    allocations: tuple[OmsAllocation, ...]
    shipping_address: PostalAddress | None = None
    note: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OmsFulfillmentLine:
    id: str  # FulfillmentOrderLineItem gid
    sku: str
    total_quantity: int
    remaining_quantity: int


@dataclass(frozen=True, slots=True)
class OmsFulfillmentOrder:
    id: str
    location_ref: str
    status: str  # FulfillmentOrderStatus, e.g. OPEN, IN_PROGRESS, CLOSED, CANCELLED
    lines: tuple[OmsFulfillmentLine, ...]
    tracking: tuple[Tracking, ...] = ()


@dataclass(frozen=True, slots=True)
class OmsOrder:
    id: str  # gid://shopify/Order/...
    name: str  # "#1001"
    reference: str | None  # sourceIdentifier
    fulfillment_orders: tuple[OmsFulfillmentOrder, ...]


@dataclass(frozen=True, slots=True)
class OmsLineChange:
    """A SKU's quantity on an OMS order moved by ``delta`` (an order edit)."""

    sku: str
    delta: int


@dataclass(frozen=True, slots=True)
class OmsReturnLine:
    sku: str
    quantity: int
    reason: str  # the gateway's reason code (DAMAGED, SIZE_OR_FIT, ...)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class OmsReturn:
    id: str  # gid://shopify/Return/...
    name: str
    status: str  # ReturnStatus: REQUESTED, OPEN, CLOSED, DECLINED, CANCELED


# --- ERP (ERPNext) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SalesOrderLine:
    sku: str
    quantity: int
    warehouse: str  # ERPNext warehouse name, e.g. "Stores - GW"
    rate: Money | None = None


@dataclass(frozen=True, slots=True)
class SalesOrderDraft:
    reference: str  # becomes po_no: the idempotent look-up key
    customer: str
    transaction_date: date
    delivery_date: date
    lines: tuple[SalesOrderLine, ...]
    reserve_stock: bool = True


@dataclass(frozen=True, slots=True)
class SalesOrder:
    name: str  # e.g. SAL-ORD-2026-00042
    reference: str | None  # po_no
    docstatus: int  # 0 draft, 1 submitted, 2 cancelled
    status: str  # Draft, To Deliver and Bill, ..., Completed, Cancelled, Closed
    per_delivered: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class StockReservation:
    name: str  # MAT-SRE-2026-00001
    sku: str
    warehouse: str
    reserved_qty: int
    delivered_qty: int
    status: str  # Reserved, Partially Delivered, Delivered, Cancelled, ...


@dataclass(frozen=True, slots=True)
class StockReceiptLine:
    sku: str
    quantity: int
    warehouse: str


# --- Storefront (WooCommerce) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebTax:
    """One tax rate's part of a line (``taxes[]`` on an order line, ``refund_tax[]`` on a
    refund line). ``rate_id`` is WooCommerce's tax rate id; an order line's amounts are kept
    unrounded as WooCommerce reports them (six places)."""

    rate_id: int
    amount: Money


@dataclass(frozen=True, slots=True)
class WebOrderLine:
    id: int  # the order line item id (refunds point at it)
    sku: str | None
    quantity: int
    total: Money  # line total excluding tax
    tax: Money  # the line's total_tax: what the customer paid is total + tax
    taxes: tuple[WebTax, ...] = ()  # the tax per rate id (needed to refund it per rate)

    @property
    def paid(self) -> Money:
        return Money(self.total.amount + self.tax.amount, self.total.currency)


@dataclass(frozen=True, slots=True)
class WebOrder:
    id: int
    number: str
    status: str  # pending, processing, on-hold, completed, cancelled, refunded, failed, ...
    created_at: datetime  # aware UTC (date_created_gmt)
    modified_at: datetime  # aware UTC (date_modified_gmt)
    email: str | None
    customer_name: str
    total: Money
    lines: tuple[WebOrderLine, ...]
    shipping_address: PostalAddress | None = None
    # Local pickup at checkout: the store as the shop names it ("" when it names none).
    pickup_location: str | None = None


@dataclass(frozen=True, slots=True)
class WebRefundLine:
    line_id: int
    quantity: int
    amount: Money  # excluding tax (refund_total)
    tax: Money | None = None  # the tax refunded with it; None: no tax part is sent
    taxes: tuple[WebTax, ...] = ()  # ``tax`` per rate id (refund_tax); they add up to it


@dataclass(frozen=True, slots=True)
class WebRefundDraft:
    reference: str  # written into the reason so a retry finds the first refund
    amount: Money  # including tax: what the customer gets back
    lines: tuple[WebRefundLine, ...]
    reason: str
    restock: bool = False  # the gateway restocks through the source of truth, not Woo
    move_money: bool = True  # api_refund: ask the payment gateway to refund


@dataclass(frozen=True, slots=True)
class WebRefund:
    id: int
    amount: Money
    reason: str
