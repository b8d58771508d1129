"""ERPNext webhooks: the Frappe Webhook doctype over REST, and the requests the site sends for
Bin, Stock Ledger Entry and Sales Order events, rendered, signed and retried as Frappe's
webhook.py does (contracts/erp/webhook.delivery.json)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.domain import SourceSystem
from gateway.events.signatures import Signature, verify
from sandbox.demo_webhooks import ERP_TEMPLATES
from tests import erpnext_support
from tests.sandbox.webhook_support import Receiver

SECRET = "erp-hook-secret-42"
HOOK_URL = "https://gateway.northtrail.example/hooks/erpnext"
SIGNATURE = "x-frappe-webhook-signature"
JSON_HEADERS = [{"key": "Content-Type", "value": "application/json"}]


@pytest.fixture
def site() -> Starlette:
    return erpnext_support.simulator()


@pytest.fixture
def receiver(site: Starlette) -> Receiver:
    receiver = Receiver()
    receiver.attach(site.state.webhooks)
    return receiver


def webhook(doctype: str, event: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"gw {doctype} {event}",
        "webhook_doctype": doctype,
        "webhook_docevent": event,
        "request_url": HOOK_URL,
        "request_structure": "JSON",
        "webhook_json": ERP_TEMPLATES.get(doctype, '{"name": {{ doc.name | tojson }}}'),
        "webhook_headers": JSON_HEADERS,
        "enable_security": 1,
        "webhook_secret": SECRET,
    }
    return {**body, **fields}


async def register(http: httpx.AsyncClient, *hooks: dict[str, Any]) -> None:
    for hook in hooks:
        response = await http.post("/api/resource/Webhook", json=hook)
        assert response.status_code == 200, response.text


async def sales_order(http: httpx.AsyncClient, *, lines: int = 2) -> str:
    """The contract's order (its first ``lines`` rows), submitted."""
    body = erpnext_support.contract("sales_order.create")["request"]["body"]
    body = {**body, "items": body["items"][:lines], "docstatus": 1}
    response = await http.post("/api/resource/Sales Order", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["name"])


def payloads(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received]


async def test_given_a_webhook_inserted_then_it_reads_back_with_its_secret_hidden(site: Starlette):
    async with erpnext_support.raw_client(site) as http:
        await register(http, webhook("Bin", "on_update"))
        one = (await http.get("/api/resource/Webhook/gw Bin on_update")).json()["data"]
        listed = (await http.get("/api/resource/Webhook")).json()["data"]
        deleted = await http.delete("/api/resource/Webhook/gw Bin on_update")
        gone = await http.get("/api/resource/Webhook/gw Bin on_update")
    assert (one["doctype"], one["webhook_doctype"], one["webhook_docevent"]) == (
        "Webhook",
        "Bin",
        "on_update",
    )
    assert one["webhook_secret"] == "*" * len(SECRET)
    assert one["webhook_headers"][0]["key"] == "Content-Type"
    assert one["webhook_headers"][0]["doctype"] == "Webhook Header"
    assert listed == [{"name": "gw Bin on_update"}]
    assert deleted.status_code == 202
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "exc_type"),
    [
        ({"name": ""}, 417, "ValidationError"),
        ({"webhook_doctype": "Stock Moves"}, 417, "LinkValidationError"),
        ({"webhook_docevent": "on_submit"}, 417, "ValidationError"),  # Bin is not submittable
        ({"request_structure": "Form"}, 417, "ValidationError"),
        ({"request_url": "not a url"}, 417, "ValidationError"),
        ({"webhook_secret": None}, 417, "ValidationError"),
    ],
)
async def test_given_a_bad_webhook_then_frappe_refuses_it(
    site: Starlette, change: dict[str, Any], status: int, exc_type: str
):
    async with erpnext_support.raw_client(site) as http:
        refused = await http.post(
            "/api/resource/Webhook", json=webhook("Bin", "on_update", **change)
        )
    assert (refused.status_code, refused.json()["exc_type"]) == (status, exc_type)


async def test_given_no_credentials_then_webhooks_are_not_shown(site: Starlette):
    async with erpnext_support.raw_client(site, authorization=None) as http:
        assert (await http.get("/api/resource/Webhook")).status_code == 403


async def test_given_a_submitted_sales_order_then_its_bins_are_sent_signed_as_templated(
    site: Starlette, receiver: Receiver
):
    async with erpnext_support.raw_client(site) as http:
        await register(http, webhook("Bin", "on_update"))
        await sales_order(http)
        bins = (
            await http.get(
                "/api/resource/Bin",
                params={
                    "fields": '["name", "modified", "reserved_qty", "item_code"]',
                    "filters": '[["warehouse", "=", "Central Warehouse - NTR"]]',
                    "limit_page_length": 0,
                },
            )
        ).json()["data"]
    await site.state.webhooks.settle()
    assert len(receiver.received) == 2  # one per Bin the order reserved in
    for delivery in receiver.received:
        assert (
            verify(SourceSystem.ERP, delivery.headers, delivery.body, [SECRET]) is Signature.VALID
        )
        assert delivery.header("content-type") == "application/json"
        assert b'", "' in delivery.body  # Python's json.dumps, as Frappe sends it
    sent = {p["item_code"]: p for p in payloads(receiver)}
    assert set(sent) == {"SHOE-TRAIL-42", "SOCK-MER-CREW-M"}
    current = {b["item_code"]: b for b in bins}
    for item, payload in sent.items():
        assert payload["doctype"] == "Bin"
        assert (payload["name"], payload["modified"]) == (
            current[item]["name"],
            current[item]["modified"],
        )
        assert payload["reserved_qty"] == current[item]["reserved_qty"]


