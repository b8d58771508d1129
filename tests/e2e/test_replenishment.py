"""Replenishment over the simulators: a store's hint is worked out from the sales Square
recorded there (the sample retailer's history, checkable by hand from
Dataset.store_daily_sales), the stock the gateway answers for it, and the configured terms;
the listing pages the store's SKUs and keeps those below their reorder point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from gateway.config import ReplenishmentSettings
from gateway.domain.replenishment import SupplyTerms, hint
from sandbox.sample_data import generate
from tests.e2e.support import ok, rows

HINT = """query ($sku: String!, $at: ID!) { product(sku: $sku) { replenishment(locationId: $at) {
  sku location { id } dailyDemand averageDailyDemand demandStdDev supplier leadTimeDays caseSize
  minOrderQty reviewDays serviceLevel safetyStock reorderPoint orderUpTo available incoming
  position belowReorderPoint suggestedOrder daysOfSupply } } }"""
LIST = """query ($at: ID!, $after: String) {
  replenishment(locationId: $at, first: 5, after: $after, filter: {belowReorderPoint: true}) {
    edges { cursor node { sku belowReorderPoint suggestedOrder } }
    pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture(scope="module")
def dataset():
    # Its sales history ends yesterday, as the demo's does: the window of 28 whole days
    # before today is exactly that history.
    return generate(seed=42, skus=500, stores=12, base_time=datetime.now(UTC))


def a_selling_sku(dataset) -> tuple[str, tuple[int, ...]]:
    """A SKU the first store sold more than 30 of, and its daily sales there."""
    store = dataset.stores[0].id  # the first store's Square location
    for sku in dataset.sellable_skus:
        daily = dataset.store_daily_sales(sku, store)
        if sum(daily) > 30:
            return sku, daily
    raise AssertionError("nothing sells")


async def test_a_store_s_hint_is_worked_out_from_its_till_s_history(stack, dataset):
    sku, daily = a_selling_sku(dataset)
    node = dataset.node_ids()[len(dataset.leaf_warehouses)]  # the first store
    got = (await ok(stack.gql, HINT, sku=sku, at=node))["product"]["replenishment"]

    assert got["dailyDemand"] == list(daily)
    mean = Decimal(sum(daily)) / len(daily)
    assert Decimal(got["averageDailyDemand"]) == mean.quantize(Decimal("0.01"), ROUND_HALF_UP)
    # What the node has is what the gateway answers for it.
    assert got["available"] == (await rows(stack.gql, sku))[node]["availableToPromise"]
    # The ERPNext Item's terms (the review period and service level configured), and the
    # model's figures for that demand and stock.
    supply = dataset.supply(sku)
    assert supply is not None
    configured = ReplenishmentSettings()
    assert (got["leadTimeDays"], got["caseSize"], got["minOrderQty"], got["supplier"]) == (
        supply.lead_time_days,
        supply.case_size,
        supply.min_order_qty,
        supply.supplier,
    )
    model = hint(
        daily,
        got["available"],
        got["incoming"],
        SupplyTerms(
            lead_time_days=supply.lead_time_days,
            min_order_qty=supply.min_order_qty,
            case_size=supply.case_size,
            review_days=configured.review_days,
        ),
        configured.service_level,
    )
    assert (got["safetyStock"], got["reorderPoint"], got["suggestedOrder"]) == (
        model.safety_stock,
        model.reorder_point,
        model.suggested_order,
    )
    assert got["reorderPoint"] >= round(float(mean) * supply.lead_time_days)


async def test_the_listing_keeps_the_skus_below_their_reorder_point_page_by_page(stack, dataset):
    node = dataset.node_ids()[len(dataset.leaf_warehouses)]
    seen, after = [], None
    for _ in range(3):
        page = (await ok(stack.gql, LIST, at=node, after=after))["replenishment"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen, "a store with a month of sales has SKUs to reorder"
    assert all(n["belowReorderPoint"] and n["suggestedOrder"] > 0 for n in seen)
    assert len({n["sku"] for n in seen}) == len(seen)  # no SKU twice across pages


async def test_a_warehouse_s_demand_is_what_erpnext_s_stock_ledger_says_it_delivered(
    stack, dataset
):
    warehouse = dataset.leaf_warehouses[0]
    node = dataset.node_ids()[0]  # the first leaf warehouse
    sku, daily = next(
        (sku, daily)
        for sku in dataset.sellable_skus
        if sum(daily := dataset.warehouse_daily_deliveries(sku, warehouse.name)) > 0
    )
    got = (await ok(stack.gql, HINT, sku=sku, at=node))["product"]["replenishment"]
    assert got["location"]["id"] == node
    assert got["dailyDemand"] == list(daily)


PLAN = """query ($at: ID!, $day: Date!) { countPlan(locationId: $at, date: $day) {
  sku abcClass movedValue } }"""


async def test_a_store_s_count_plan_is_short_daily_lists_ranked_by_value_moved(stack, dataset):
    node = dataset.node_ids()[len(dataset.leaf_warehouses)]  # the first store
    days = [(datetime.now(UTC).date() + timedelta(days=n)).isoformat() for n in range(3)]
    plans = [(await ok(stack.gql, PLAN, at=node, day=day))["countPlan"] for day in days]
    stock = [sku for sku in dataset.sellable_skus if sku not in dataset.kits]
    for plan in plans:
        assert plan and len(plan) <= len(stock) // 30 + len(stock) // 90 + 3
        assert {e["sku"] for e in plan} <= set(stock)
    # Three days of a cycle of at least 30: no SKU twice.
    skus = [e["sku"] for plan in plans for e in plan]
    assert len(skus) == len(set(skus))
    # A is what moved the most value: every A on these lists moved more than any C.
    entries = [e for plan in plans for e in plan]
    a_values = [Decimal(e["movedValue"]) for e in entries if e["abcClass"] == "A"]
    c_values = [Decimal(e["movedValue"]) for e in entries if e["abcClass"] == "C"]
    if a_values and c_values:
        assert min(a_values) >= max(c_values)
