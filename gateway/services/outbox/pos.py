"""Square's writes: a held unit recorded as sold at its store (Square's reserved state is
read-only), a unit put back (a cancelled sale, a returned unit), and a cycle count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from gateway.domain import SourceSystem
from gateway.domain.acting import actor
from gateway.domain.orders import OrderChanges, SystemRecord
from gateway.domain.outbox import (
    AdjustmentWritten,
    PosWrite,
    RecordCount,
    RecordRestock,
    RecordSale,
)
from gateway.domain.truth import AuditEntry, AuditKind
from gateway.ports import PosStockWritesPort, UnitOfWork
from gateway.services.outbox.counts import count_written
from gateway.services.outbox.handler import Delivered, EarlierResults, Record, note_on_order

POS = SourceSystem.POS


class PosWrites:
    target: ClassVar[SourceSystem] = POS

    def __init__(self, pos: PosStockWritesPort) -> None:
        self._pos = pos

    async def deliver(self, message: PosWrite, earlier: EarlierResults) -> Delivered:
        match message:
            case RecordSale():
                await self._pos.record_sale(
                    message.reference,
                    message.sku,
                    message.location_ref,
                    message.quantity,
                    message.occurred_at,
                )
                return Delivered(AdjustmentWritten(), _sold(message))
            case RecordRestock():
                await self._pos.record_restock(
                    message.reference,
                    message.sku,
                    message.location_ref,
                    message.quantity,
                    message.occurred_at,
                )
                return Delivered(AdjustmentWritten(), _restocked(message))
            case RecordCount():
                await self._pos.record_count(
                    message.reference,
                    message.sku,
                    message.location_ref,
                    message.quantity,
                    message.counted_at,
                )
                return Delivered(AdjustmentWritten(), count_written(message, POS))


def _sold(message: RecordSale) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        owner = message.hold_reference
        skus = await uow.reservations.settle_holds(owner, message.location_id, now, message.sku)
        await uow.audit.add(
            [
                AuditEntry(
                    now,
                    AuditKind.STOCK_COMMITTED,
                    POS,
                    actor(),
                    message.sku,
                    "IN_STOCK",
                    None,
                    f"-{message.quantity} IN_STOCK -> SOLD",
                    location_id=message.location_id,
                    reference=owner,
                )
            ]
        )
        await note_on_order(
            uow,
            owner,
            now,
            POS,
            "POS_SALE",
            f"{message.quantity}x {message.sku} recorded as sold at {message.location_id}",
            # Square holds no order: its record is the sale at that store.
            OrderChanges(
                systems=(SystemRecord(POS, message.location_ref, "SOLD", message.location_id),)
            ),
        )
        return skus

    return record


def _restocked(message: RecordRestock) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        if message.return_line_id is not None:
            await uow.returns.mark_lines_applied([message.return_line_id], now)
        kind = AuditKind.STOCK_RELEASED if message.return_line_id is None else AuditKind.RESTOCKED
        await uow.audit.add(
            [
                AuditEntry(
                    now,
                    kind,
                    POS,
                    actor(),
                    message.sku,
                    "IN_STOCK",
                    None,
                    f"+{message.quantity} NONE -> IN_STOCK",
                    location_id=message.location_id,
                    reference=message.ordering_key,
                )
            ]
        )
        # A return's restock leaves the sale as it was; a cancelled sale is undone.
        undone = (
            ()
            if message.return_line_id is not None
            else (SystemRecord(POS, message.location_ref, "RESTOCKED", message.location_id),)
        )
        await note_on_order(
            uow,
            message.ordering_key,
            now,
            POS,
            "POS_RESTOCK",
            f"{message.sku} back in stock",
            OrderChanges(systems=undone),
        )
        return [message.sku]

    return record
