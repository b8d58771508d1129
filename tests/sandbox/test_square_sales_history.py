"""The Square simulator's inventory change history (BatchRetrieveInventoryChanges): the sample
retailer's daily sales as IN_STOCK -> SOLD adjustments, then what was written through the
API, filtered and paged as Square documents it, readable by the official SDK."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from adapters.square import SquareAdapter
from tests.live_server import serve
from tests.square_support import (
    NOW,
    TOKEN,
    VERSION,
    adapter_client,
    dataset,
    raw_client,
    simulator,
)

HISTORY = "/v2/inventory/changes/batch-retrieve"
WRITE = "/v2/inventory/changes/batch-create"


def selling_pair() -> tuple[str, str, str, tuple[int, ...]]:
    """A (variation, SKU, store) that sold something, with its daily sales."""
    data = dataset()
    for item in data.pos_items:
        for vid, _, sku, _ in item.variations:
            for store in data.stores:
                daily = data.store_daily_sales(sku, store.id)
                if sum(daily) > 10:
                    return vid, sku, store.id, daily
    raise AssertionError("the sample retailer sells nothing")


async def everything(client: Any, body: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    changes, pages = [], 0
    while True:
        answer = (await client.post(HISTORY, json=body)).json()
        pages += 1
        changes += answer.get("changes", [])
        if "cursor" not in answer:
            return changes, pages
        body = {**body, "cursor": answer["cursor"]}


async def test_a_store_s_sales_of_a_sku_are_its_daily_sold_adjustments_oldest_first():
    vid, _, store, daily = selling_pair()
    async with raw_client(simulator()) as client:
        changes, pages = await everything(
            client,
            {
                "catalog_object_ids": [vid],
                "location_ids": [store],
                "types": ["ADJUSTMENT"],
                "limit": 7,
            },
        )
    sold = [c["adjustment"] for c in changes]
    assert [int(a["quantity"]) for a in sold] == [units for units in daily if units]
    assert {(a["from_state"], a["to_state"], a["location_id"]) for a in sold} == {
        ("IN_STOCK", "SOLD", store)
    }
    assert [a["created_at"] for a in sold] == sorted(a["created_at"] for a in sold)
    assert pages == -(-len(sold) // 7)


async def test_a_sale_written_through_the_api_joins_the_history_and_filters_apply():
    vid, _, store, daily = selling_pair()
    sale = {
        "idempotency_key": "till-1",
        "changes": [
            {
                "type": "ADJUSTMENT",
                "adjustment": {
                    "catalog_object_id": vid,
                    "from_state": "IN_STOCK",
                    "to_state": "SOLD",
                    "location_id": store,
                    "quantity": "2",
                    "occurred_at": NOW.isoformat(),
                },
            }
        ],
    }
    async with raw_client(simulator()) as client:
        assert (await client.post(WRITE, json=sale)).status_code == 200
        body = {"catalog_object_ids": [vid], "location_ids": [store]}
        changes, _ = await everything(client, body)
        # The simulator's clock stands at NOW: the sale was created then, after the history.
        since = (NOW - timedelta(hours=1)).isoformat()
        recent, _ = await everything(client, {**body, "updated_after": since})
        counts_only, _ = await everything(client, {**body, "types": ["PHYSICAL_COUNT"]})
        refused = await client.post(HISTORY, json={**body, "types": ["TRANSFER"]})
    assert len(changes) == sum(1 for units in daily if units) + 1
    assert [c["adjustment"]["quantity"] for c in recent] == ["2"]
    assert counts_only == []
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "types[0]"


def test_the_official_squareup_sdk_pages_the_history():
    square = pytest.importorskip("square")
    vid, _, store, daily = selling_pair()
    with serve(simulator()) as url:
        client = square.Square(base_url=url, token=TOKEN, version=VERSION)
        pager = client.inventory.batch_get_changes(
            catalog_object_ids=[vid], location_ids=[store], types=["ADJUSTMENT"], limit=5
        )
        changes = list(pager)
    assert sum(int(c.adjustment.quantity) for c in changes) == sum(daily)


async def test_the_adapter_reads_a_sku_s_sales_at_a_store_since_a_moment():
    _, sku, store, daily = selling_pair()
    other = next(s.id for s in dataset().stores if s.id != store)
    adapter = SquareAdapter(adapter_client(simulator()))
    since = dataset().base_time - timedelta(days=7)

    sales = await adapter.sales([sku, "NO-SUCH-SKU"], [store], since)

    # The last seven days' sales (days 21 to 27 of 28), whole units, at that store only.
    assert sum(s.quantity for s in sales) == sum(daily[-7:])
    assert {(s.sku, s.location_ref) for s in sales} <= {(sku, store)}
    assert all(s.occurred_at > since for s in sales)
    assert await adapter.sales([sku], [], since) == []
    assert sum(s.quantity for s in await adapter.sales([sku], [other], since)) == sum(
        dataset().store_daily_sales(sku, other)[-7:]
    )


async def test_a_count_dated_before_the_last_day_s_sales_keeps_them_as_square_would():
    _, sku, store, daily = selling_pair()
    last_sale = dataset().sale_day_closed_at(len(daily) - 1)
    assert NOW - last_sale < timedelta(hours=24), "the last day's sales are within Square's window"
    assert daily[-1] > 0, "the pair sold on the last day"
    adapter = SquareAdapter(adapter_client(simulator()))
    counted_at = last_sale - timedelta(hours=1)

    # The history's sales after the count are movements since it,
    moved = await adapter.stock_movements([sku], [store], counted_at)
    assert [(m.at, m.units) for m in moved] == [(last_sale, -daily[-1])]
    # and a count taken before them is replayed under them.
    await adapter.record_count("count-history", sku, store, 30, counted_at)
    (reading,) = await adapter.stock([sku], [store])
    assert reading.on_hand - reading.reserved == 30 - daily[-1]
