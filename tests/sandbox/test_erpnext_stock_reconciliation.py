"""The ERPNext simulator's Stock Reconciliation: a count posted in the past sets the ledger's
figure at that moment, the movements posted after it stay on top (ERPNext reposts them), and
ERPNext's refusals (a moment in the future, no change, negative quantities, reserved stock,
a later balance below zero) come back as it sends them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.applications import Starlette

from tests.erpnext_support import KEY, SECRET, dataset, raw_client, simulator
from tests.live_server import serve

CENTRAL = "Central Warehouse - NTR"
SOCKS = "SOCK-MER-CREW-M"  # the sample data has no Bin of it at the central warehouse
CUSTOMER = "WooCommerce Web Customer"
BERLIN = ZoneInfo("Europe/Berlin")
RECO = "/api/resource/Stock%20Reconciliation"


class Clock:
    """The site's clock, moved by the test."""

    def __init__(self) -> None:
        self.at = dataset().base_time  # 09:00 UTC, 10:00 at the site

    def __call__(self) -> datetime:
        return self.at

    def local(self, hours: float) -> datetime:
        """The site's wall time ``hours`` after the start (naive, as Frappe keeps it)."""
        return (self.at + timedelta(hours=hours)).astimezone(BERLIN).replace(tzinfo=None)


def server_messages(body: dict[str, Any]) -> list[str]:
    return [json.loads(m)["message"] for m in json.loads(body["_server_messages"])]


def count_body(moment: datetime, qty: Any, sku: str = SOCKS, warehouse: str = CENTRAL) -> Any:
    return {
        "purpose": "Stock Reconciliation",
        "set_posting_time": 1,
        "posting_date": moment.date().isoformat(),
        "posting_time": moment.time().isoformat(),
        "items": [{"item_code": sku, "warehouse": warehouse, "qty": qty}],
        "docstatus": 1,
    }


async def actual(client: httpx.AsyncClient, sku: str = SOCKS, warehouse: str = CENTRAL) -> float:
    filters = [["item_code", "=", sku], ["warehouse", "=", warehouse]]
    response = await client.get(
        "/api/resource/Bin",
        params={"fields": json.dumps(["actual_qty"]), "filters": json.dumps(filters)},
    )
    rows = response.json()["data"]
    return float(rows[0]["actual_qty"]) if rows else 0.0


