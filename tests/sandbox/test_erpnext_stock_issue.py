"""The ERPNext simulator's Material Issue, and Stock Entries posted in the past: an issue at a
past moment takes its units out then and the movements after it stay; ERPNext's refusals
(stock below zero then or later, below what Stock Reservation Entries hold, a moment in the
future) come back as it sends them; a cancelled issue puts the units back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.erpnext_support import raw_client, simulator
from tests.sandbox.test_erpnext_stock_reconciliation import (
    CENTRAL,
    SOCKS,
    Clock,
    actual,
    day_of_socks,
    deliver,
    ledger,
    receive,
    server_messages,
)

ENTRY = "/api/resource/Stock%20Entry"
ITEM_LINK = f'<a href="/app/item/{SOCKS}" style="font-weight: bold;">Item {SOCKS}</a>'
WAREHOUSE_LINK = (
    f'<a href="/app/warehouse/{CENTRAL}" style="font-weight: bold;">Warehouse {CENTRAL}</a>'
)


def entry_body(
    moment: datetime | None, qty: Any, entry_type: str = "Material Issue"
) -> dict[str, Any]:
    """A submitted entry of socks at the central warehouse; posted now when ``moment`` is
    None."""
    side = "s_warehouse" if entry_type == "Material Issue" else "t_warehouse"
    body: dict[str, Any] = {
        "stock_entry_type": entry_type,
        "items": [{"item_code": SOCKS, "qty": qty, side: CENTRAL}],
        "docstatus": 1,
    }
    if moment is not None:
        body |= {
            "set_posting_time": 1,
            "posting_date": moment.date().isoformat(),
            "posting_time": moment.time().isoformat(),
        }
    return body


def issues(app: Starlette) -> list[dict[str, Any]]:
    return [
        doc
        for doc in app.state.store.table("Stock Entry").rows()
        if doc["stock_entry_type"] == "Material Issue"
    ]


async def cancel(client: httpx.AsyncClient, name: str) -> httpx.Response:
    return await client.post(
        "/api/method/frappe.client.cancel", json={"doctype": "Stock Entry", "name": name}
    )


# --- posted in the past ------------------------------------------------------------------------


async def test_given_an_issue_three_hours_ago_then_the_later_movements_stay_on_top() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)  # 10:00 +20, 14:00 +5, 14:30 -3; now 15:00
    async with raw_client(app) as client:
        response = await client.post(ENTRY, json=entry_body(clock.local(-3), 8))  # 12:00
        after = await actual(client)
        entries = await ledger(client)

    assert response.status_code == 200, response.text
    doc = response.json()["data"]
    assert (doc["docstatus"], doc["set_posting_time"], doc["posting_time"]) == (1, 1, "12:00:00")
    assert doc["posting_date"] == "2026-11-20"
    assert doc["total_outgoing_value"] > 0 and doc["value_difference"] < 0
    (row,) = doc["items"]
    assert (row["s_warehouse"], row.get("t_warehouse"), row["qty"]) == (CENTRAL, None, 8.0)
    # Then 8 fewer from noon on: 22 less 8.
    assert after == 14.0
    assert [
        (e["voucher_type"], e["posting_time"], e["actual_qty"], e["qty_after_transaction"])
        for e in entries
    ] == [
        ("Stock Entry", "10:00:00", 20.0, 20.0),
        ("Stock Entry", "12:00:00", -8.0, 12.0),
        ("Stock Entry", "14:00:00", 5.0, 17.0),
        ("Delivery Note", "14:30:00", -3.0, 14.0),
    ]
    assert entries[1]["voucher_no"] == doc["name"]


async def test_given_a_receipt_posted_in_the_past_then_it_counts_from_its_moment() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        body = entry_body(clock.local(-4.5), 4, "Material Receipt")  # 10:30
        response = await client.post(ENTRY, json=body)
        after = await actual(client)
        entries = await ledger(client)
    assert response.status_code == 200, response.text
    assert after == 26.0
    assert [(e["posting_time"], e["qty_after_transaction"]) for e in entries] == [
        ("10:00:00", 20.0),
        ("10:30:00", 24.0),
        ("14:00:00", 29.0),
        ("14:30:00", 26.0),
    ]


async def test_given_an_issue_before_a_count_then_the_count_absorbs_it() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)
    count = {
        "purpose": "Stock Reconciliation",
        "set_posting_time": 1,
        "posting_date": "2026-11-20",
        "posting_time": "14:15:00",
        "items": [{"item_code": SOCKS, "warehouse": CENTRAL, "qty": 7}],
        "docstatus": 1,
    }
    async with raw_client(app) as client:
        counted = await client.post("/api/resource/Stock%20Reconciliation", json=count)
        assert counted.status_code == 200, counted.text
        response = await client.post(ENTRY, json=entry_body(clock.local(-3), 8))  # 12:00
        after = await actual(client)
    assert response.status_code == 200, response.text
    assert after == 4.0  # the 7 counted at 14:15 stand, less the 3 shipped at 14:30


async def test_given_no_posting_time_flag_then_the_issue_is_posted_now() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)
    body = {**entry_body(clock.local(-3), 2), "set_posting_time": 0}
    async with raw_client(app) as client:
        response = await client.post(ENTRY, json=body)
        entries = await ledger(client)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["posting_time"] == "15:00:00"
    assert (entries[-1]["actual_qty"], entries[-1]["qty_after_transaction"]) == (-2.0, 20.0)


async def test_given_a_header_source_warehouse_then_the_rows_take_it() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)
    body = {
        "stock_entry_type": "Material Issue",
        "from_warehouse": CENTRAL,
        "items": [{"item_code": SOCKS, "qty": 2}],
        "docstatus": 1,
    }
    async with raw_client(app) as client:
        response = await client.post(ENTRY, json=body)
        missing = await client.post(ENTRY, json={**body, "from_warehouse": None})
        after = await actual(client)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["items"][0]["s_warehouse"] == CENTRAL
    assert missing.status_code == 417
    assert server_messages(missing.json()) == ["Source warehouse is mandatory for row 1"]
    assert after == 20.0


# --- refused as ERPNext refuses --------------------------------------------------------------------


async def test_given_more_than_the_warehouse_held_then_negative_stock_is_refused() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        # At noon the ledger held 20 (not today's 22).
        response = await client.post(ENTRY, json=entry_body(clock.local(-3), 21))
        after = await actual(client)
    assert response.status_code == 417
    assert response.json()["exc_type"] == "NegativeStockError"
    assert server_messages(response.json()) == [
        f"<strong>1.0</strong> units of {ITEM_LINK} needed in {WAREHOUSE_LINK} to complete "
        "this transaction."
    ]
    assert after == 22.0
    assert issues(app) == []


async def test_given_a_later_balance_below_zero_then_negative_stock_names_the_later_entry() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        # 25 on the shelf at 14:15; 23 out leaves 2, which cannot cover the 3 shipped at 14:30.
        response = await client.post(ENTRY, json=entry_body(clock.local(-0.75), 23))
        after = await actual(client)
    assert response.status_code == 417
    assert response.json()["exc_type"] == "NegativeStockError"
    (message,) = server_messages(response.json())
    assert message.startswith(f"1.0 units of {ITEM_LINK} needed in {WAREHOUSE_LINK} on ")
    assert "on 2026-11-20 14:30:00 for <a href=" in message
    assert after == 22.0
    assert issues(app) == []


async def test_given_stock_held_for_a_sales_order_then_an_issue_into_it_is_refused() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    async with raw_client(app) as client:
        await receive(client, 20)
        await deliver(client, 15, reserve=1)  # a Stock Reservation Entry holds 15
        clock.at += timedelta(hours=1)
        response = await client.post(ENTRY, json=entry_body(clock.local(-0.5), 8))
        within = await client.post(ENTRY, json=entry_body(clock.local(-0.5), 5))
        after = await actual(client)
    assert response.status_code == 417
    assert response.json()["exc_type"] == "NegativeStockError"
    assert server_messages(response.json()) == [
        f"<strong>3.0</strong> units of {ITEM_LINK} needed in {WAREHOUSE_LINK} to complete "
        "this transaction. As <strong>15.0</strong> units are reserved for other sales "
        "orders, you are allowed to consume only <strong>5.0</strong> units."
    ]
    # What is not held may go.
    assert within.status_code == 200, within.text
    assert after == 15.0
    assert len(issues(app)) == 1


async def test_given_a_fully_held_stock_then_erpnext_says_none_may_be_consumed() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    async with raw_client(app) as client:
        await receive(client, 20)
        await deliver(client, 20, reserve=1)
        clock.at += timedelta(hours=1)
        response = await client.post(ENTRY, json=entry_body(clock.local(-0.5), 2))
    assert server_messages(response.json()) == [
        f"<strong>2.0</strong> units of {ITEM_LINK} needed in {WAREHOUSE_LINK} to complete "
        "this transaction. As the full stock is reserved for other sales orders, you're not "
        "allowed to consume the stock."
    ]


async def test_given_stock_shipped_since_then_today_s_balance_must_cover_the_hold() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    async with raw_client(app) as client:
        await receive(client, 20)  # 10:00
        clock.at += timedelta(hours=1)
        await deliver(client, 10)  # 11:00, shipped
        clock.at += timedelta(hours=1)
        await deliver(client, 5, reserve=1)  # 12:00, held
        clock.at += timedelta(hours=1)
        # At 10:30 the 7 were there (20 less the 5 held), and 3 were left after 11:00; but
        # today 10 are on the shelf and 5 held: 7 out leaves 3, 2 short of the hold.
        response = await client.post(ENTRY, json=entry_body(clock.local(-2.5), 7))
        after = await actual(client)
    assert response.status_code == 417
    assert response.json()["exc_type"] == "ValidationError"
    assert server_messages(response.json()) == [
        f"2.0 units of {ITEM_LINK} needed in {WAREHOUSE_LINK} on 2026-11-20 13:00:00.000000 "
        "to complete this transaction."
    ]
    assert after == 10.0


async def test_given_a_moment_in_the_future_then_417_and_nothing_is_written() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        response = await client.post(ENTRY, json=entry_body(clock.local(1), 2))
        after = await actual(client)
    assert response.status_code == 417
    assert response.json()["exc_type"] == "ValidationError"
    assert server_messages(response.json()) == [
        "Posting future stock transactions are not allowed due to Immutable Ledger"
    ]
    assert after == 22.0
    assert issues(app) == []


async def test_given_another_entry_type_then_417() -> None:
    app = simulator()
    async with raw_client(app) as client:
        response = await client.post(ENTRY, json=entry_body(None, 1, "Material Transfer"))
    assert response.status_code == 417
    assert server_messages(response.json()) == [
        "The sandbox simulates only Material Receipt and Material Issue, not Material Transfer"
    ]


# --- cancelled ---------------------------------------------------------------------------------------


async def test_given_a_cancelled_issue_then_its_units_are_back_and_the_ledger_as_before() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        before = await ledger(client)
        doc = (await client.post(ENTRY, json=entry_body(clock.local(-3), 8))).json()["data"]
        assert await actual(client) == 14.0
        cancelled = await cancel(client, doc["name"])
        after = await actual(client)
        entries = await ledger(client)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["message"]["docstatus"] == 2
    assert after == 22.0
    assert [e for e in entries if not e["is_cancelled"]] == before
    mine = [e for e in entries if e["voucher_no"] == doc["name"]]
    assert [(e["posting_time"], e["actual_qty"], e["is_cancelled"]) for e in mine] == [
        ("12:00:00", -8.0, 1),
        ("12:00:00", 8.0, 1),
    ]


async def test_given_a_receipt_whose_units_were_shipped_then_its_cancel_is_refused() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    async with raw_client(app) as client:
        name = await receive(client, 5)
        clock.at += timedelta(hours=1)
        await deliver(client, 3)
        refused = await cancel(client, name)
        after = await actual(client)
    assert refused.status_code == 417
    assert refused.json()["exc_type"] == "NegativeStockError"
    (message,) = server_messages(refused.json())
    assert message.startswith(f"3.0 units of {ITEM_LINK} needed in {WAREHOUSE_LINK} on ")
    assert after == 2.0
