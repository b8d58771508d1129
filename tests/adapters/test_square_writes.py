"""SquareAdapter's stock writes (PosStockWritesPort) against the Square simulator: a sale or
restock moves the IN_STOCK figure that ``stock()`` reads, once per reference."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.square import SquareAdapter, build_square_client
from adapters.square.writes import MAX_KEY_LENGTH, count_request, idempotency_key
from gateway.errors import BackendRejected, BadUserInput, NotFound
from gateway.ports import PosStockWritesPort
from tests.live_server import serve
from tests.square_support import NOW, TOKEN, VERSION, adapter_client, settings, simulator

SHOE_SKU = "SHOE-TRAIL-42"
SHOE_42 = "H7CY2PB5WK3XQ9TN6RMZ4LDV"
KIOSK = "LB3K7N9PD2XWE"
DOWNTOWN = "L8D2Q4W5ZC1XN"
CHANGES = "POST /v2/inventory/changes/batch-create"
SEARCH = "POST /v2/catalog/search"
# Within the simulator's 24-hour window before its pinned clock.
SOLD_AT = NOW - timedelta(minutes=1)


async def sellable(adapter: SquareAdapter, sku: str, location: str) -> int:
    """IN_STOCK as the adapter reads it (on hand less RESERVED_FOR_SALE)."""
    readings = await adapter.stock([sku], [location])
    return sum(r.on_hand - r.reserved for r in readings)


def captured_adapter(seen: list[dict[str, Any]], answer: httpx.Response) -> SquareAdapter:
    """An adapter whose search finds the shoe and whose batch-create answers ``answer``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/catalog/search":
            variation = {
                "type": "ITEM_VARIATION",
                "id": SHOE_42,
                "item_variation_data": {"sku": SHOE_SKU, "item_id": "ITEM", "name": "42"},
            }
            return httpx.Response(200, json={"objects": [variation]})
        seen.append(json.loads(request.content))
        return answer

    client = build_square_client(settings(), transport=httpx.MockTransport(handler))
    return SquareAdapter(client, max_retries=0)


async def test_the_adapter_satisfies_the_pos_stock_writes_port() -> None:
    async with adapter_client(simulator()) as client:
        port: PosStockWritesPort = SquareAdapter(client)
        assert callable(port.record_sale) and callable(port.record_restock)


# --- against the simulator -----------------------------------------------------------------------


async def test_given_stock_when_a_sale_is_recorded_then_in_stock_drops_by_its_quantity() -> None:
    app = simulator()
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        before = await sellable(adapter, SHOE_SKU, KIOSK)
        await adapter.record_sale("WC-10482-1", SHOE_SKU, KIOSK, 2, SOLD_AT)
        after = await sellable(adapter, SHOE_SKU, KIOSK)
    assert after == before - 2
    # The SKU was looked up once and remembered for the write and the reads.
    assert app.state.calls[SEARCH] == 1


async def test_a_sale_repeated_with_the_same_reference_lowers_stock_once() -> None:
    app = simulator()
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        before = await sellable(adapter, SHOE_SKU, KIOSK)
        await adapter.record_sale("WC-10482-2", SHOE_SKU, KIOSK, 1, SOLD_AT)
        await adapter.record_sale("WC-10482-2", SHOE_SKU, KIOSK, 1, SOLD_AT)
        after = await sellable(adapter, SHOE_SKU, KIOSK)
    assert after == before - 1
    # Both reached Square; Square's idempotency, not the adapter, kept the second one out.
    assert app.state.calls[CHANGES] == 2


async def test_a_restock_raises_in_stock_by_its_quantity() -> None:
    app = simulator()
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        before = await sellable(adapter, SHOE_SKU, DOWNTOWN)
        await adapter.record_restock("RMA-77-1", SHOE_SKU, DOWNTOWN, 3, SOLD_AT)
        await adapter.record_restock("RMA-77-1", SHOE_SKU, DOWNTOWN, 3, SOLD_AT)
        after = await sellable(adapter, SHOE_SKU, DOWNTOWN)
    assert after == before + 3


async def test_a_sale_then_its_restock_under_another_reference_nets_to_zero() -> None:
    async with adapter_client(simulator()) as client:
        adapter = SquareAdapter(client)
        before = await sellable(adapter, SHOE_SKU, KIOSK)
        await adapter.record_sale("order-9", SHOE_SKU, KIOSK, 1, SOLD_AT)
        await adapter.record_restock("return-9", SHOE_SKU, KIOSK, 1, SOLD_AT)
        assert await sellable(adapter, SHOE_SKU, KIOSK) == before


async def test_selling_more_than_is_in_stock_goes_negative_as_square_allows() -> None:
    async with adapter_client(simulator()) as client:
        adapter = SquareAdapter(client)
        before = await sellable(adapter, SHOE_SKU, KIOSK)
        await adapter.record_sale("oversold", SHOE_SKU, KIOSK, before + 5, SOLD_AT)
        assert await sellable(adapter, SHOE_SKU, KIOSK) == -5