async def ledger(
    client: httpx.AsyncClient, sku: str = SOCKS, warehouse: str = CENTRAL
) -> list[dict[str, Any]]:
    """The item's entries in the warehouse posted through the API, oldest first."""
    fields = [
        "voucher_type", "voucher_no", "posting_date", "posting_time", "actual_qty",
        "qty_after_transaction", "is_cancelled",
    ]  # fmt: skip
    filters = [
        ["item_code", "=", sku],
        ["warehouse", "=", warehouse],
        ["voucher_no", "not like", "%HIST%"],
    ]
    response = await client.get(
        "/api/resource/Stock%20Ledger%20Entry",
        params={
            "fields": json.dumps(fields),
            "filters": json.dumps(filters),
            "order_by": "posting_date asc, posting_time asc, creation asc",
            "limit_page_length": 0,
        },
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


async def receive(client: httpx.AsyncClient, qty: int) -> str:
    body = {
        "stock_entry_type": "Material Receipt",
        "items": [{"item_code": SOCKS, "qty": qty, "t_warehouse": CENTRAL}],
        "docstatus": 1,
    }
    response = await client.post("/api/resource/Stock%20Entry", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["name"])


async def deliver(client: httpx.AsyncClient, qty: int, *, reserve: int = 0) -> str:
    """A Sales Order for socks, shipped at once when ``reserve`` is 0; its name."""
    body = {
        "customer": CUSTOMER,
        "transaction_date": "2026-11-20",
        "delivery_date": "2026-11-24",
        "reserve_stock": reserve,
        "items": [
            {
                "item_code": SOCKS,
                "qty": qty,
                "warehouse": CENTRAL,
                "delivery_date": "2026-11-24",
                "reserve_stock": reserve,
            }
        ],
        "docstatus": 1,
    }
    response = await client.post("/api/resource/Sales%20Order", json=body)
    assert response.status_code == 200, response.text
    order = str(response.json()["data"]["name"])
    if not reserve:
        shipped = await client.post(f"/_sandbox/sales_orders/{order}/deliver")
        assert shipped.status_code == 200, shipped.text
    return order


async def day_of_socks(app: Starlette, clock: Clock) -> None:
    """10:00 +20 received; 14:00 +5 received; 14:30 3 delivered; the clock left at 15:00."""
    async with raw_client(app) as client:
        await receive(client, 20)
        clock.at += timedelta(hours=4)
        await receive(client, 5)
        clock.at += timedelta(minutes=30)
        await deliver(client, 3)
        clock.at += timedelta(minutes=30)


def site(clock: Clock) -> Starlette:
    return simulator(clock=clock)


# --- a count posted in the past --------------------------------------------------------------


async def test_given_a_count_three_hours_ago_then_the_later_movements_stay_on_top() -> None:
    clock = Clock()
    app = site(clock)
    await day_of_socks(app, clock)
    three_hours_ago = clock.local(-3)  # 12:00 at the site, after the first receipt
    async with raw_client(app) as client:
        assert await actual(client) == 22.0
        response = await client.post(RECO, json=count_body(three_hours_ago, 10))
        after = await actual(client)
        entries = await ledger(client)

    assert response.status_code == 200, response.text
    doc = response.json()["data"]
    assert (doc["docstatus"], doc["posting_date"], doc["posting_time"]) == (
        1,
        "2026-11-20",
        "12:00:00",
    )
    (row,) = doc["items"]
    assert (row["qty"], row["current_qty"]) == (10.0, 20.0)
    # Then the counted 10, plus the 5 received and less the 3 delivered after the count.
    assert after == 12.0
    assert [
        (e["voucher_type"], e["posting_time"], e["actual_qty"], e["qty_after_transaction"])
        for e in entries
    ] == [
        ("Stock Entry", "10:00:00", 20.0, 20.0),
        ("Stock Reconciliation", "12:00:00", -10.0, 10.0),
        ("Stock Entry", "14:00:00", 5.0, 15.0),
        ("Delivery Note", "14:30:00", -3.0, 12.0),
    ]
    assert entries[1]["voucher_no"] == doc["name"]
    assert doc["name"].startswith("MAT-RECO-2026-")


async def test_given_a_cancelled_count_then_the_ledger_and_the_bin_are_as_before() -> None:
    clock = Clock()
    app = site(clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        before = await ledger(client)
        doc = (await client.post(RECO, json=count_body(clock.local(-3), 10))).json()["data"]
        cancelled = await client.post(
            "/api/method/frappe.client.cancel",
            json={"doctype": "Stock Reconciliation", "name": doc["name"]},
        )
        after = await actual(client)
        entries = await ledger(client)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["message"]["docstatus"] == 2
    assert after == 22.0
    live = [e for e in entries if not e["is_cancelled"]]
    assert live == before
    # The count's entry and its reversal, both marked cancelled, as ERPNext leaves them.
    mine = [e for e in entries if e["voucher_no"] == doc["name"]]
    assert [(e["actual_qty"], e["is_cancelled"]) for e in mine] == [(-10.0, 1), (10.0, 1)]


async def test_given_a_later_count_then_an_earlier_one_moves_only_what_lies_between() -> None:
    clock = Clock()
    app = site(clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        later = await client.post(RECO, json=count_body(clock.local(-0.75), 7))  # 14:15
        assert later.status_code == 200, later.text
        assert await actual(client) == 4.0  # 7, then the 3 delivered at 14:30
        earlier = await client.post(RECO, json=count_body(clock.local(-3), 10))  # 12:00
        after = await actual(client)
        entries = await ledger(client)

    assert earlier.status_code == 200, earlier.text
    # The count at 14:15 stands: the Bin does not move, only the receipt between the two.
    assert after == 4.0
    assert [(e["posting_time"], e["actual_qty"], e["qty_after_transaction"]) for e in entries] == [
        ("10:00:00", 20.0, 20.0),
        ("12:00:00", -10.0, 10.0),
        ("14:00:00", 5.0, 15.0),
        ("14:15:00", -8.0, 7.0),
        ("14:30:00", -3.0, 4.0),
    ]


async def test_given_a_count_before_the_sample_history_then_its_deliveries_follow_it() -> None:
    data = dataset()
    app = simulator()
    bins = app.state.store.table("Bin").rows()
    sku, warehouse = next(
        (b["item_code"], b["warehouse"])
        for b in bins
        if b["actual_qty"] > 0 and not b["reserved_stock"] and not b["reserved_qty"]
        and sum(data.warehouse_daily_deliveries(b["item_code"], b["warehouse"])[-3:])
    )  # fmt: skip
    # Three days back at noon, site time: the last three days of the history came after.
    moment = (
        (data.base_time - timedelta(days=3))
        .astimezone(BERLIN)
        .replace(hour=12, minute=0, second=0, microsecond=0, tzinfo=None)
    )
    delivered_since = sum(data.warehouse_daily_deliveries(sku, warehouse)[-3:])
    async with raw_client(app) as client:
        response = await client.post(RECO, json=count_body(moment, 50, sku, warehouse))
        after = await actual(client, sku, warehouse)

    assert response.status_code == 200, response.text
    (row,) = response.json()["data"]["items"]
    held_at_base = (data.bin(sku, warehouse) or {})["actual_qty"]
    assert row["current_qty"] == held_at_base + delivered_since
    assert after == 50 - delivered_since


async def test_given_no_posting_time_flag_then_the_count_is_posted_now() -> None:
    clock = Clock()
    app = site(clock)
    await day_of_socks(app, clock)
    body = {**count_body(clock.local(-3), 10), "set_posting_time": 0}
    async with raw_client(app) as client:
        response = await client.post(RECO, json=body)
        entries = await ledger(client)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["posting_time"] == "15:00:00"
    assert entries[-1]["qty_after_transaction"] == 10.0
    assert entries[-1]["actual_qty"] == -12.0


# --- refused as ERPNext refuses ------------------------------------------------------------


async def test_given_a_moment_in_the_future_then_417_and_nothing_is_written() -> None:
    clock = Clock()
    app = site(clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        response = await client.post(RECO, json=count_body(clock.local(1), 10))
        after = await actual(client)
    assert response.status_code == 417
    assert response.json()["exc_type"] == "ValidationError"
    assert server_messages(response.json()) == [
        "Posting future stock transactions are not allowed due to Immutable Ledger"
    ]
    assert after == 22.0
    assert list(app.state.store.table("Stock Reconciliation").rows()) == []


async def test_given_the_figure_the_ledger_held_then_no_change_is_refused() -> None:
    clock = Clock()
    app = site(clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        # At 12:00 the ledger held the 20 received at 10:00 (not today's 22).
        response = await client.post(RECO, json=count_body(clock.local(-3), 20))
        changed = await client.post(RECO, json=count_body(clock.local(-3), 22))
    assert response.status_code == 417
    assert response.json()["exc_type"] == "EmptyStockReconciliationItemsError"
    assert server_messages(response.json()) == [
        "None of the items have any change in quantity or value."
    ]
    assert changed.status_code == 200, changed.text


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        (-1, "Row # 1: Negative Quantity is not allowed"),
        ("", "None of the items have any change in quantity or value."),
    ],
)
async def test_given_a_bad_quantity_then_417(qty: Any, message: str) -> None:
    clock = Clock()
    app = site(clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        response = await client.post(RECO, json=count_body(clock.local(-3), qty))
        after = await actual(client)
    assert response.status_code == 417
    assert server_messages(response.json()) == [message]
    assert after == 22.0


async def test_given_a_later_balance_below_zero_then_negative_stock_is_refused() -> None:
    clock = Clock()
    app = site(clock)
    await day_of_socks(app, clock)
    async with raw_client(app) as client:
        # 1 at 14:15 cannot cover the 3 delivered at 14:30.
        response = await client.post(RECO, json=count_body(clock.local(-0.75), 1))
        after = await actual(client)
    assert response.status_code == 417
    assert response.json()["exc_type"] == "NegativeStockError"
    (message,) = server_messages(response.json())
    assert message.startswith("2.0 units of <a href=")
    assert "needed in" in message and "on 2026-11-20 14:30:00 for" in message
    assert after == 22.0
    assert list(app.state.store.table("Stock Reconciliation").rows()) == []


async def test_given_stock_held_for_a_sales_order_then_the_count_is_refused() -> None:
    clock = Clock()
    app = site(clock)
    async with raw_client(app) as client:
        await receive(client, 20)
        await deliver(client, 2, reserve=1)  # held by a Stock Reservation Entry, not shipped
        clock.at += timedelta(hours=1)
        response = await client.post(RECO, json=count_body(clock.local(-0.5), 10))
    assert response.status_code == 417
    assert server_messages(response.json()) == [
        f"<strong>2.0</strong> units are reserved for Item <strong>{SOCKS}</strong> in "
        f"Warehouse <strong>{CENTRAL}</strong>, please un-reserve the same to submit the "
        "Stock Reconciliation."
    ]


async def test_given_an_unknown_item_or_warehouse_then_erpnext_s_words() -> None:
    clock = Clock()
    app = site(clock)
    async with raw_client(app) as client:
        item = await client.post(RECO, json=count_body(clock.local(-1), 1, sku="NOPE"))
        place = await client.post(RECO, json=count_body(clock.local(-1), 1, warehouse="Attic"))
    assert server_messages(item.json()) == ["Items NOPE do not exist in the Item master."]
    assert server_messages(place.json()) == ["Could not find Row #1: Warehouse: Attic"]


# --- the frappe-client library on a real socket ---------------------------------------------


def test_given_the_frappe_client_library_then_it_counts_lists_the_ledger_and_cancels() -> None:
    frappeclient = pytest.importorskip("frappeclient")
    data = dataset()
    app = simulator()  # the site's clock runs on from the base time
    bin_row = next(
        b
        for b in app.state.store.table("Bin").rows()
        if b["actual_qty"] > 3 and not b["reserved_stock"] and not b["reserved_qty"]
    )
    sku, warehouse = bin_row["item_code"], bin_row["warehouse"]
    moment = (data.base_time - timedelta(hours=3)).astimezone(BERLIN).replace(tzinfo=None)
    body = {**count_body(moment, 3, sku, warehouse), "docstatus": 0}
    with serve(app) as url:
        client = frappeclient.FrappeClient(url, api_key=KEY, api_secret=SECRET)
        draft = client.insert({"doctype": "Stock Reconciliation", **body})
        submitted = client.update(
            {"doctype": "Stock Reconciliation", "name": draft["name"], "docstatus": 1}
        )
        entries = client.get_list(
            "Stock Ledger Entry",
            fields=["voucher_no", "posting_time", "actual_qty", "qty_after_transaction"],
            filters={"voucher_type": "Stock Reconciliation", "item_code": sku},
        )
        bins = client.get_list(
            "Bin", fields=["actual_qty"], filters={"item_code": sku, "warehouse": warehouse}
        )
        cancelled = client.post_api(
            "frappe.client.cancel", {"doctype": "Stock Reconciliation", "name": draft["name"]}
        )
        restored = client.get_list(
            "Bin", fields=["actual_qty"], filters={"item_code": sku, "warehouse": warehouse}
        )

    assert (draft["docstatus"], submitted["docstatus"], cancelled["docstatus"]) == (0, 1, 2)
    assert entries == [
        {
            "voucher_no": draft["name"],
            "posting_time": moment.time().isoformat(),
            "actual_qty": 3.0 - bin_row["actual_qty"],
            "qty_after_transaction": 3.0,
        }
    ]
    assert bins == [{"actual_qty": 3.0}]
    assert restored == [{"actual_qty": bin_row["actual_qty"]}]
