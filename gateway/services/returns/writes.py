"""The backend writes a return owes, as outbox messages (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway.domain import Location, SourceSystem
from gateway.domain.documents import OmsReturnLine, StockReceiptLine, WebRefundDraft
from gateway.domain.outbox import (
    CloseOmsReturn,
    OpenOmsReturn,
    ReceiveStock,
    RecordRestock,
    RefundWebOrder,
)
from gateway.services.source_writes import restock_at_store


def open_oms_return(
    order_id: str, return_id: str, create_reference: str, lines: Sequence[OmsReturnLine]
) -> OpenOmsReturn:
    return OpenOmsReturn(
        ordering_key=order_id,
        reference=f"{return_id}:oms",
        return_id=return_id,
        create_reference=create_reference,
        lines=tuple(lines),
    )


def close_oms_return(order_id: str, return_id: str) -> CloseOmsReturn:
    return CloseOmsReturn(
        ordering_key=order_id,
        reference=f"{return_id}:oms-close",
        return_id=return_id,
        open_reference=f"{return_id}:oms",
    )


def refund_web_order(
    order_id: str, return_id: str, web_order_id: int, draft: WebRefundDraft
) -> RefundWebOrder:
    return RefundWebOrder(
        ordering_key=order_id,
        reference=f"{return_id}:refund",
        return_id=return_id,
        web_order_id=web_order_id,
        draft=draft,
    )


def restock_at_source(
    ordering_key: str,
    reference: str,
    location: Location,
    line: StockReceiptLine,
    return_line_id: int,
    now: datetime,
) -> ReceiveStock | RecordRestock:
    """A returned unit back on the shelf, recorded where that node's stock is kept."""
    if location.source is SourceSystem.ERP:
        return ReceiveStock(
            ordering_key=ordering_key,
            reference=reference,
            line=line,
            return_line_id=return_line_id,
        )
    return restock_at_store(
        ordering_key, reference, location, line.sku, line.quantity, now, return_line_id
    )
