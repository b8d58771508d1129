"""WooCommerce's writes: the refund of a returned web order line by line, in exact
decimals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from gateway.domain import SourceSystem
from gateway.domain.orders import ReturnStatus
from gateway.domain.outbox import RefundWebOrder, RefundWritten, StorefrontWrite
from gateway.ports import UnitOfWork, WebOrdersPort
from gateway.services.outbox.handler import Delivered, EarlierResults, Record, note_on_order

STOREFRONT = SourceSystem.STOREFRONT


class StorefrontWrites:
    target: ClassVar[SourceSystem] = STOREFRONT

    def __init__(self, web: WebOrdersPort) -> None:
        self._web = web

    async def deliver(self, message: StorefrontWrite, earlier: EarlierResults) -> Delivered:
        refund = await self._web.refund(message.web_order_id, message.draft)
        refunded = RefundWritten(id=refund.id, amount=refund.amount.amount)
        return Delivered(refunded, _refunded(message, refunded))


def _refunded(message: RefundWebOrder, refund: RefundWritten) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await uow.returns.update(
            message.return_id, now, status=ReturnStatus.CLOSED, web_refund_id=refund.id
        )
        await note_on_order(
            uow,
            message.ordering_key,
            now,
            STOREFRONT,
            "WEB_REFUND",
            f"WooCommerce refund {refund.id} of {refund.amount}",
        )
        return []

    return record
