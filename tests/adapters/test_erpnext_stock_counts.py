"""ErpNextAdapter and counts: a Stock Reconciliation posted at the count's moment (written once
however often it is asked for), a backdated Material Issue or Receipt instead where Stock
Reservation Entries hold the item, and the Stock Ledger's movements since a moment, against the
simulator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.erpnext import ErpNextAdapter
from gateway.domain.cycle_counts import StockMovement
from gateway.domain.documents import SalesOrderDraft, SalesOrderLine
from gateway.errors import BackendRejected, BadUserInput
from tests.erpnext_support import adapter_on, dataset, filters_of, raw_client, simulator

CENTRAL = "Central Warehouse - NTR"
SOCKS = "SOCK-MER-CREW-M"  # the sample data has no Bin of it at the central warehouse
START = dataset().base_time  # 09:00 UTC: 10:00 at the Berlin site


class Clock:
    """The site's clock, moved by the test."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


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


def on(app: Starlette) -> ErpNextAdapter:
    return adapter_on(httpx.ASGITransport(app=app))


async def a_day_of_socks(app: Starlette, clock: Clock) -> None:
    """10:00 +20 received; 14:30 3 shipped to a web order; the clock left at 15:00."""
    async with raw_client(app) as client:
        receipt = {
            "stock_entry_type": "Material Receipt",
            "items": [{"item_code": SOCKS, "qty": 20, "t_warehouse": CENTRAL}],
            "docstatus": 1,
        }
        assert (await client.post("/api/resource/Stock%20Entry", json=receipt)).status_code == 200
        clock.at += timedelta(hours=4, minutes=30)
        order = {
            "customer": "WooCommerce Web Customer",
            "delivery_date": "2026-11-24",
            "items": [{"item_code": SOCKS, "qty": 3, "warehouse": CENTRAL}],
            "docstatus": 1,
        }
        placed = await client.post("/api/resource/Sales%20Order", json=order)
        name = placed.json()["data"]["name"]
        assert (await client.post(f"/_sandbox/sales_orders/{name}/deliver")).status_code == 200
        clock.at += timedelta(minutes=30)


async def on_hand(adapter: ErpNextAdapter) -> int:
    readings = await adapter.stock([SOCKS])
    return next(r.on_hand for r in readings if r.location_ref == CENTRAL)


# --- reconcile_stock ---------------------------------------------------------------------------


async def test_a_count_three_hours_ago_keeps_the_delivery_after_it_and_is_written_once() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    counted_at = clock.at - timedelta(hours=3)  # 12:00 at the site: 20 on the books then

    first = await adapter.reconcile_stock("count-1:SOCK", SOCKS, CENTRAL, 10, counted_at)
    again = await adapter.reconcile_stock("count-1:SOCK", SOCKS, CENTRAL, 10, counted_at)

    # Then one submitted reconciliation, posted at the count's moment in the site's time,
    docs = list(app.state.store.table("Stock Reconciliation").rows())
    assert first == again == docs[0]["name"]
    assert [(d["docstatus"], d["posting_date"], d["posting_time"]) for d in docs] == [
        (1, "2026-11-20", "12:00:00")
    ]
    # and the 10 counted, less the 3 shipped after the count.
    assert await on_hand(adapter) == 7
    assert app.state.calls["POST /api/resource/Stock Reconciliation"] == 1


async def test_a_count_whose_answer_was_lost_is_found_not_written_twice() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    counted_at = clock.at - timedelta(hours=3, microseconds=-250_000)
    transport = LoseFirstPostAnswer(app)

    name = await adapter_on(transport).reconcile_stock("c-2", SOCKS, CENTRAL, 12, counted_at)

    docs = list(app.state.store.table("Stock Reconciliation").rows())
    assert transport.lost == 1
    assert [(d["name"], d["posting_time"]) for d in docs] == [(name, "12:00:00.250000")]
    assert await on_hand(on(app)) == 9


async def test_a_count_the_ledger_already_held_writes_nothing_and_answers_no_name() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    name = await adapter.reconcile_stock("c-3", SOCKS, CENTRAL, 20, clock.at - timedelta(hours=3))
    assert name == ""
    assert list(app.state.store.table("Stock Reconciliation").rows()) == []
    assert await on_hand(adapter) == 17


async def test_a_count_in_the_future_or_without_a_zone_is_refused() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    with pytest.raises(BackendRejected) as refused:
        await adapter.reconcile_stock("c-4", SOCKS, CENTRAL, 5, clock.at + timedelta(hours=1))
    assert refused.value.message == (
        "Posting future stock transactions are not allowed due to Immutable Ledger"
    )
    with pytest.raises(BadUserInput):
        await adapter.reconcile_stock("c-4", SOCKS, CENTRAL, 5, datetime(2026, 11, 20, 11))
    assert list(app.state.store.table("Stock Reconciliation").rows()) == []


