"""ERPNext's writes: Sales Orders that take over holds at a warehouse, their cancellation,
the Delivery Notes that ship them, Material Receipts for returned units, internal
barcodes added to an Item's barcode table, and Stock Reconciliations for cycle counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import ClassVar

from gateway.domain import SourceSystem
from gateway.domain.acting import actor
from gateway.domain.orders import OrderChanges, SystemRecord
from gateway.domain.outbox import (
    AddItemBarcode,
    BarcodeWritten,
    CancelSalesOrder,
    DeliverSalesOrder,
    ErpWrite,
    ReceiptWritten,
    ReceiveStock,
    ReconcileStock,
    ReconciliationWritten,
    SalesOrderWritten,
    SubmitSalesOrder,
)
from gateway.domain.truth import AuditEntry, AuditKind
from gateway.ports import ErpOrdersPort, UnitOfWork
from gateway.services.outbox.counts import count_written
from gateway.services.outbox.handler import Delivered, EarlierResults, Record, note_on_order

ERP = SourceSystem.ERP
# Told when an Item master changed (its SKU, the barcodes now pointing at it), before the
# write is marked delivered: cached copies of the item and of those look-ups are dropped.
ItemChanged = Callable[[str, Sequence[str]], Awaitable[None]]


class ErpWrites:
    target: ClassVar[SourceSystem] = ERP

    def __init__(self, erp: ErpOrdersPort, item_changed: ItemChanged | None = None) -> None:
        self._erp = erp
        self._item_changed = item_changed

    async def deliver(self, message: ErpWrite, earlier: EarlierResults) -> Delivered:
        match message:
            case SubmitSalesOrder():
                so = await self._erp.submit_sales_order(message.draft)
                submitted = SalesOrderWritten(name=so.name, status=so.status)
                return Delivered(submitted, _submitted(message, submitted))
            case CancelSalesOrder():
                name = message.sales_order
                if name is None:
                    name = (await earlier.of(message.submit_reference, SalesOrderWritten)).name
                so = await self._erp.cancel_sales_order(name)
                cancelled = SalesOrderWritten(name=so.name, status=so.status)
                return Delivered(cancelled, _cancelled(message, cancelled))
            case DeliverSalesOrder():
                name = (await earlier.of(message.submit_reference, SalesOrderWritten)).name
                so = await self._erp.deliver_sales_order(name, message.reference)
                delivered = SalesOrderWritten(name=so.name, status=so.status)
                return Delivered(delivered, _delivered(message, delivered))
            case ReceiveStock():
                name = await self._erp.receive_stock(message.reference, [message.line])
                return Delivered(ReceiptWritten(name=name), _received(message))
            case AddItemBarcode():
                await self._erp.add_item_barcode(message.sku, message.barcode)
                if self._item_changed is not None:  # its cached master and look-ups go
                    await self._item_changed(message.sku, [message.barcode])
                return Delivered(BarcodeWritten(barcode=message.barcode), _barcode_added(message))
            case ReconcileStock():
                name = await self._erp.correct_count(
                    message.reference,
                    message.sku,
                    message.warehouse,
                    message.quantity,
                    message.variance,
                    message.counted_at,
                )
                return Delivered(ReconciliationWritten(name=name), count_written(message, ERP))


def _submitted(message: SubmitSalesOrder, so: SalesOrderWritten) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        owner = message.hold_reference
        skus = await uow.reservations.settle_holds(owner, message.location_id, now)
        await uow.audit.add(
            [
                AuditEntry(
                    now,
                    AuditKind.STOCK_COMMITTED,
                    ERP,
                    actor(),
                    line.sku,
                    "reserved",
                    None,
                    f"+{line.quantity} reserved by Sales Order {so.name}",
                    location_id=message.location_id,
                    reference=owner,
                )
                for line in message.draft.lines
            ]
        )
        await note_on_order(
            uow,
            owner,
            now,
            ERP,
            "ERP_SALES_ORDER",
            f"Sales Order {so.name} submitted, stock reserved in the ERP",
            OrderChanges(systems=(SystemRecord(ERP, so.name, so.status, message.location_id),)),
        )
        return skus

    return record


def _cancelled(message: CancelSalesOrder, so: SalesOrderWritten) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        owner = message.ordering_key
        released = await uow.reservations.held_skus(owner)
        await uow.audit.add(
            [
                AuditEntry(
                    now,
                    AuditKind.STOCK_RELEASED,
                    ERP,
                    actor(),
                    sku,
                    "reserved",
                    None,
                    f"released: Sales Order {so.name} cancelled",
                    reference=owner,
                )
                for sku in released
            ]
        )
        await note_on_order(
            uow,
            owner,
            now,
            ERP,
            "ERP_SALES_ORDER_CANCELLED",
            f"Sales Order {so.name} cancelled, ERP reservation released",
            OrderChanges(systems=(SystemRecord(ERP, so.name, so.status),)),
        )
        # The Bins gave the units back: a reading cached before that still counts them
        # reserved, and the released holds no longer say so, so fetch afresh.
        return released

    return record


def _delivered(message: DeliverSalesOrder, so: SalesOrderWritten) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await note_on_order(
            uow,
            message.ordering_key,
            now,
            ERP,
            "ERP_DELIVERED",
            f"Sales Order {so.name} delivered (Delivery Note): its units left the warehouse",
            OrderChanges(systems=(SystemRecord(ERP, so.name, so.status),)),
        )
        # The Bins moved (on hand and reserved fell together): read them afresh.
        return await uow.reservations.held_skus(message.ordering_key)

    return record


def _received(message: ReceiveStock) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await uow.returns.mark_lines_applied([message.return_line_id], now)
        sku = message.line.sku
        await uow.audit.add(
            [
                AuditEntry(
                    now,
                    AuditKind.RESTOCKED,
                    ERP,
                    actor(),
                    sku,
                    "actual_qty",
                    None,
                    f"+{message.line.quantity} received into {message.line.warehouse}",
                    reference=message.reference,
                )
            ]
        )
        await note_on_order(
            uow, message.ordering_key, now, ERP, "ERP_STOCK_RECEIPT", f"{sku} back in stock"
        )
        return [sku]

    return record


def _barcode_added(message: AddItemBarcode) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await uow.audit.add(
            [
                AuditEntry(
                    now,
                    AuditKind.BARCODE_ASSIGNED,
                    ERP,
                    actor(),
                    message.sku,
                    "barcodes",
                    None,
                    message.barcode,
                    reference=message.reference,
                )
            ]
        )
        return ()  # no stock figure moved

    return record
