"""The backend writes a return owes, as outbox messages (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import TypeAdapter

from gateway.domain import Location, SourceSystem
from gateway.domain.documents import OmsReturnLine, StockReceiptLine, WebRefundDraft
from gateway.domain.outbox import OutboxMessage

RETURN_LINES = TypeAdapter(list[OmsReturnLine])
RECEIPT_LINE = TypeAdapter(StockReceiptLine)
REFUND = TypeAdapter(WebRefundDraft)

OPEN_OMS_RETURN = "oms.open_return"
CLOSE_OMS_RETURN = "oms.close_return"
REFUND_WEB_ORDER = "web.refund"
RESTOCK_POS = "pos.record_restock"
RECEIVE_ERP = "erp.receive_stock"


def open_oms_return(
    order_id: str, return_id: str, create_reference: str, lines: Sequence[OmsReturnLine]
) -> OutboxMessage:
    return OutboxMessage(
        order_id,
        "OMS",
        OPEN_OMS_RETURN,
        f"{return_id}:oms",
        {
            "return_id": return_id,
            "create_reference": create_reference,
            "lines": RETURN_LINES.dump_python(list(lines), mode="json"),
        },
    )


def close_oms_return(order_id: str, return_id: str) -> OutboxMessage:
    return OutboxMessage(
        order_id,
        "OMS",
        CLOSE_OMS_RETURN,
        f"{return_id}:oms-close",
        {"return_id": return_id, "open_reference": f"{return_id}:oms"},
    )


def refund_web_order(
    order_id: str, return_id: str, web_order_id: int, draft: WebRefundDraft
) -> OutboxMessage:
    return OutboxMessage(
        order_id,
        "STOREFRONT",
        REFUND_WEB_ORDER,
        f"{return_id}:refund",
        {
            "return_id": return_id,
            "web_order_id": web_order_id,
            "draft": REFUND.dump_python(draft, mode="json"),
        },
    )


def restock_at_source(
    ordering_key: str,
    reference: str,
    location: Location,
    line: StockReceiptLine,
    return_line_id: int,
    now: datetime,
) -> OutboxMessage:
    """A returned unit back on the shelf, recorded where that node's stock is kept."""
    if location.source is SourceSystem.ERP:
        return OutboxMessage(
            ordering_key,
            "ERP",
            RECEIVE_ERP,
            reference,
            {"line": RECEIPT_LINE.dump_python(line, mode="json"), "return_line_id": return_line_id},
        )
    return OutboxMessage(
        ordering_key,
        "POS",
        RESTOCK_POS,
        reference,
        {
            "sku": line.sku,
            "location_ref": location.source_ref,
            "location_id": location.id,
            "quantity": line.quantity,
            "occurred_at": now.isoformat(),
            "return_line_id": return_line_id,
        },
    )