# --- correct_count -----------------------------------------------------------------------------


async def hold_socks(adapter: ErpNextAdapter, quantity: int) -> None:
    """A web order whose Sales Order reserves ``quantity`` socks (a Stock Reservation Entry)."""
    draft = SalesOrderDraft(
        reference="WC-HOLD",
        customer="WooCommerce Web Customer",
        transaction_date=date(2026, 11, 20),
        delivery_date=date(2026, 11, 24),
        lines=(SalesOrderLine(SOCKS, quantity, CENTRAL),),
        reserve_stock=True,
    )
    order = await adapter.submit_sales_order(draft)
    assert [r.reserved_qty for r in await adapter.stock_reservations(order.name)] == [quantity]


def stock_entries(app: Starlette, entry_type: str) -> list[dict[str, Any]]:
    rows = app.state.store.table("Stock Entry").rows()
    return [row for row in rows if row["stock_entry_type"] == entry_type]


async def test_a_correction_with_nothing_reserved_is_a_stock_reconciliation() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    counted_at = clock.at - timedelta(hours=3)  # 12:00 at the site: 20 on the books then

    name = await adapter.correct_count("count-8:SOCK", SOCKS, CENTRAL, 12, -8, counted_at)

    docs = list(app.state.store.table("Stock Reconciliation").rows())
    assert [d["name"] for d in docs] == [name]
    assert stock_entries(app, "Material Issue") == []
    assert await on_hand(adapter) == 9  # the 12 counted, less the 3 shipped after


async def test_a_correction_of_reserved_stock_is_a_material_issue_at_the_count_s_time() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    await hold_socks(adapter, 2)
    counted_at = clock.at - timedelta(hours=3)  # 12:00 at the site: 20 on the books then

    first = await adapter.correct_count("count-9:SOCK", SOCKS, CENTRAL, 12, -8, counted_at)
    again = await adapter.correct_count("count-9:SOCK", SOCKS, CENTRAL, 12, -8, counted_at)

    # Then no reconciliation (ERPNext would refuse it) but one issue, posted at noon,
    (issue,) = stock_entries(app, "Material Issue")
    assert first == again == issue["name"]
    assert list(app.state.store.table("Stock Reconciliation").rows()) == []
    assert (issue["docstatus"], issue["posting_date"], issue["posting_time"]) == (
        1,
        "2026-11-20",
        "12:00:00",
    )
    assert issue["remarks"] == "commerce-gateway count count-9:SOCK"
    (row,) = app.state.store.table("Stock Entry Detail").children(issue["name"])
    assert (row["item_code"], row["s_warehouse"], row["qty"]) == (SOCKS, CENTRAL, 8.0)
    # and the Bin at the 12 counted, less the 3 shipped after the count; the hold stands.
    readings = await adapter.stock([SOCKS])
    central = next(r for r in readings if r.location_ref == CENTRAL)
    assert (central.on_hand, central.reserved) == (9, 2)
    moved = await adapter.stock_movements([SOCKS], [CENTRAL], START - timedelta(hours=1))
    assert [(m.at, m.units, m.counted) for m in moved] == [
        (START, 20, None),
        (counted_at, -8, None),
        (datetime(2026, 11, 20, 13, 30, tzinfo=UTC), -3, None),
    ]


async def test_a_gain_in_reserved_stock_is_a_material_receipt_at_the_count_s_time() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    await hold_socks(adapter, 2)
    counted_at = clock.at - timedelta(hours=3)

    name = await adapter.correct_count("count-10:SOCK", SOCKS, CENTRAL, 23, 3, counted_at)

    (receipt,) = [e for e in stock_entries(app, "Material Receipt") if e["name"] == name]
    assert (receipt["posting_time"], receipt["set_posting_time"]) == ("12:00:00", 1)
    (row,) = app.state.store.table("Stock Entry Detail").children(name)
    assert (row["t_warehouse"], row["qty"]) == (CENTRAL, 3.0)
    assert await on_hand(adapter) == 20  # 23 at noon, less the 3 shipped after


async def test_a_correction_whose_answer_was_lost_is_found_by_its_remarks() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    await hold_socks(on(app), 2)
    transport = LoseFirstPostAnswer(app)
    counted_at = clock.at - timedelta(hours=3)

    name = await adapter_on(transport).correct_count("c-11", SOCKS, CENTRAL, 12, -8, counted_at)

    assert transport.lost == 1
    assert [e["name"] for e in stock_entries(app, "Material Issue")] == [name]
    assert await on_hand(on(app)) == 9


