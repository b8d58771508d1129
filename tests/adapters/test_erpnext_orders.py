"""ErpNextAdapter as ErpOrdersPort: Sales Orders that hold stock, cancels, receipts, against the
contract payloads (httpx.MockTransport) and the simulator."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.erpnext import ErpNextAdapter
from gateway.domain import Money, StockReading
from gateway.domain.documents import SalesOrder, SalesOrderDraft, SalesOrderLine, StockReceiptLine
from gateway.errors import BackendRejected
from gateway.ports import ErpOrdersPort
from tests.erpnext_support import (
    KEY,
    SECRET,
    adapter_on,
    contract,
    dataset,
    filters_of,
    simulator,
)
from tests.live_server import serve

CENTRAL = "Central Warehouse - NTR"
SHOES, SOCKS = "SHOE-TRAIL-42", "SOCK-MER-CREW-M"
CUSTOMER = "WooCommerce Web Customer"


def draft(reference: str = "WC-10482", **changes: Any) -> SalesOrderDraft:
    values: dict[str, Any] = {
        "reference": reference,
        "customer": CUSTOMER,
        "transaction_date": date(2026, 11, 20),
        "delivery_date": date(2026, 11, 24),
        "lines": (
            SalesOrderLine(SHOES, 1, CENTRAL, Money(Decimal("129.00"), "EUR")),
            SalesOrderLine(SOCKS, 1, CENTRAL, Money(Decimal("14.00"), "EUR")),
        ),
    }
    return SalesOrderDraft(**{**values, **changes})


def sim_adapter(app: Any, **options: Any) -> ErpNextAdapter:
    return adapter_on(httpx.ASGITransport(app=app), **options)


def held(readings: list[StockReading], sku: str = SHOES) -> StockReading:
    return next(r for r in readings if r.sku == sku and r.location_ref == CENTRAL)


class LoseFirstPostAnswer(httpx.AsyncBaseTransport):
    """The site does the first POST, but its answer is lost (a proxy's 503 comes back)."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "POST" and not self.lost:
            self.lost += 1
            await response.aread()
            return httpx.Response(503, text="<html><body>503 nginx</body></html>")
        return response


def test_the_adapter_is_an_erp_orders_port() -> None:
    port: ErpOrdersPort = sim_adapter(simulator())
    assert callable(port.submit_sales_order)


# --- contract payloads -------------------------------------------------------------------------------


async def test_given_a_draft_then_one_look_up_and_a_contract_shaped_insert() -> None:
    seen: list[httpx.Request] = []
    created = contract("sales_order.create")

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"data": []})
        return httpx.Response(200, json=created["response"]["body"])

    adapter = adapter_on(httpx.MockTransport(handler))
    order = await adapter.submit_sales_order(draft())

    assert order == SalesOrder("SAL-ORD-2026-00042", "WC-10482", 1, "To Deliver and Bill")
    look_up, insert = seen
    assert look_up.url.raw_path.startswith(b"/api/resource/Sales%20Order?")
    assert ["po_no", "=", "WC-10482"] in filters_of(look_up)
    assert ["docstatus", "<", 2] in filters_of(look_up)
    assert (insert.method, insert.url.raw_path) == ("POST", b"/api/resource/Sales%20Order")
    sent = json.loads(insert.content)
    expected = created["request"]["body"]
    assert set(sent) <= set(expected)
    assert {k: sent[k] for k in sent if k != "items"} == {
        k: expected[k] for k in sent if k != "items"
    }
    pairs = list(zip(sent["items"], expected["items"], strict=True))
    assert all(set(row) <= set(wanted) for row, wanted in pairs)
    assert sent["items"] == [{k: wanted[k] for k in row} for row, wanted in pairs]
    # Money leaves as the exact decimal it is, never through a float.
    assert b'"rate": 129.00' in insert.content and b'"rate": 14.00' in insert.content


