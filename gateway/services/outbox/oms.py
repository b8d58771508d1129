"""Shopify's writes: the order split into fulfillment orders at the chosen locations, its
cancellation and fulfilment, and returns opened and closed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from gateway.domain import SourceSystem
from gateway.domain.orders import OrderChanges, ReturnStatus, SystemRecord
from gateway.domain.outbox import (
    CancelOmsOrder,
    CloseOmsReturn,
    CreateOmsOrder,
    EditOmsOrder,
    FulfillOmsOrder,
    OmsOrderWritten,
    OmsReturnClosed,
    OmsReturnOpened,
    OmsWrite,
    OpenOmsReturn,
    ReallocateOmsOrder,
)
from gateway.errors import BackendRejected
from gateway.ports import OmsPort, UnitOfWork
from gateway.services.outbox.handler import Delivered, EarlierResults, Record, note_on_order

OMS = SourceSystem.OMS


class OmsWrites:
    target: ClassVar[SourceSystem] = OMS

    def __init__(self, oms: OmsPort) -> None:
        self._oms = oms

    async def deliver(self, message: OmsWrite, earlier: EarlierResults) -> Delivered:
        match message:
            case CreateOmsOrder():
                created = OmsOrderWritten.of(await self._oms.create_order(message.draft))
                return Delivered(created, _created(message, created))
            case CancelOmsOrder():
                first = await earlier.of(message.create_reference, OmsOrderWritten)
                cancelled = OmsOrderWritten.of(await self._oms.cancel_order(first.id))
                return Delivered(cancelled, _moved(message.order_id, "OMS_CANCELLED", cancelled))
            case FulfillOmsOrder():
                first = await earlier.of(message.create_reference, OmsOrderWritten)
                fulfilled = await self._fulfil(first.id, message)
                return Delivered(fulfilled, _moved(message.order_id, "OMS_FULFILLED", fulfilled))
            case ReallocateOmsOrder():
                first = await earlier.of(message.create_reference, OmsOrderWritten)
                moved = await self._oms.reallocate(first.id, message.allocations)
                reallocated = OmsOrderWritten.of(moved)
                return Delivered(
                    reallocated, _moved(message.order_id, "OMS_REALLOCATED", reallocated)
                )
            case EditOmsOrder():
                first = await earlier.of(message.create_reference, OmsOrderWritten)
                edited = await self._oms.edit_lines(first.id, message.changes, message.reference)
                now_is = OmsOrderWritten.of(edited)
                return Delivered(now_is, _moved(message.order_id, "OMS_EDITED", now_is))
            case OpenOmsReturn():
                first = await earlier.of(message.create_reference, OmsOrderWritten)
                opened = await self._oms.open_return(first.id, message.lines, message.reference)
                written = OmsReturnOpened(id=opened.id, name=opened.name, status=opened.status)
                return Delivered(written, _return_opened(message, written))
            case CloseOmsReturn():
                first_return = await earlier.of(message.open_reference, OmsReturnOpened)
                closed = await self._oms.close_return(first_return.id)
                written_close = OmsReturnClosed(id=closed.id, status=closed.status)
                return Delivered(written_close, _return_closed(message))

    async def _fulfil(self, order_id: str, message: FulfillOmsOrder) -> OmsOrderWritten:
        current = await self._oms.order(order_id)
        if current is None:
            raise BackendRejected(f"OMS order {order_id} is gone", backend="oms")
        for fo in current.fulfillment_orders:
            if fo.status not in ("CLOSED", "CANCELLED"):
                await self._oms.fulfill(fo.id, message.tracking)
        refreshed = await self._oms.order(order_id)
        assert refreshed is not None  # it was there a moment ago
        return OmsOrderWritten.of(refreshed)


def _created(message: CreateOmsOrder, order: OmsOrderWritten) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await note_on_order(
            uow,
            message.order_id,
            now,
            OMS,
            "OMS_ORDER_CREATED",
            f"OMS order {order.name} with {len(order.fulfillment_orders)} fulfillment order(s)",
            OrderChanges(systems=(SystemRecord(OMS, order.id, order.status),)),
        )
        return []

    return record


def _moved(order_id: str, kind: str, order: OmsOrderWritten) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await note_on_order(
            uow,
            order_id,
            now,
            OMS,
            kind,
            f"OMS fulfillment orders now {order.status}",
            OrderChanges(systems=(SystemRecord(OMS, None, order.status),)),
        )
        return []

    return record


def _return_opened(message: OpenOmsReturn, opened: OmsReturnOpened) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await uow.returns.update(message.return_id, now, oms_return_id=opened.id)
        await note_on_order(
            uow,
            message.ordering_key,
            now,
            OMS,
            "OMS_RETURN",
            f"OMS return {opened.name} {opened.status}",
        )
        return []

    return record


def _return_closed(message: CloseOmsReturn) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await uow.returns.update(message.return_id, now, status=ReturnStatus.CLOSED)
        return []

    return record