async def test_a_correction_below_the_hold_is_refused_with_erpnext_s_words() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    await hold_socks(adapter, 15)
    counted_at = clock.at - timedelta(hours=3)

    with pytest.raises(BackendRejected) as refused:
        await adapter.correct_count("c-12", SOCKS, CENTRAL, 2, -18, counted_at)

    assert refused.value.backend_code == "NegativeStockError"
    assert "units are reserved for other sales orders" in refused.value.message
    assert stock_entries(app, "Material Issue") == []
    assert await on_hand(adapter) == 17


async def test_a_correction_of_no_variance_writes_nothing() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    await hold_socks(adapter, 2)
    posts_before = sum(n for call, n in app.state.calls.items() if call.startswith("POST"))

    name = await adapter.correct_count("c-13", SOCKS, CENTRAL, 20, 0, clock.at - timedelta(hours=3))

    assert name == ""
    assert sum(n for call, n in app.state.calls.items() if call.startswith("POST")) == posts_before
    assert stock_entries(app, "Material Issue") == []
    assert list(app.state.store.table("Stock Reconciliation").rows()) == []
    assert await on_hand(adapter) == 17


async def test_a_correction_without_a_zone_or_of_a_negative_count_is_refused() -> None:
    adapter = on(simulator())
    with pytest.raises(BadUserInput):
        await adapter.correct_count("c-14", SOCKS, CENTRAL, 5, -1, datetime(2026, 11, 20, 11))
    with pytest.raises(BadUserInput):
        await adapter.correct_count("c-14", SOCKS, CENTRAL, -1, -6, START)


# --- stock_movements -----------------------------------------------------------------------------


async def test_movements_are_the_count_and_the_delivery_after_it_signed_and_dated() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    counted_at = clock.at - timedelta(hours=3)  # 11:00 UTC
    await adapter.reconcile_stock("c-5", SOCKS, CENTRAL, 10, counted_at)

    since_morning = await adapter.stock_movements([SOCKS], [CENTRAL], START - timedelta(hours=1))
    since_count = await adapter.stock_movements([SOCKS], [CENTRAL], counted_at)
    elsewhere = await adapter.stock_movements([SOCKS], ["Attic - NTR"], START)

    assert since_morning == [
        StockMovement(SOCKS, CENTRAL, datetime(2026, 11, 20, 9, tzinfo=UTC), 20),
        StockMovement(SOCKS, CENTRAL, counted_at, -10, counted=10),
        StockMovement(SOCKS, CENTRAL, datetime(2026, 11, 20, 13, 30, tzinfo=UTC), -3),
    ]
    # Strictly after: the count does not follow itself, so a reckoning does not see it.
    assert since_count == since_morning[2:]
    assert elsewhere == []
    assert await adapter.stock_movements([], [CENTRAL], START) == []


async def test_a_cancelled_count_is_no_movement() -> None:
    clock = Clock()
    app = simulator(clock=clock)
    await a_day_of_socks(app, clock)
    adapter = on(app)
    name = await adapter.reconcile_stock("c-6", SOCKS, CENTRAL, 10, clock.at - timedelta(hours=3))
    async with raw_client(app) as client:
        cancelled = await client.post(
            "/api/method/frappe.client.cancel",
            json={"doctype": "Stock Reconciliation", "name": name},
        )
    assert cancelled.status_code == 200, cancelled.text

    moved = await adapter.stock_movements([SOCKS], [CENTRAL], START - timedelta(hours=1))
    assert [(m.units, m.counted) for m in moved] == [(20, None), (-3, None)]
    assert await on_hand(adapter) == 17


async def test_movements_cost_one_ledger_list_per_sku_chunk_and_filter_at_the_site() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        rows = [
            {
                "item_code": "A",
                "warehouse": CENTRAL,
                "posting_date": "2026-11-20",
                "posting_time": "9:05:00",  # str(timedelta), as Frappe sends a Time
                "actual_qty": 4.6,
                "voucher_type": "Stock Reconciliation",
                "qty_after_transaction": 11.5,
            }
        ]
        return httpx.Response(200, json={"data": rows if len(seen) == 1 else []})

    adapter = adapter_on(httpx.MockTransport(handler), chunk_size=2)
    moved = await adapter.stock_movements(["A", "B", "C"], [CENTRAL], START - timedelta(hours=2))

    assert len(seen) == 2  # two chunks of SKUs, one short page each
    assert filters_of(seen[0]) == [
        ["item_code", "in", ["A", "B"]],
        ["warehouse", "in", [CENTRAL]],
        ["is_cancelled", "=", 0],
        ["posting_date", ">=", "2026-11-20"],
    ]
    # Floats rounded half up; 09:05 at the Berlin site is 08:05 UTC.
    assert moved == [
        StockMovement("A", CENTRAL, datetime(2026, 11, 20, 8, 5, tzinfo=UTC), 5, counted=12)
    ]