async def test_given_the_contract_417_then_backend_rejected_with_frappes_message() -> None:
    example = next(e for e in contract("errors")["examples"] if e["status"] == 417)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": []})
        return httpx.Response(417, json=example["body"])

    with pytest.raises(BackendRejected) as caught:
        await adapter_on(httpx.MockTransport(handler)).submit_sales_order(draft())
    assert caught.value.status == 417
    assert caught.value.message == "Row #1: Delivery Date cannot be before Sales Order Date"


async def test_given_the_contract_cancel_answer_then_a_cancelled_order() -> None:
    cancelled = contract("sales_order.cancel")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=cancelled["response"]["body"])

    order = await adapter_on(httpx.MockTransport(handler)).cancel_sales_order("SAL-ORD-2026-00042")
    assert (order.docstatus, order.status) == (2, "Cancelled")
    assert seen[0].url.path == cancelled["request"]["path"]
    assert json.loads(seen[0].content) == cancelled["request"]["body"]


# --- the simulated site ------------------------------------------------------------------------------


async def test_given_a_submitted_order_then_stock_reads_show_the_hold() -> None:
    app = simulator()
    adapter = sim_adapter(app)
    before = held(await adapter.stock([SHOES]))

    order = await adapter.submit_sales_order(draft())
    after = held(await adapter.stock([SHOES]))
    entries = await adapter.stock_reservations(order.name)

    assert (order.docstatus, order.status, order.reference) == (
        1,
        "To Deliver and Bill",
        "WC-10482",
    )
    assert after.reserved == before.reserved + 1
    assert after.on_hand == before.on_hand
    assert [(e.sku, e.reserved_qty, e.status) for e in entries] == [(SHOES, 1, "Reserved")]


async def test_given_the_same_reference_twice_then_one_sales_order() -> None:
    app = simulator()
    adapter = sim_adapter(app)

    first = await adapter.submit_sales_order(draft())
    again = await adapter.submit_sales_order(draft())

    assert again == first
    assert app.state.calls["POST /api/resource/Sales Order"] == 1
    assert len(list(app.state.store.table("Sales Order").rows())) == 1


async def test_given_a_lost_insert_answer_then_the_retry_finds_it_instead_of_a_second() -> None:
    app = simulator()
    transport = LoseFirstPostAnswer(app)
    order = await adapter_on(transport).submit_sales_order(draft())

    assert transport.lost == 1
    assert order.docstatus == 1
    assert app.state.calls["POST /api/resource/Sales Order"] == 1
    assert [r["name"] for r in app.state.store.table("Sales Order").rows()] == [order.name]


async def test_given_a_draft_left_by_an_earlier_call_then_it_is_submitted() -> None:
    app = simulator()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://erp.test"
    ) as client:
        body = {**contract("sales_order.create")["request"]["body"], "docstatus": 0}
        response = await client.post(
            "/api/resource/Sales%20Order",
            json=body,
            headers={"Authorization": f"token {KEY}:{SECRET}"},
        )
    name = response.json()["data"]["name"]

    order = await sim_adapter(app).submit_sales_order(draft())

    assert (order.name, order.docstatus) == (name, 1)
    assert app.state.calls["POST /api/resource/Sales Order"] == 1


async def test_given_a_cancel_then_holds_are_released_and_a_repeat_is_fine() -> None:
    app = simulator()
    adapter = sim_adapter(app)
    before = held(await adapter.stock([SHOES]))
    order = await adapter.submit_sales_order(draft())

    cancelled = await adapter.cancel_sales_order(order.name)
    repeat = await adapter.cancel_sales_order(order.name)
    after = held(await adapter.stock([SHOES]))
    entries = await adapter.stock_reservations(order.name)

    assert (cancelled.docstatus, cancelled.status) == (2, "Cancelled")
    assert repeat == cancelled
    assert after.reserved == before.reserved
    assert {e.status for e in entries} == {"Cancelled"}
    # A new order with the same reference is a new order: the old one is cancelled.
    renewed = await adapter.submit_sales_order(draft())
    assert renewed.name != order.name and renewed.docstatus == 1