async def test_an_unknown_sku_is_not_found_and_nothing_is_posted() -> None:
    app = simulator()
    async with adapter_client(app) as client:
        with pytest.raises(NotFound, match="NO-SUCH-SKU"):
            await SquareAdapter(client).record_sale("r-1", "NO-SUCH-SKU", KIOSK, 1, SOLD_AT)
    assert app.state.calls[CHANGES] == 0


async def test_a_sku_read_as_unknown_is_looked_up_again_before_a_write() -> None:
    app = simulator()
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        assert await adapter.stock(["NO-SUCH-SKU"]) == []
        with pytest.raises(NotFound):
            await adapter.record_restock("r-2", "NO-SUCH-SKU", KIOSK, 1, SOLD_AT)
    assert app.state.calls[SEARCH] == 2


async def test_an_unknown_location_is_rejected_by_square_with_its_404() -> None:
    async with adapter_client(simulator()) as client:
        with pytest.raises(BackendRejected) as caught:
            await SquareAdapter(client).record_sale("r-3", SHOE_SKU, "LNOWHERE", 1, SOLD_AT)
    assert caught.value.status == 404
    assert caught.value.backend_code == "NOT_FOUND"


async def test_the_same_reference_with_another_quantity_is_refused_and_changes_nothing() -> None:
    async with adapter_client(simulator()) as client:
        adapter = SquareAdapter(client)
        before = await sellable(adapter, SHOE_SKU, KIOSK)
        await adapter.record_sale("WC-1", SHOE_SKU, KIOSK, 1, SOLD_AT)
        with pytest.raises(BackendRejected) as caught:
            await adapter.record_sale("WC-1", SHOE_SKU, KIOSK, 2, SOLD_AT)
        after = await sellable(adapter, SHOE_SKU, KIOSK)
    assert caught.value.backend_code == "IDEMPOTENCY_KEY_REUSED"
    assert after == before - 1


async def test_a_reference_longer_than_128_characters_still_sells_once() -> None:
    reference = "marketplace-order/" + "x" * 300
    async with adapter_client(simulator()) as client:
        adapter = SquareAdapter(client)
        before = await sellable(adapter, SHOE_SKU, KIOSK)
        await adapter.record_sale(reference, SHOE_SKU, KIOSK, 1, SOLD_AT)
        await adapter.record_sale(reference, SHOE_SKU, KIOSK, 1, SOLD_AT)
        assert await sellable(adapter, SHOE_SKU, KIOSK) == before - 1


async def test_a_503_before_the_write_is_retried_and_the_sale_lands_once() -> None:
    app = simulator()
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client, max_retries=2)
        before = await sellable(adapter, SHOE_SKU, KIOSK)
        app.state.faults.script(503)
        await adapter.record_sale("retried", SHOE_SKU, KIOSK, 1, SOLD_AT)
        assert await sellable(adapter, SHOE_SKU, KIOSK) == before - 1
    assert app.state.calls[CHANGES] == 2


# --- the request on the wire ---------------------------------------------------------------------


async def test_a_sale_is_one_adjustment_with_decimal_string_quantity_and_utc_time() -> None:
    seen: list[dict[str, Any]] = []
    adapter = captured_adapter(seen, httpx.Response(200, json={"counts": []}))
    berlin = timezone(timedelta(hours=1))
    await adapter.record_sale("WC-5", SHOE_SKU, KIOSK, 4, SOLD_AT.astimezone(berlin))
    [body] = seen
    assert body["idempotency_key"] == "WC-5"
    [change] = body["changes"]
    assert change["type"] == "ADJUSTMENT"
    adjustment = change["adjustment"]
    assert adjustment["from_state"] == "IN_STOCK" and adjustment["to_state"] == "SOLD"
    assert adjustment["catalog_object_id"] == SHOE_42
    assert adjustment["location_id"] == KIOSK
    assert adjustment["quantity"] == "4"
    assert adjustment["occurred_at"] == "2026-11-20T10:25:41.311Z"
    assert adjustment["reference_id"] == "WC-5"


async def test_a_per_change_error_in_a_200_answer_is_a_backend_rejection() -> None:
    error = {
        "category": "INVALID_REQUEST_ERROR",
        "code": "INVALID_VALUE",
        "detail": "An adjustment cannot move stock from `NONE` to `IN_STOCK`.",
        "field": "changes[0].adjustment.to_state",
    }
    adapter = captured_adapter([], httpx.Response(200, json={"errors": [error]}))
    with pytest.raises(BackendRejected) as caught:
        await adapter.record_restock("r-4", SHOE_SKU, KIOSK, 1, SOLD_AT)
    assert caught.value.backend_code == "INVALID_VALUE"
    assert caught.value.details["field"] == "changes[0].adjustment.to_state"


