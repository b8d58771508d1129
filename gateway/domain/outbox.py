"""Writes owed to backends (the transactional outbox): one type per write, and their state.

Every message names its backend (``target``), says what to write, and carries two keys:
``ordering_key``, the order or reservation it belongs to (messages of one key are delivered
in the order they were owed: a Sales Order is never cancelled before it was posted), and
``reference``, the backend's idempotency key (a second delivery of the same write is
recognised by the backend and changes nothing).

An outbox row stores a message's ``kind``, its two keys and the rest as JSON
(``payload()``); ``read_message`` gives the typed message back. A row that no longer reads
as any message (written by another version, or edited by hand) comes back as
``UnreadableMessage`` and is dead-lettered with the reason, never retried for ever.

Delivery states: PENDING -> IN_FLIGHT (leased to one worker) -> DELIVERED, or back to
PENDING with a later ``next_attempt_at`` after a failure, or DEAD once the retry budget is
spent; a DEAD one goes back to PENDING (``retryDelivery``) or to SKIPPED (``skipDelivery``).
The writes behind a DEAD one of the same ordering key wait, and are shown as BLOCKED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter, ValidationError

from gateway.domain.catalog import SourceSystem
from gateway.domain.documents import (
    OmsAllocation,
    OmsLineChange,
    OmsOrder,
    OmsOrderDraft,
    OmsReturnLine,
    SalesOrderDraft,
    StockReceiptLine,
    Tracking,
    WebRefundDraft,
)

# Stored as Python's isoformat ("+00:00"), as the first outbox rows were.
IsoDatetime = Annotated[
    datetime, PlainSerializer(lambda at: at.isoformat(), return_type=str, when_used="json")
]


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: ClassVar[SourceSystem]
    kind: str
    ordering_key: str
    reference: str

    def payload(self) -> dict[str, Any]:
        """What the outbox row keeps besides the kind and the two keys."""
        return self.model_dump(mode="json", exclude={"kind", "ordering_key", "reference"})


# --- ERP (ERPNext) ---------------------------------------------------------------------


class SubmitSalesOrder(_Message):
    """A submitted Sales Order with ``reserve_stock``: the ERP takes over the holds of
    ``hold_reference`` (a reservation or an order) at the warehouse ``location_id``."""

    target: ClassVar[SourceSystem] = SourceSystem.ERP
    kind: Literal["erp.submit_sales_order"] = "erp.submit_sales_order"
    draft: SalesOrderDraft
    location_id: str
    hold_reference: str


class CancelSalesOrder(_Message):
    """The Sales Order ``submit_reference`` made (or the one named ``sales_order``: a ledger
    check's compensation for one the gateway did not make), cancelled: the ERP gives its
    units back."""

    target: ClassVar[SourceSystem] = SourceSystem.ERP
    kind: Literal["erp.cancel_sales_order"] = "erp.cancel_sales_order"
    submit_reference: str
    sales_order: str | None = Field(default=None, exclude_if=lambda name: name is None)


class DeliverSalesOrder(_Message):
    """Everything still open on the Sales Order ``submit_reference`` made, shipped by one
    Delivery Note found again by ``reference``: the units leave the warehouse and the
    Sales Order's reservation is consumed."""

    target: ClassVar[SourceSystem] = SourceSystem.ERP
    kind: Literal["erp.deliver_sales_order"] = "erp.deliver_sales_order"
    submit_reference: str
    location_id: str


class ReceiveStock(_Message):
    """A Material Receipt: a returned unit back on a warehouse shelf."""

    target: ClassVar[SourceSystem] = SourceSystem.ERP
    kind: Literal["erp.receive_stock"] = "erp.receive_stock"
    line: StockReceiptLine
    return_line_id: int


class AddItemBarcode(_Message):
    """An internal barcode the gateway gave an item (ordering_key: the SKU), written to the
    ERPNext Item's barcode table, where every system's barcodes are kept."""

    target: ClassVar[SourceSystem] = SourceSystem.ERP
    kind: Literal["erp.add_item_barcode"] = "erp.add_item_barcode"
    sku: str
    barcode: str


class ReconcileStock(_Message):
    """A cycle count at a warehouse (ordering_key: the SKU at that node): a Stock
    Reconciliation posted at ``counted_at`` setting the warehouse's figure to ``quantity``
    then, or where Stock Reservation Entries hold the item (ERPNext will not reconcile
    reserved stock), a Stock Entry at ``counted_at`` moving ``variance``; either way ERPNext
    keeps the movements posted after it."""

    target: ClassVar[SourceSystem] = SourceSystem.ERP
    kind: Literal["erp.reconcile_stock"] = "erp.reconcile_stock"
    count_id: str
    sku: str
    warehouse: str
    location_id: str
    quantity: int
    variance: int
    counted_at: IsoDatetime


# --- POS (Square) ----------------------------------------------------------------------


class RecordSale(_Message):
    """IN_STOCK -> SOLD at a store: the POS takes over the hold of ``hold_reference``."""

    target: ClassVar[SourceSystem] = SourceSystem.POS
    kind: Literal["pos.record_sale"] = "pos.record_sale"
    sku: str
    location_ref: str
    location_id: str
    quantity: int
    occurred_at: IsoDatetime
    hold_reference: str


class RecordRestock(_Message):
    """NONE -> IN_STOCK at a store: a cancelled sale, or a returned unit (``return_line_id``),
    back on the shelf."""

    target: ClassVar[SourceSystem] = SourceSystem.POS
    kind: Literal["pos.record_restock"] = "pos.record_restock"
    sku: str
    location_ref: str
    location_id: str
    quantity: int
    occurred_at: IsoDatetime
    return_line_id: int | None = Field(default=None, exclude_if=lambda line: line is None)


class RecordCount(_Message):
    """A cycle count at a store (ordering_key: the SKU at that node): a PHYSICAL_COUNT of
    IN_STOCK at ``counted_at``; Square replays the adjustments after it on top."""

    target: ClassVar[SourceSystem] = SourceSystem.POS
    kind: Literal["pos.record_count"] = "pos.record_count"
    count_id: str
    sku: str
    location_ref: str
    location_id: str
    quantity: int
    counted_at: IsoDatetime


# --- OMS (Shopify) ---------------------------------------------------------------------


class CreateOmsOrder(_Message):
    target: ClassVar[SourceSystem] = SourceSystem.OMS
    kind: Literal["oms.create_order"] = "oms.create_order"
    order_id: str
    draft: OmsOrderDraft


class CancelOmsOrder(_Message):
    target: ClassVar[SourceSystem] = SourceSystem.OMS
    kind: Literal["oms.cancel_order"] = "oms.cancel_order"
    order_id: str
    create_reference: str


class FulfillOmsOrder(_Message):
    """Everything still open on the order's fulfillment orders, fulfilled."""

    target: ClassVar[SourceSystem] = SourceSystem.OMS
    kind: Literal["oms.fulfill"] = "oms.fulfill"
    order_id: str
    create_reference: str
    tracking: Tracking | None


class ReallocateOmsOrder(_Message):
    """The order's fulfillment orders moved to the nodes the gateway now fills it from."""

    target: ClassVar[SourceSystem] = SourceSystem.OMS
    kind: Literal["oms.reallocate"] = "oms.reallocate"
    order_id: str
    create_reference: str
    allocations: tuple[OmsAllocation, ...]


class EditOmsOrder(_Message):
    """The order's line items edited (orderEdit) so each SKU moves by its change: a short
    pick's substitute in, the missing units out."""

    target: ClassVar[SourceSystem] = SourceSystem.OMS
    kind: Literal["oms.edit_order"] = "oms.edit_order"
    order_id: str
    create_reference: str
    changes: tuple[OmsLineChange, ...]


class OpenOmsReturn(_Message):
    target: ClassVar[SourceSystem] = SourceSystem.OMS
    kind: Literal["oms.open_return"] = "oms.open_return"
    return_id: str
    create_reference: str
    lines: tuple[OmsReturnLine, ...]


class CloseOmsReturn(_Message):
    target: ClassVar[SourceSystem] = SourceSystem.OMS
    kind: Literal["oms.close_return"] = "oms.close_return"
    return_id: str
    open_reference: str


# --- Storefront (WooCommerce) ----------------------------------------------------------


class RefundWebOrder(_Message):
    target: ClassVar[SourceSystem] = SourceSystem.STOREFRONT
    kind: Literal["web.refund"] = "web.refund"
    return_id: str
    web_order_id: int
    draft: WebRefundDraft


class UpdateWebOrder(_Message):
    """The storefront's copy of an order told what happened to it: its ``status`` (None:
    left as it is) and a ``note`` (sent to the customer when ``customer_note``)."""

    target: ClassVar[SourceSystem] = SourceSystem.STOREFRONT
    kind: Literal["web.update_order"] = "web.update_order"
    web_order_id: int
    status: str | None
    note: str | None
    customer_note: bool = True


class WebStockItem(BaseModel):
    """One listing's stock fields as they should become, and as they were when the gateway
    decided so: the push goes out only if the listing still shows ``seen_*`` (compare
    before set), so a correction never overwrites a newer change."""

    model_config = ConfigDict(frozen=True)

    sku: str
    product_id: int
    variation_id: int | None
    quantity: int | None = None  # a managed stock quantity
    stock_status: str | None = None  # the status of a listing whose stock is not managed
    backorders: str | None = None
    seen_quantity: int | None
    seen_status: str
    seen_backorders: str
    discrepancy_ids: tuple[str, ...] = ()  # closed once the storefront shows the truth


class SetWebStock(_Message):
    """The storefront's stock copy set to the truth: enforcing open discrepancies, or
    following a change the gateway made (a hold, an order, a cancellation, a restock)."""

    target: ClassVar[SourceSystem] = SourceSystem.STOREFRONT
    kind: Literal["web.set_stock"] = "web.set_stock"
    reason: Literal["enforce", "sync"]
    items: tuple[WebStockItem, ...]


# --- The customer (mail) ------------------------------------------------------------------


class SendCustomerMail(_Message):
    """A mail telling the customer what happened to their order; ``reference`` is also what
    its Message-ID is made from."""

    target: ClassVar[SourceSystem] = SourceSystem.MAIL
    kind: Literal["mail.send"] = "mail.send"
    to: str
    subject: str
    body: str


ErpWrite = (
    SubmitSalesOrder
    | CancelSalesOrder
    | DeliverSalesOrder
    | ReceiveStock
    | AddItemBarcode
    | ReconcileStock
)
PosWrite = RecordSale | RecordRestock | RecordCount
OmsWrite = (
    CreateOmsOrder
    | CancelOmsOrder
    | FulfillOmsOrder
    | ReallocateOmsOrder
    | EditOmsOrder
    | OpenOmsReturn
    | CloseOmsReturn
)
StorefrontWrite = RefundWebOrder | UpdateWebOrder | SetWebStock
MailWrite = SendCustomerMail
OutboxMessage = Annotated[
    ErpWrite | PosWrite | OmsWrite | StorefrontWrite | MailWrite, Field(discriminator="kind")
]
_MESSAGE: TypeAdapter[OutboxMessage] = TypeAdapter(OutboxMessage)


@dataclass(frozen=True, slots=True)
class UnreadableMessage:
    """An outbox row that reads as no message: it is shown as it is stored, and dead."""

    target: SourceSystem
    kind: str
    ordering_key: str
    reference: str
    stored: dict[str, Any]
    error: str

    def payload(self) -> dict[str, Any]:
        return self.stored


def read_message(
    target: SourceSystem, kind: str, ordering_key: str, reference: str, payload: dict[str, Any]
) -> OutboxMessage | UnreadableMessage:
    try:
        message = _MESSAGE.validate_python(
            {**payload, "kind": kind, "ordering_key": ordering_key, "reference": reference}
        )
    except ValidationError as error:
        return UnreadableMessage(target, kind, ordering_key, reference, payload, str(error))
    if message.target is not target:
        return UnreadableMessage(
            target, kind, ordering_key, reference, payload, f"{kind} is not for {target}"
        )
    return message


# --- What backends answered --------------------------------------------------------------
# Kept with the delivered message; a later write that depends on it reads it back (a cancel
# needs the id the create was given).


class WriteResult(BaseModel):
    model_config = ConfigDict(frozen=True)


class SalesOrderWritten(WriteResult):
    name: str
    status: str


class ReceiptWritten(WriteResult):
    name: str


class BarcodeWritten(WriteResult):
    barcode: str


class ReconciliationWritten(WriteResult):
    name: str  # "" when ERPNext had nothing to change


class AdjustmentWritten(WriteResult):
    """Square answers an adjustment with nothing a later write needs."""


class FulfillmentOrderState(WriteResult):
    id: str
    status: str
    location: str | None


class OmsOrderWritten(WriteResult):
    id: str
    name: str
    fulfillment_orders: tuple[FulfillmentOrderState, ...]
    tracking: tuple[Tracking, ...]

    @classmethod
    def of(cls, order: OmsOrder) -> OmsOrderWritten:
        return cls(
            id=order.id,
            name=order.name,
            fulfillment_orders=tuple(
                FulfillmentOrderState(id=fo.id, status=fo.status, location=fo.location_ref)
                for fo in order.fulfillment_orders
            ),
            tracking=tuple(t for fo in order.fulfillment_orders for t in fo.tracking),
        )

    @property
    def status(self) -> str:
        """The statuses of its fulfillment orders, as the order's OMS status."""
        return ",".join(sorted({fo.status for fo in self.fulfillment_orders})) or "NONE"


class OmsReturnOpened(WriteResult):
    id: str
    name: str
    status: str


class OmsReturnClosed(WriteResult):
    id: str
    status: str


class RefundWritten(WriteResult):
    id: int
    amount: Decimal
    order_status: str | None = None  # the web order's status after it (refunded when all is)
    order_modified_at: datetime | None = None  # WooCommerce's date_modified after it


class MailSent(WriteResult):
    message_id: str


class WebOrderUpdated(WriteResult):
    status: str | None  # the status the storefront now shows, when one was set
    note_id: int | None


class WebStockOutcome(WriteResult):
    """SET: re-read, the listing shows what was pushed; UNCONFIRMED: pushed, but the re-read
    shows something else; SKIPPED: it no longer showed what the gateway saw, so nothing was
    pushed; REFUSED: the storefront refused the item (``error``)."""

    sku: str
    outcome: Literal["SET", "UNCONFIRMED", "SKIPPED", "REFUSED"]
    before: str  # the stock fields as the storefront showed them just before
    after: str | None = None  # as it shows them after the push (re-read)
    error: str | None = None


class WebStockPushed(WriteResult):
    items: tuple[WebStockOutcome, ...]


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    IN_FLIGHT = "IN_FLIGHT"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"
    SKIPPED = "SKIPPED"  # a dead write someone decided must not happen now
    BLOCKED = "BLOCKED"  # shown, never stored: pending behind a dead write of its key


# Done with: nothing behind them waits for these.
SETTLED = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.SKIPPED})


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    message: OutboxMessage | UnreadableMessage
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    blocked_by: int | None = None  # the dead write it waits behind (status BLOCKED)
    requested_by: str | None = None  # the principal whose request owed it (None: the gateway)