async def test_given_a_draft_order_then_cancel_is_rejected_with_frappes_words() -> None:
    app = simulator()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://erp.test"
    ) as client:
        body = {**contract("sales_order.create")["request"]["body"], "docstatus": 0}
        response = await client.post(
            "/api/resource/Sales%20Order",
            json=body,
            headers={"Authorization": f"token {KEY}:{SECRET}"},
        )
    with pytest.raises(BackendRejected) as caught:
        await sim_adapter(app).cancel_sales_order(response.json()["data"]["name"])
    assert caught.value.message == "Cannot change docstatus from 0 (Draft) to 2 (Cancelled)"
    assert caught.value.backend_code == "DocstatusTransitionError"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"customer": "Nobody"}, "Could not find Customer: Nobody"),
        (
            {"lines": (SalesOrderLine("NOPE-1", 1, CENTRAL),)},
            "Could not find Row #1: Item Code: NOPE-1",
        ),
        (
            {"lines": (SalesOrderLine(SHOES, 1, "Attic - NTR"),)},
            # One warehouse for every line is also sent as the header's set_warehouse.
            "Could not find Set Source Warehouse: Attic - NTR, "
            "Row #1: Delivery Warehouse: Attic - NTR",
        ),
        (
            {"lines": (SalesOrderLine(SHOES, 0, CENTRAL),)},
            f"Row #1: Quantity for Item {SHOES} cannot be zero.",
        ),
        (
            {"delivery_date": date(2026, 11, 19)},
            "Row #1: Delivery Date cannot be before Sales Order Date",
        ),
    ],
)
async def test_given_an_invalid_draft_then_backend_rejected_with_frappes_message(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(BackendRejected) as caught:
        await sim_adapter(simulator()).submit_sales_order(draft(**changes))
    assert caught.value.status == 417
    assert caught.value.message == message


async def test_given_an_unknown_name_then_no_sales_order() -> None:
    assert await sim_adapter(simulator()).sales_order("SAL-ORD-2026-00999") is None


async def test_given_a_delivery_after_a_hold_then_free_stock_is_not_counted_twice() -> None:
    app = simulator()
    adapter = sim_adapter(app)
    start = held(await adapter.stock([SHOES]))
    order = await adapter.submit_sales_order(draft(lines=(SalesOrderLine(SHOES, 3, CENTRAL),)))
    holding = held(await adapter.stock([SHOES]))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://erp.test"
    ) as client:
        shipped = await client.post(f"/_sandbox/sales_orders/{order.name}/deliver")
    assert shipped.status_code == 200
    after = held(await adapter.stock([SHOES]))
    read_back = await adapter.sales_order(order.name)

    assert holding.on_hand - holding.reserved == start.on_hand - start.reserved - 3
    assert after.on_hand == holding.on_hand - 3
    assert after.on_hand - after.reserved == holding.on_hand - holding.reserved
    assert read_back is not None
    assert (read_back.status, read_back.per_delivered) == ("To Bill", Decimal(100))
    assert {e.status for e in await adapter.stock_reservations(order.name)} == {"Delivered"}


async def test_given_a_receipt_then_on_hand_rises_once_per_reference() -> None:
    app = simulator()
    adapter = sim_adapter(app)
    before = held(await adapter.stock([SHOES]))
    lines = [StockReceiptLine(SHOES, 4, CENTRAL)]

    name = await adapter.receive_stock("RET-7", lines)
    again = await adapter.receive_stock("RET-7", lines)
    after = held(await adapter.stock([SHOES]))

    assert again == name
    assert after.on_hand == before.on_hand + 4
    assert app.state.calls["POST /api/resource/Stock Entry"] == 1


