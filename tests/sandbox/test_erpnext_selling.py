"""The ERPNext simulator's writes: Sales Orders reserve stock in Bins (and Stock Reservation
Entries), cancels release it, Material Receipts add stock, and the sandbox's delivery ships it,
as shared/contracts/erp says ERPNext does."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.erpnext_support import contract, raw_client, simulator

CENTRAL = "Central Warehouse - NTR"
SOCKS, SHOES = "SOCK-MER-CREW-M", "SHOE-TRAIL-42"
SO = "/api/resource/Sales%20Order"
# Fields the site stamps per run, or that depend on the Bin at the time: not compared.
VOLATILE = {"name", "creation", "modified", "parent", "actual_qty", "projected_qty"}


def order_request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = contract("sales_order.create")["request"]["body"]
    return {**body, **changes}


def server_messages(body: dict[str, Any]) -> list[str]:
    return [json.loads(m)["message"] for m in json.loads(body["_server_messages"])]


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without the stamps of one run, rows included; 'doctype' order ignored."""
    out = {k: v for k, v in doc.items() if k not in VOLATILE and k != "items"}
    if "items" in doc:
        out["items"] = [comparable(row) for row in doc["items"]]
    return out


async def bin_of(client: httpx.AsyncClient, sku: str, warehouse: str = CENTRAL) -> dict[str, Any]:
    fields = ["name", "actual_qty", "reserved_qty", "reserved_stock", "projected_qty", "modified"]
    filters = [["item_code", "=", sku], ["warehouse", "=", warehouse]]
    response = await client.get(
        "/api/resource/Bin", params={"fields": json.dumps(fields), "filters": json.dumps(filters)}
    )
    rows = response.json()["data"]
    return rows[0] if rows else {"actual_qty": 0.0, "reserved_qty": 0.0, "reserved_stock": 0.0}


async def receive(client: httpx.AsyncClient, sku: str, qty: int, remarks: str = "") -> str:
    body = {
        "stock_entry_type": "Material Receipt",
        "remarks": remarks or f"receipt of {sku}",
        "items": [{"item_code": sku, "qty": qty, "t_warehouse": CENTRAL}],
        "docstatus": 1,
    }
    response = await client.post("/api/resource/Stock%20Entry", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["name"])


