"""Outbox messages are typed, and what an outbox row stores reads back as the same message.

Rows written before the messages were typed must read the same way: an outbox can hold
undelivered writes across an upgrade, and losing one would leave a backend never told.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from gateway.domain import Channel, Location, Money, NodeType, SourceSystem
from gateway.domain.documents import (
    OmsReturnLine,
    PostalAddress,
    StockReceiptLine,
    Tracking,
    WebRefundDraft,
    WebRefundLine,
)
from gateway.domain.orders import Order, OrderLine, OrderOrigin, OrderStatus
from gateway.domain.outbox import (
    FulfillOmsOrder,
    RecordRestock,
    RecordSale,
    SubmitSalesOrder,
    UnreadableMessage,
    read_message,
)
from gateway.domain.reservations import HoldPlan
from gateway.services.orders.writes import cancel_oms_order, create_oms_order, fulfill_oms_order
from gateway.services.returns.writes import (
    close_oms_return,
    open_oms_return,
    refund_web_order,
    restock_at_source,
)
from gateway.services.source_writes import commit_messages, count_at_source, undo_messages

NOW = datetime(2026, 11, 23, 9, 0, 12, 345678, tzinfo=UTC)
WAREHOUSE = Location(
    "WH-CENTRAL", "Central", NodeType.WAREHOUSE, SourceSystem.ERP, "Central - NTR",
    oms_ref="gid://shopify/Location/1",
)  # fmt: skip
STORE = Location("ST-MITTE", "Mitte", NodeType.STORE, SourceSystem.POS, "LMITTE")
PLANS = [HoldPlan("SHOE", 1, "SHOE", 1), HoldPlan("SOCK", 2, "SOCK", 2)]


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def one_of_each():
    order = Order(
        id="ord_1",
        origin=OrderOrigin.GATEWAY,
        channel=Channel.ONLINE,
        status=OrderStatus.ALLOCATED,
        customer_email="kim@example.com",
        customer_name="Kim Lee",
        total=eur("129.00"),
        lines=(OrderLine("SHOE", 1, eur("129.00"), WAREHOUSE.id),),
        created_at=NOW,
        updated_at=NOW,
        delivery=PostalAddress("Kim Lee", "Main St 1", "Berlin", "10115", "DE"),
    )
    refund = WebRefundDraft(
        reference="ret_1",
        amount=eur("12.50"),
        lines=(WebRefundLine(7, 1, eur("10.50"), eur("2.00")),),
        reason="Return ret_1",
    )
    line = StockReceiptLine("SHOE", 1, "Central - NTR")
    return [
        *commit_messages(
            ordering_key="ord_1",
            reference="ord_1",
            location=WAREHOUSE,
            plans=PLANS,
            customer="Web Customer",
            prices={"SHOE": eur("129.00")},
            now=NOW,
        ),
        *commit_messages(
            ordering_key="res_1",
            reference="res_1",
            location=STORE,
            plans=PLANS,
            customer="Web Customer",
            now=NOW,
        ),
        *undo_messages(
            ordering_key="ord_1", reference="ord_1", location=WAREHOUSE, plans=PLANS, now=NOW
        ),
        *undo_messages(
            ordering_key="res_1", reference="res_1", location=STORE, plans=PLANS, now=NOW
        ),
        create_oms_order(order, {WAREHOUSE.id: WAREHOUSE}),
        cancel_oms_order("ord_1"),
        fulfill_oms_order("ord_1", Tracking("DHL", "00340434", None), "ship"),
        fulfill_oms_order("ord_1", None, "pickup"),
        open_oms_return("ord_1", "ret_1", "ord_1:oms", [OmsReturnLine("SHOE", 1, "SIZE_OR_FIT")]),
        close_oms_return("ord_1", "ret_1"),
        refund_web_order("web_7", "ret_1", 7, refund),
        restock_at_source("ord_1", "ret_1:restock:1", WAREHOUSE, line, 1, NOW),
        restock_at_source("ord_1", "ret_1:restock:2", STORE, line, 2, NOW),
        count_at_source("cnt_1", WAREHOUSE, "SHOE", 7, -2, NOW),
        count_at_source("cnt_1", STORE, "SHOE", 0, -1, NOW),
    ]


@pytest.mark.parametrize("message", one_of_each(), ids=lambda m: f"{m.kind}:{m.reference}")
def test_every_message_reads_back_from_its_row_as_the_same_message(message):
    row = (message.target, message.kind, message.ordering_key, message.reference, message.payload())
    assert read_message(*row) == message


def test_there_is_a_message_of_every_kind_in_the_round_trip():
    kinds = {m.kind for m in one_of_each()}
    assert kinds == {
        "erp.submit_sales_order", "erp.cancel_sales_order", "erp.receive_stock",
        "erp.reconcile_stock", "pos.record_sale", "pos.record_restock", "pos.record_count",
        "oms.create_order", "oms.cancel_order", "oms.fulfill", "oms.open_return",
        "oms.close_return", "web.refund",
    }  # fmt: skip


# Rows exactly as the untyped outbox wrote them (payloads copied from its builders' output).
OLD_SALE = {
    "sku": "SHOE",
    "location_ref": "LMITTE",
    "location_id": "ST-MITTE",
    "quantity": 1,
    "occurred_at": "2026-11-23T09:00:12.345678+00:00",
    "hold_reference": "res_1",
}
OLD_RESTOCK_AFTER_CANCEL = {
    "sku": "SHOE",
    "location_ref": "LMITTE",
    "location_id": "ST-MITTE",
    "quantity": 1,
    "occurred_at": "2026-11-23T09:00:12.345678+00:00",
}
OLD_SALES_ORDER = {
    "draft": {
        "reference": "ord_1",
        "customer": "Web Customer",
        "transaction_date": "2026-11-23",
        "delivery_date": "2026-11-26",
        "lines": [
            {
                "sku": "SHOE",
                "quantity": 1,
                "warehouse": "Central - NTR",
                "rate": {"amount": "129.00", "currency": "EUR"},
            }
        ],
        "reserve_stock": True,
    },
    "location_id": "WH-CENTRAL",
    "hold_reference": "ord_1",
}
OLD_PICKUP = {"order_id": "ord_1", "create_reference": "ord_1:oms", "tracking": None}


def test_a_row_the_untyped_outbox_wrote_reads_as_its_typed_message_and_stores_the_same():
    sale = read_message(SourceSystem.POS, "pos.record_sale", "res_1", "res_1:sale:SHOE", OLD_SALE)
    assert isinstance(sale, RecordSale) and sale.occurred_at == NOW
    restock = read_message(
        SourceSystem.POS, "pos.record_restock", "ord_1", "ord_1:restock:SHOE",
        OLD_RESTOCK_AFTER_CANCEL,
    )  # fmt: skip
    assert isinstance(restock, RecordRestock) and restock.return_line_id is None
    submit = read_message(
        SourceSystem.ERP, "erp.submit_sales_order", "ord_1", "ord_1", OLD_SALES_ORDER
    )
    assert isinstance(submit, SubmitSalesOrder)
    assert submit.draft.delivery_date == date(2026, 11, 26)
    assert submit.draft.lines[0].rate == eur("129.00")
    pickup = read_message(
        SourceSystem.OMS, "oms.fulfill", "ord_1", "ord_1:oms-fulfill:pickup", OLD_PICKUP
    )
    assert isinstance(pickup, FulfillOmsOrder) and pickup.tracking is None
    # And written again, each stores exactly what was there (what deliveryFailures shows).
    assert sale.payload() == OLD_SALE
    assert restock.payload() == OLD_RESTOCK_AFTER_CANCEL
    assert submit.payload() == OLD_SALES_ORDER
    assert pickup.payload() == OLD_PICKUP


def test_a_row_that_reads_as_no_message_is_kept_as_it_is_with_the_reason():
    unknown = read_message(SourceSystem.OMS, "oms.teleport", "ord_1", "ord_1:x", {"to": "moon"})
    assert isinstance(unknown, UnreadableMessage)
    assert unknown.payload() == {"to": "moon"} and "oms.teleport" in unknown.error
    broken = read_message(
        SourceSystem.POS, "pos.record_sale", "res_1", "res_1:sale:X", {"sku": "X"}
    )
    assert isinstance(broken, UnreadableMessage) and "quantity" in broken.error


def test_a_message_stored_under_another_backend_is_unreadable():
    wrong = read_message(SourceSystem.ERP, "oms.fulfill", "ord_1", "ord_1:f", OLD_PICKUP)
    assert isinstance(wrong, UnreadableMessage)