async def test_given_a_receipt_into_an_unknown_warehouse_then_rejected() -> None:
    with pytest.raises(BackendRejected) as caught:
        await sim_adapter(simulator()).receive_stock(
            "RET-8", [StockReceiptLine(SHOES, 1, "Attic - NTR")]
        )
    assert caught.value.message == "Could not find Row #1: Target Warehouse: Attic - NTR"


# --- a third-party Frappe client on a real socket --------------------------------------------------


def test_given_the_frappe_client_library_then_it_inserts_submits_and_reads_an_order() -> None:
    frappeclient = pytest.importorskip("frappeclient")
    body = {**contract("sales_order.create")["request"]["body"], "docstatus": 0}
    with serve(simulator()) as url:
        client = frappeclient.FrappeClient(url, api_key=KEY, api_secret=SECRET)
        inserted = client.insert({"doctype": "Sales Order", **body})
        submitted = client.update(
            {"doctype": "Sales Order", "name": inserted["name"], "docstatus": 1}
        )
        read = client.get_doc("Sales Order", inserted["name"])
        listed = client.get_list(
            "Sales Order", fields=["name", "status"], filters={"po_no": "WC-10482"}
        )
        cancelled = client.post_api(
            "frappe.client.cancel", {"doctype": "Sales Order", "name": inserted["name"]}
        )

    assert (inserted["docstatus"], inserted["status"]) == (0, "Draft")
    assert (submitted["docstatus"], submitted["status"]) == (1, "To Deliver and Bill")
    assert read["po_no"] == "WC-10482" and [r["item_code"] for r in read["items"]] == [SHOES, SOCKS]
    assert listed == [{"name": inserted["name"], "status": "To Deliver and Bill"}]
    assert (cancelled["docstatus"], cancelled["status"]) == (2, "Cancelled")


# --- Delivery Note ------------------------------------------------------------------------------------


async def test_given_a_shipment_then_one_delivery_note_moves_the_bin_once() -> None:
    app = simulator()
    adapter = sim_adapter(app)
    order = await adapter.submit_sales_order(draft(lines=(SalesOrderLine(SHOES, 3, CENTRAL),)))
    holding = held(await adapter.stock([SHOES]))

    # Given the answer to the Delivery Note's insert is lost, and the write is repeated,
    transport = LoseFirstPostAnswer(app)
    first = await adapter_on(transport).deliver_sales_order(order.name, "ord_1:deliver")
    again = await adapter.deliver_sales_order(order.name, "ord_1:deliver")

    # then ERPNext holds one Delivery Note against the order, and the stock left once.
    notes = list(app.state.store.table("Delivery Note").rows())
    assert transport.lost == 1
    assert [(n["po_no"], n["docstatus"], n["status"]) for n in notes] == [
        ("ord_1:deliver", 1, "To Bill")
    ]
    (row,) = app.state.store.table("Delivery Note Item").children(notes[0]["name"])
    assert (row["against_sales_order"], row["qty"]) == (order.name, 3.0)
    assert (first.status, first.per_delivered) == ("To Bill", Decimal(100))
    assert again == first
    after = held(await adapter.stock([SHOES]))
    assert after.on_hand == holding.on_hand - 3
    assert after.on_hand - after.reserved == holding.on_hand - holding.reserved
    assert {e.status for e in await adapter.stock_reservations(order.name)} == {"Delivered"}


async def test_given_a_delivered_order_then_erpnext_refuses_its_cancel() -> None:
    adapter = sim_adapter(simulator())
    order = await adapter.submit_sales_order(draft(lines=(SalesOrderLine(SHOES, 1, CENTRAL),)))
    await adapter.deliver_sales_order(order.name, "ord_2:deliver")
    with pytest.raises(BackendRejected) as refused:
        await adapter.cancel_sales_order(order.name)
    assert "Delivery Notes" in str(refused.value)