async def test_given_a_delivery_then_stock_ledger_entries_are_sent_and_readable(
    site: Starlette, receiver: Receiver
):
    async with erpnext_support.raw_client(site) as http:
        name = await sales_order(http, lines=1)  # the warehouse has no socks to ship
        await register(http, webhook("Stock Ledger Entry", "after_insert"))
        shipped = await http.post(f"/_sandbox/sales_orders/{name}/deliver")
        # The ledger also holds the sample retailer's history: this delivery's entries are
        # those naming its Delivery Note.
        note = (
            await http.get(
                "/api/resource/Delivery Note", params={"filters": '[["docstatus","=",1]]'}
            )
        ).json()["data"][0]["name"]
        ledger = (
            await http.get(
                "/api/resource/Stock Ledger Entry",
                params={"fields": '["*"]', "filters": f'[["voucher_no","=","{note}"]]'},
            )
        ).json()["data"]
    await site.state.webhooks.settle()
    assert shipped.status_code == 200
    sent = payloads(receiver)
    assert [(p["item_code"], p["actual_qty"], p["voucher_type"]) for p in sent] == [
        ("SHOE-TRAIL-42", -1.0, "Delivery Note")
    ]
    assert {p["name"] for p in sent} == {row["name"] for row in ledger}
    assert all(p["warehouse"] == "Central Warehouse - NTR" for p in sent)
    assert all(row["docstatus"] == 1 and row["voucher_no"].startswith("MAT-DN-") for row in ledger)


async def test_given_form_data_and_a_condition_then_only_matching_events_are_sent_unsigned(
    site: Starlette, receiver: Receiver
):
    rows = [
        {"fieldname": "name", "key": "name"},
        {"fieldname": "po_no", "key": "po_no"},
        {"fieldname": "status", "key": "status"},
    ]
    cancelled_only = webhook(
        "Sales Order",
        "on_change",
        request_structure="Form URL-Encoded",
        webhook_data=rows,
        webhook_headers=[],
        enable_security=0,
        condition='doc.status == "Cancelled"',
    )
    async with erpnext_support.raw_client(site) as http:
        await register(http, cancelled_only, webhook("Sales Order", "on_submit"))
        name = await sales_order(http)
        cancel = await http.post(
            "/api/method/frappe.client.cancel", json={"doctype": "Sales Order", "name": name}
        )
    await site.state.webhooks.settle()
    assert cancel.status_code == 200
    submitted, cancelled = receiver.received
    assert json.loads(submitted.body)["name"] == name
    assert submitted.header(SIGNATURE) is not None
    assert (
        cancelled.body
        == json.dumps({"name": name, "po_no": "WC-10482", "status": "Cancelled"}).encode()
    )
    assert cancelled.header(SIGNATURE) is None and cancelled.header("content-type") is None


async def test_given_a_failing_receiver_then_frappe_tries_three_times_in_all(
    site: Starlette, receiver: Receiver
):
    receiver.answer(500, 500, 500)
    async with erpnext_support.raw_client(site) as http:
        await register(http, webhook("Sales Order", "on_submit"))
        await sales_order(http)
    await site.state.webhooks.settle()
    assert [s.status for s in site.state.webhooks.sent] == [500, 500, 500]
    assert len({r.body for r in receiver.received}) == 1


async def test_given_a_stock_entry_then_bin_and_ledger_hooks_both_hear_it(
    site: Starlette, receiver: Receiver
):
    entry = {
        "stock_entry_type": "Material Receipt",
        "to_warehouse": "Central Warehouse - NTR",
        "items": [{"item_code": "SHOE-TRAIL-42", "qty": 5}],
        "docstatus": 1,
    }
    async with erpnext_support.raw_client(site) as http:
        await register(
            http, webhook("Bin", "on_update"), webhook("Stock Ledger Entry", "after_insert")
        )
        created = await http.post("/api/resource/Stock Entry", json=entry)
    await site.state.webhooks.settle()
    assert created.status_code == 200, created.text
    kinds = sorted(p["doctype"] for p in payloads(receiver))
    assert kinds == ["Bin", "Stock Ledger Entry"]
    ledger = next(p for p in payloads(receiver) if p["doctype"] == "Stock Ledger Entry")
    assert (ledger["actual_qty"], ledger["voucher_type"]) == (5.0, "Stock Entry")