async def post_order(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post(SO, json=order_request(**changes))
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()["data"]
    return doc


async def reservations(client: httpx.AsyncClient, order: str) -> list[dict[str, Any]]:
    query = contract("stock_reservation_entries.list")["request"]["query"]
    filters = [["voucher_type", "=", "Sales Order"], ["voucher_no", "=", order]]
    response = await client.get(
        "/api/resource/Stock%20Reservation%20Entry",
        params={"fields": query["fields"], "filters": json.dumps(filters), "order_by": "name asc"},
    )
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


async def stocked_site() -> Starlette:
    """A site whose central warehouse holds socks (the sample data has no Bin there)."""
    app = simulator()
    async with raw_client(app) as client:
        await receive(client, SOCKS, 120)
    return app


# --- insert + submit ---------------------------------------------------------------------------


async def test_given_the_contract_request_then_the_contract_document_comes_back() -> None:
    app = await stocked_site()
    async with raw_client(app) as client:
        doc = await post_order(client)
    expected = contract("sales_order.create")["response"]["body"]["data"]
    assert re.fullmatch(r"SAL-ORD-2026-\d{5}", doc["name"])
    assert comparable(doc) == comparable(expected)
    assert [row["parent"] for row in doc["items"]] == [doc["name"]] * 2
    assert app.state.calls["POST /api/resource/Sales Order"] == 1


async def test_given_a_submitted_order_then_bins_hold_it_softly_and_hard() -> None:
    async with raw_client(await stocked_site()) as client:
        shoes_before, socks_before = await bin_of(client, SHOES), await bin_of(client, SOCKS)
        doc = await post_order(client)
        shoes, socks = await bin_of(client, SHOES), await bin_of(client, SOCKS)
        entries = await reservations(client, doc["name"])

    for before, after in ((shoes_before, shoes), (socks_before, socks)):
        assert after["reserved_qty"] == before["reserved_qty"] + 1
        assert after["reserved_stock"] == before["reserved_stock"] + 1
        assert after["projected_qty"] == before["projected_qty"] - 1  # SREs are not subtracted
        assert after["actual_qty"] == before["actual_qty"]
        assert after["modified"] > before["modified"]
    expected = contract("stock_reservation_entries.list")["response"]["body"]["data"]
    assert [set(e) for e in entries] == [set(e) for e in expected]
    assert [(e["item_code"], e["reserved_qty"], e["status"]) for e in entries] == [
        (SHOES, 1.0, "Reserved"),
        (SOCKS, 1.0, "Reserved"),
    ]
    detail = {row["name"] for row in doc["items"]}
    assert {e["voucher_detail_no"] for e in entries} == detail
    assert all(re.fullmatch(r"MAT-SRE-2026-\d{5}", e["name"]) for e in entries)


async def test_given_no_stock_to_hold_then_only_the_soft_reservation() -> None:
    async with raw_client(simulator()) as client:  # no socks in the central warehouse
        doc = await post_order(client)
        socks = await bin_of(client, SOCKS)
        entries = await reservations(client, doc["name"])
    assert (socks["actual_qty"], socks["reserved_qty"], socks["reserved_stock"]) == (0, 1, 0)
    assert [e["item_code"] for e in entries] == [SHOES]
    assert [row["stock_reserved_qty"] for row in doc["items"]] == [1.0, 0.0]


async def test_given_reserve_stock_off_then_no_entries_but_reserved_qty_rises() -> None:
    items = [{**row, "reserve_stock": 0} for row in order_request()["items"]]
    async with raw_client(simulator()) as client:
        before = await bin_of(client, SHOES)
        doc = await post_order(client, reserve_stock=0, items=items)
        after = await bin_of(client, SHOES)
        entries = await reservations(client, doc["name"])
    assert entries == []
    assert after["reserved_qty"] == before["reserved_qty"] + 1
    assert after["reserved_stock"] == before["reserved_stock"]


# --- draft, submit, read -------------------------------------------------------------------------


async def test_given_a_draft_then_put_docstatus_one_submits_it_as_the_contract() -> None:
    app = await stocked_site()
    async with raw_client(app) as client:
        before = await bin_of(client, SHOES)
        draft = await post_order(client, docstatus=0)
        held_by_draft = await bin_of(client, SHOES)
        submit = contract("sales_order.submit")["request"]
        response = await client.put(f"{SO}/{draft['name']}", json=submit["body"])
        after = await bin_of(client, SHOES)
    assert (draft["docstatus"], draft["status"]) == (0, "Draft")
    assert held_by_draft["reserved_qty"] == before["reserved_qty"]  # a draft holds nothing
    assert response.status_code == 200
    expected = contract("sales_order.submit")["response"]["body"]["data"]
    assert comparable(response.json()["data"]) == comparable(expected)
    assert after["reserved_qty"] == before["reserved_qty"] + 1
    assert app.state.calls["PUT /api/resource/Sales Order/{name}"] == 1


async def test_given_a_po_no_then_the_list_finds_the_order_and_get_returns_it() -> None:
    async with raw_client(await stocked_site()) as client:
        doc = await post_order(client)
        found = await client.get(
            SO,
            params={
                "filters": json.dumps([["po_no", "=", "WC-10482"]]),
                "fields": json.dumps(["name", "status", "docstatus"]),
            },
        )
        read = await client.get(f"{SO}/{doc['name']}")
        missing = await client.get(f"{SO}/SAL-ORD-2026-00999")
    assert found.json()["data"] == [
        {"name": doc["name"], "status": "To Deliver and Bill", "docstatus": 1}
    ]
    expected = contract("sales_order.get")["response"]["body"]["data"]
    assert comparable(read.json()["data"]) == comparable(expected)
    not_found = next(e for e in contract("errors")["examples"] if e["status"] == 404)
    assert (missing.status_code, missing.json()) == (404, not_found["body"])


# --- validation -----------------------------------------------------------------------------------


def _rows(**changes: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = order_request()["items"]
    return [{**rows[0], **changes}, rows[1]]


@pytest.mark.parametrize(
    ("changes", "exc_type", "message"),
    [
        ({"customer": "Nobody"}, "LinkValidationError", "Could not find Customer: Nobody"),
        (
            {"items": _rows(item_code="NOPE-1")},
            "LinkValidationError",
            "Could not find Row #1: Item Code: NOPE-1",
        ),
        (
            {"items": _rows(warehouse="Attic - NTR")},
            "LinkValidationError",
            "Could not find Row #1: Delivery Warehouse: Attic - NTR",
        ),
        (
            {"items": _rows(qty=0)},
            "InvalidQtyError",
            f"Row #1: Quantity for Item <strong>{SHOES}</strong> cannot be zero.",
        ),
        (
            {"items": _rows(qty=-2)},
            "NonNegativeError",
            "<strong>Sales Order Item</strong> Row #1: Value cannot be negative for "
            "<strong>Quantity</strong>",
        ),
        ({"customer": None}, "MandatoryError", "Error: Value missing for Sales Order: Customer"),
        (
            {"items": _rows(warehouse="All Warehouses - NTR")},
            "ValidationError",
            "Group node warehouse is not allowed to select for transactions",
        ),
    ],
)
async def test_given_an_invalid_order_then_417_and_nothing_is_held(
    changes: dict[str, Any], exc_type: str, message: str
) -> None:
    async with raw_client(simulator()) as client:
        before = await bin_of(client, SHOES)
        response = await client.post(SO, json=order_request(**changes))
        after = await bin_of(client, SHOES)
        listed = await client.get(SO)
    assert response.status_code == 417
    assert response.json()["exc_type"] == exc_type
    assert server_messages(response.json()) == [message]
    assert after["reserved_qty"] == before["reserved_qty"]
    assert listed.json()["data"] == []


async def test_given_delivery_before_the_order_date_then_the_contracts_417_body() -> None:
    items = [{**row, "delivery_date": "2026-11-19"} for row in order_request()["items"]]
    async with raw_client(simulator()) as client:
        response = await client.post(SO, json=order_request(items=items))
    example = next(e for e in contract("errors")["examples"] if e["status"] == 417)
    assert (response.status_code, response.json()) == (417, example["body"])


async def test_given_an_open_order_for_the_po_no_then_a_second_is_refused() -> None:
    async with raw_client(simulator()) as client:
        first = await post_order(client)
        second = await client.post(SO, json=order_request())
        listed = await client.get(SO, params={"filters": json.dumps({"po_no": "WC-10482"})})
    assert second.status_code == 417
    assert f"Sales Order {first['name']} already exists" in server_messages(second.json())[0]
    assert len(listed.json()["data"]) == 1


# --- cancel -----------------------------------------------------------------------------------------


async def test_given_a_cancel_then_both_holds_are_released_as_the_contract() -> None:
    app = await stocked_site()
    async with raw_client(app) as client:
        before = await bin_of(client, SHOES)
        doc = await post_order(client)
        request = contract("sales_order.cancel")["request"]
        response = await client.post(request["path"], json={**request["body"], "name": doc["name"]})
        after = await bin_of(client, SHOES)
        entries = await reservations(client, doc["name"])
    assert response.status_code == 200
    expected = contract("sales_order.cancel")["response"]["body"]["message"]
    assert comparable(response.json()["message"]) == comparable(expected)
    for field in ("actual_qty", "reserved_qty", "reserved_stock", "projected_qty"):
        assert after[field] == before[field]
    assert {(e["status"], e["docstatus"]) for e in entries} == {("Cancelled", 2)}
    assert app.state.calls["POST /api/method/frappe.client.cancel"] == 1


async def test_given_a_draft_or_a_cancelled_order_then_cancel_is_refused_as_frappe() -> None:
    async with raw_client(simulator()) as client:
        draft = await post_order(client, docstatus=0)
        cancel = "/api/method/frappe.client.cancel"
        of_draft = await client.post(cancel, json={"doctype": "Sales Order", "name": draft["name"]})
        await client.put(f"{SO}/{draft['name']}", json={"docstatus": 1})
        await client.post(cancel, json={"doctype": "Sales Order", "name": draft["name"]})
        again = await client.post(cancel, json={"doctype": "Sales Order", "name": draft["name"]})
        unknown = await client.post(cancel, json={"doctype": "Sales Order", "name": "SAL-X"})
    assert (of_draft.status_code, of_draft.json()["exc_type"]) == (417, "DocstatusTransitionError")
    assert server_messages(of_draft.json()) == [
        "Cannot change docstatus from 0 (Draft) to 2 (Cancelled)"
    ]
    assert (again.status_code, server_messages(again.json())) == (
        417,
        ["Cannot edit cancelled document"],
    )
    assert unknown.status_code == 404


async def test_given_a_submitted_order_then_other_edits_are_refused() -> None:
    async with raw_client(simulator()) as client:
        doc = await post_order(client)
        edit = await client.put(f"{SO}/{doc['name']}", json={"customer": "Someone Else"})
        back = await client.put(f"{SO}/{doc['name']}", json={"docstatus": 0})
    assert (edit.status_code, edit.json()["exc_type"]) == (417, "UpdateAfterSubmitError")
    assert (back.status_code, back.json()["exc_type"]) == (417, "DocstatusTransitionError")


# --- sandbox delivery ---------------------------------------------------------------------------------


async def test_given_a_delivery_then_actual_and_reserved_fall_together() -> None:
    app = await stocked_site()
    async with raw_client(app) as client:
        doc = await post_order(client)
        held = await bin_of(client, SHOES)
        shipped = await client.post(f"/_sandbox/sales_orders/{doc['name']}/deliver")
        after = await bin_of(client, SHOES)
        entries = await reservations(client, doc["name"])
        cancel = await client.post(
            "/api/method/frappe.client.cancel", json={"doctype": "Sales Order", "name": doc["name"]}
        )
    assert shipped.status_code == 200
    order = shipped.json()["data"]
    assert (order["status"], order["per_delivered"], order["delivery_status"]) == (
        "To Bill",
        100.0,
        "Fully Delivered",
    )
    assert after["actual_qty"] == held["actual_qty"] - 1
    assert after["reserved_qty"] == held["reserved_qty"] - 1
    assert after["reserved_stock"] == held["reserved_stock"] - 1
    # What is free to sell did not move: the hold turned into the shipment.
    assert after["actual_qty"] - after["reserved_qty"] == held["actual_qty"] - held["reserved_qty"]
    assert after["projected_qty"] == held["projected_qty"]
    assert {(e["status"], e["delivered_qty"]) for e in entries} == {("Delivered", 1.0)}
    assert cancel.status_code == 417  # a delivered order cannot be cancelled
    assert app.state.calls["POST /_sandbox/sales_orders/{name}/deliver"] == 1


async def test_given_a_draft_then_the_sandbox_refuses_to_deliver_it() -> None:
    async with raw_client(simulator(), authorization=None) as client:
        missing = await client.post("/_sandbox/sales_orders/SAL-ORD-2026-00999/deliver")
    assert missing.status_code == 404  # no credentials needed, but the order must exist


# --- Stock Entry --------------------------------------------------------------------------------------


async def test_given_a_material_receipt_then_actual_qty_rises_and_remarks_find_it() -> None:
    app = simulator()
    async with raw_client(app) as client:
        before = await bin_of(client, SHOES)
        name = await receive(client, SHOES, 5, remarks="commerce-gateway receipt R-1")
        after = await bin_of(client, SHOES)
        found = await client.get(
            "/api/resource/Stock%20Entry",
            params={
                "filters": json.dumps([["remarks", "=", "commerce-gateway receipt R-1"]]),
                "fields": json.dumps(["name", "docstatus", "stock_entry_type"]),
            },
        )
        doc = (await client.get(f"/api/resource/Stock%20Entry/{name}")).json()["data"]
    assert after["actual_qty"] == before["actual_qty"] + 5
    assert after["projected_qty"] == before["projected_qty"] + 5
    assert found.json()["data"] == [
        {"name": name, "docstatus": 1, "stock_entry_type": "Material Receipt"}
    ]
    assert re.fullmatch(r"MAT-STE-2026-\d{5}", name)
    assert [(r["item_code"], r["qty"], r["t_warehouse"]) for r in doc["items"]] == [
        (SHOES, 5.0, CENTRAL)
    ]
    assert app.state.calls["POST /api/resource/Stock Entry"] == 1


async def test_given_a_receipt_without_a_target_warehouse_then_417() -> None:
    body = {"stock_entry_type": "Material Receipt", "items": [{"item_code": SHOES, "qty": 1}]}
    async with raw_client(simulator()) as client:
        response = await client.post("/api/resource/Stock%20Entry", json=body)
    assert response.status_code == 417
    assert server_messages(response.json()) == ["Target warehouse is mandatory for row 1"]


# --- what the simulator does not write ---------------------------------------------------------------


async def test_given_a_write_to_another_doctype_then_403_and_an_unknown_one_404() -> None:
    async with raw_client(simulator()) as client:
        item = await client.post("/api/resource/Item", json={"item_code": "X"})
        sre = await client.post("/api/resource/Stock%20Reservation%20Entry", json={})
        unknown = await client.post("/api/resource/Nothing", json={})
    assert (item.status_code, item.json()["exc_type"]) == (403, "PermissionError")
    assert server_messages(sre.json()) == ["No permission for Stock Reservation Entry"]
    assert unknown.status_code == 404


async def test_given_a_form_with_a_data_field_then_it_is_the_document() -> None:
    async with raw_client(simulator()) as client:
        response = await client.post(SO, data={"data": json.dumps(order_request(docstatus=0))})
    assert response.status_code == 200
    assert response.json()["data"]["po_no"] == "WC-10482"