async def test_given_too_little_on_the_shelf_then_the_delivery_is_refused_and_leaves_nothing():
    app = simulator()
    adapter = sim_adapter(app)
    # The Sales Order was taken although the warehouse holds no socks (reserved nothing).
    order = await adapter.submit_sales_order(draft())
    with pytest.raises(BackendRejected) as refused:
        await adapter.deliver_sales_order(order.name, "ord_3:deliver")
    assert "needed in Warehouse" in str(refused.value)
    assert list(app.state.store.table("Delivery Note").rows()) == []
    read_back = await adapter.sales_order(order.name)
    assert read_back is not None and read_back.per_delivered == 0


# --- an Item's barcode table --------------------------------------------------------------------


async def test_a_barcode_added_to_an_item_keeps_its_rows_and_is_found_by_it() -> None:
    app = simulator()
    adapter = sim_adapter(app)
    before = (await adapter.items_by_sku([SOCKS]))[SOCKS].barcodes

    await adapter.add_item_barcode(SOCKS, "CG-SOCK-SHELF-1")
    await adapter.add_item_barcode(SOCKS, "CG-SOCK-SHELF-1")  # a redelivery: no second row

    assert (await adapter.items_by_sku([SOCKS]))[SOCKS].barcodes == (*before, "CG-SOCK-SHELF-1")
    assert await adapter.sku_for_barcode("CG-SOCK-SHELF-1") == SOCKS


async def test_a_barcode_another_item_has_is_refused_as_erpnext_refuses_it() -> None:
    app = simulator()
    adapter = sim_adapter(app)
    shoes_gtin = (await adapter.items_by_sku([SHOES]))[SHOES].barcodes[0]
    with pytest.raises(BackendRejected) as refused:
        await adapter.add_item_barcode(SOCKS, shoes_gtin)
    assert refused.value.status == 409
    assert f"Barcode {shoes_gtin} already used in Item {SHOES}" in refused.value.message


def test_given_the_frappe_client_library_then_it_saves_an_item_s_barcode_table() -> None:
    frappeclient = pytest.importorskip("frappeclient")
    with serve(simulator()) as url:
        client = frappeclient.FrappeClient(url, api_key=KEY, api_secret=SECRET)
        item = client.get_doc("Item", SOCKS)
        rows = [{"name": r["name"], "barcode": r["barcode"]} for r in item["barcodes"]]
        saved = client.update(
            {"doctype": "Item", "name": SOCKS, "barcodes": [*rows, {"barcode": "SHELF-9"}]}
        )
        # Left out of the next save: the row goes.
        kept = client.update({"doctype": "Item", "name": SOCKS, "barcodes": rows})

    assert [r["barcode"] for r in saved["barcodes"]] == [r["barcode"] for r in rows] + ["SHELF-9"]
    assert [r["barcode"] for r in kept["barcodes"]] == [r["barcode"] for r in rows]


# --- the Stock Ledger's deliveries ---------------------------------------------------------------


async def test_a_warehouse_s_deliveries_are_its_history_then_the_notes_submitted_since() -> None:
    app = simulator()
    adapter = sim_adapter(app)
    data = dataset()
    since = data.base_time - timedelta(days=7)
    history = data.warehouse_daily_deliveries(SHOES, CENTRAL)

    before = await adapter.deliveries([SHOES, "NO-SUCH-SKU"], [CENTRAL], since)
    order = await adapter.submit_sales_order(draft(lines=(SalesOrderLine(SHOES, 3, CENTRAL),)))
    await adapter.deliver_sales_order(order.name, "ord_3:deliver")
    after = await adapter.deliveries([SHOES], [CENTRAL], since)

    # The last seven days of the history (days 21-27 of 28), at that warehouse only.
    assert sum(d.quantity for d in before) == sum(history[-7:])
    assert {(d.sku, d.location_ref) for d in before} <= {(SHOES, CENTRAL)}
    assert all(d.occurred_at > since for d in before)
    # The Delivery Note's 3 units joined them, dated by the site's clock.
    assert sum(d.quantity for d in after) == sum(history[-7:]) + 3
    assert await adapter.deliveries([SHOES], [], since) == []