@pytest.mark.parametrize(
    ("quantity", "occurred_at"),
    [(0, SOLD_AT), (-1, SOLD_AT), (1, SOLD_AT.replace(tzinfo=None))],
)
async def test_a_non_positive_quantity_or_naive_time_is_refused_before_calling(
    quantity: int, occurred_at: Any
) -> None:
    seen: list[dict[str, Any]] = []
    adapter = captured_adapter(seen, httpx.Response(200, json={}))
    with pytest.raises(BadUserInput):
        await adapter.record_sale("r-5", SHOE_SKU, KIOSK, quantity, occurred_at)
    assert seen == []


def test_long_references_map_to_stable_distinct_keys_within_squares_limit() -> None:
    first, second = "a" * 200 + "1", "a" * 200 + "2"
    assert len(idempotency_key(first)) <= MAX_KEY_LENGTH
    assert idempotency_key(first) == idempotency_key(first)
    assert idempotency_key(first) != idempotency_key(second)
    assert idempotency_key("short") == "short"


# --- the official SDK ----------------------------------------------------------------------------


def _sdk_sale(square: Any, url: str, key: str) -> Any:
    client = square.Square(base_url=url, token=TOKEN, version=VERSION)
    return client.inventory.batch_create_changes(
        idempotency_key=key,
        changes=[
            {
                "type": "ADJUSTMENT",
                "adjustment": {
                    "catalog_object_id": SHOE_42,
                    "from_state": "IN_STOCK",
                    "to_state": "SOLD",
                    "location_id": KIOSK,
                    "quantity": "1",
                    "occurred_at": SOLD_AT.isoformat(),
                },
            }
        ],
    )


async def test_the_official_squareup_sdk_posts_the_same_batch_create_and_the_adapter_sees_it() -> (
    None
):
    square = pytest.importorskip("square")
    app: Starlette = simulator()
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        before = await sellable(adapter, SHOE_SKU, KIOSK)
        with serve(app) as url:
            first = _sdk_sale(square, url, "sdk-sale-1")
            again = _sdk_sale(square, url, "sdk-sale-1")
        after = await sellable(adapter, SHOE_SKU, KIOSK)
    [count] = first.counts or []
    assert (count.state, count.location_id, count.quantity) == ("IN_STOCK", KIOSK, str(after))
    assert again.counts == first.counts
    assert after == before - 1


# --- cycle counts: a PHYSICAL_COUNT in the past ----------------------------------------------


async def test_a_count_in_the_past_keeps_the_sale_rung_up_after_it() -> None:
    async with adapter_client(simulator()) as client:
        adapter = SquareAdapter(client)
        counted_at = NOW - timedelta(hours=3)
        # Given a sale rung up an hour after the count was taken,
        await adapter.record_sale("till-1", SHOE_SKU, DOWNTOWN, 2, NOW - timedelta(hours=2))
        # when the count (9 on the shelf then) is recorded,
        await adapter.record_count("count-1:shoe", SHOE_SKU, DOWNTOWN, 9, counted_at)
        await adapter.record_count("count-1:shoe", SHOE_SKU, DOWNTOWN, 9, counted_at)
        # then Square holds the count with the later sale on top, once.
        assert await sellable(adapter, SHOE_SKU, DOWNTOWN) == 7


async def test_the_movements_since_a_moment_are_signed_and_a_later_count_is_flagged() -> None:
    async with adapter_client(simulator()) as client:
        adapter = SquareAdapter(client)
        since = NOW - timedelta(hours=4)
        await adapter.record_sale("till-2", SHOE_SKU, DOWNTOWN, 2, NOW - timedelta(hours=3))
        await adapter.record_restock("rma-2", SHOE_SKU, DOWNTOWN, 1, NOW - timedelta(hours=2))
        await adapter.record_sale("before", SHOE_SKU, DOWNTOWN, 1, NOW - timedelta(hours=5))
        moved = await adapter.stock_movements([SHOE_SKU], [DOWNTOWN], since)
        assert [(m.units, m.counted, m.at) for m in moved] == [
            (-2, None, NOW - timedelta(hours=3)),
            (1, None, NOW - timedelta(hours=2)),
        ]
        assert {(m.sku, m.location_ref) for m in moved} == {(SHOE_SKU, DOWNTOWN)}
        await adapter.record_count("count-2:shoe", SHOE_SKU, DOWNTOWN, 4, NOW - timedelta(hours=1))
        (*_, last) = await adapter.stock_movements([SHOE_SKU], [DOWNTOWN], since)
        assert (last.units, last.counted) == (0, 4)
        # Another store's movements are not this one's.
        assert await adapter.stock_movements([SHOE_SKU], [KIOSK], since) == []


async def test_a_count_older_than_square_s_24_hours_is_refused() -> None:
    async with adapter_client(simulator()) as client:
        with pytest.raises(BackendRejected, match="24 hours"):
            await SquareAdapter(client).record_count(
                "count-old", SHOE_SKU, DOWNTOWN, 3, NOW - timedelta(hours=25)
            )


def test_a_negative_count_is_refused_before_it_is_sent() -> None:
    with pytest.raises(BadUserInput, match="whole number"):
        count_request("r", SHOE_42, DOWNTOWN, -1, SOLD_AT)
