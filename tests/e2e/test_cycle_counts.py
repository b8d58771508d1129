"""Cycle counts over the simulators: a count recorded for a moment in the past corrects the
node's source without losing what it recorded after that moment (a sale rung up at the till
after the count), in Square and in ERPNext; the variance is audited as shrink with its value,
and one over the threshold is queued for the store's team."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from rich.console import Console

from adapters.square import SquareAdapter, build_square_client
from gateway.domain.kpis import DEFINITIONS
from gateway.report_cli import weekly
from gateway.reports import KpiFigure, format_kpi
from sandbox.sample_data import generate
from tests.e2e.support import Stack, erp_bin, error_of, ok, square_in_stock
from tests.identity import bearer, token
from tests.unit.test_weekly_report import read


@pytest.fixture(scope="module")
def dataset():
    # The simulators' clocks run from the present (their history ends now), as the demo's do.
    return generate(seed=42, skus=500, stores=12, base_time=datetime.now(UTC))


RECORD = """mutation ($at: ID!, $lines: [CountLineInput!]!, $when: DateTime!, $key: String!) {
  recordCount(locationId: $at, lines: $lines, countedAt: $when, countedBy: "Ada",
              idempotencyKey: $key) {
    id locationId countedBy
    lines { sku counted outcome bookAtCount variance correctedTo discrepancyId
            value { amount currency } } } }"""
TRAIL = """query ($sku: String!) { auditTrail(sku: $sku, kinds: [SHRINK, GAIN]) {
  edges { node { kind system before after reference locationId } } } }"""
DISCREPANCY = """query ($id: ID!) { discrepancy(id: $id) { kind owner delta status } }"""


def stocked_at_first_store(stack: Stack, dataset: Any, wanted: int) -> tuple[str, str, list[str]]:
    """The first store's node id, its Square location, and SKUs it has 10 or more of, each
    costing less than the 25 a variance may be worth before it is queued."""
    store = dataset.stores[0]
    node = dataset.node_ids()[len(dataset.leaf_warehouses)]
    skus = [
        sku
        for sku in dataset.sellable_skus
        if sku not in dataset.kits
        and dataset.items[sku].valuation_rate < 20
        and square_in_stock(stack.apps, sku, store.id) >= 10
    ][:wanted]
    assert len(skus) == wanted
    return node, store.id, skus


async def test_a_count_in_the_past_corrects_square_and_keeps_the_later_sale(stack, dataset):
    node, store_ref, (shoe, coat) = stocked_at_first_store(stack, dataset, 2)
    now = datetime.now(UTC)
    counted_at = now - timedelta(hours=3)
    shoe_then, coat_then = (square_in_stock(stack.apps, s, store_ref) for s in (shoe, coat))
    # Given the till sold 2 shoes an hour after the count was taken,
    async with build_square_client(stack.settings()) as client:
        till = SquareAdapter(client)
        await till.record_sale("till-7", shoe, store_ref, 2, now - timedelta(hours=2))
    # when the count is recorded (one shoe missing then, five coats),
    lines = [{"sku": shoe, "counted": shoe_then - 1}, {"sku": coat, "counted": coat_then - 5}]
    got = await ok(stack.gql, RECORD, at=node, lines=lines, when=counted_at.isoformat(), key="c-1")
    count = got["recordCount"]
    by_sku = {line["sku"]: line for line in count["lines"]}
    # then each line is reckoned against the book at the count's time, the sale left out,
    assert by_sku[shoe] | {"value": None} == {
        "sku": shoe,
        "counted": shoe_then - 1,
        "outcome": "CORRECTED",
        "bookAtCount": shoe_then,
        "variance": -1,
        "correctedTo": shoe_then - 3,
        "discrepancyId": None,  # one unit, under 25 at cost: within the thresholds
        "value": None,
    }
    cost = dataset.items[shoe].valuation_rate
    assert by_sku[shoe]["value"] == {"amount": f"{-cost:.2f}", "currency": "EUR"}
    assert by_sku[coat]["variance"] == -5 and by_sku[coat]["discrepancyId"]
    # and once the worker has written it, Square holds the count and the later sale on top.
    await stack.drain()
    assert square_in_stock(stack.apps, shoe, store_ref) == shoe_then - 3
    assert square_in_stock(stack.apps, coat, store_ref) == coat_then - 5
    # The audit trail says shrink, with its value, and the big one is the store's to explain.
    (entry,) = [e["node"] for e in (await ok(stack.gql, TRAIL, sku=shoe))["auditTrail"]["edges"]]
    assert entry["kind"] == "SHRINK" and entry["system"] == "POS"
    assert (entry["before"], entry["reference"], entry["locationId"]) == (
        str(shoe_then),
        count["id"],
        node,
    )
    assert f"{shoe_then - 1} counted by Ada: -1, EUR {-cost:.2f} at cost" == entry["after"]
    queued = await ok(stack.gql, DISCREPANCY, id=by_sku[coat]["discrepancyId"])
    assert queued["discrepancy"] == {
        "kind": "COUNT_VARIANCE",
        "owner": "store-ops",
        "delta": 5,
        "status": "OPEN",
    }
    # A retry answers the same count and writes nothing more.
    again = await ok(
        stack.gql, RECORD, at=node, lines=lines, when=counted_at.isoformat(), key="c-1"
    )
    assert again["recordCount"]["id"] == count["id"]
    await stack.drain()
    assert square_in_stock(stack.apps, shoe, store_ref) == shoe_then - 3


async def test_a_count_that_matches_writes_nothing_and_bad_counts_are_refused(stack, dataset):
    node, store_ref, (sku,) = stocked_at_first_store(stack, dataset, 1)
    on_shelf = square_in_stock(stack.apps, sku, store_ref)
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    line = [{"sku": sku, "counted": on_shelf}]
    got = await ok(stack.gql, RECORD, at=node, lines=line, when=when, key="c-2")
    assert got["recordCount"]["lines"][0]["outcome"] == "MATCHED"
    await stack.drain()
    recorded = stack.apps["square"].state.simulator.inventory.recorded
    assert [c for c in recorded if c["type"] == "PHYSICAL_COUNT"] == []

    too_old = (datetime.now(UTC) - timedelta(hours=25)).isoformat()
    refused = await error_of(stack.gql, RECORD, at=node, lines=line, when=too_old, key="c-3")
    assert refused["code"] == "BAD_USER_INPUT" and refused["field"] == "countedAt"
    twice = [*line, *line]
    refused = await error_of(stack.gql, RECORD, at=node, lines=twice, when=when, key="c-4")
    assert refused["code"] == "BAD_USER_INPUT"
    unknown = [{"sku": "NO-SUCH-SKU", "counted": 1}]
    refused = await error_of(stack.gql, RECORD, at=node, lines=unknown, when=when, key="c-5")
    assert refused["code"] == "NOT_FOUND"


async def test_a_store_associate_counts_only_at_its_own_store(stack, dataset):
    node, _, (sku,) = stocked_at_first_store(stack, dataset, 1)
    other = dataset.node_ids()[len(dataset.leaf_warehouses) + 1]
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    elsewhere = bearer(token(["STORE_ASSOCIATE"], sub="assoc-9", location_id=other))
    assert stack.gql.http is not None
    response = await stack.gql.http.post(
        "/graphql",
        json={
            "query": RECORD,
            "variables": {
                "at": node,
                "lines": [{"sku": sku, "counted": 1}],
                "when": when,
                "key": "c-6",
            },
        },
        headers=elsewhere,
    )
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_a_count_in_the_past_corrects_erpnext_and_keeps_the_later_receipt(stack, dataset):
    warehouse = dataset.leaf_warehouses[0]
    node = dataset.node_ids()[0]
    sku = next(
        sku
        for sku in dataset.sellable_skus
        if sku not in dataset.kits
        and (figures := bin_of(stack, sku, warehouse.name)) is not None
        and figures[0] >= 10
        and figures[1] == 0  # ERPNext refuses a reconciliation of reserved stock
    )
    before, _ = erp_bin(stack.apps, sku, warehouse.name)
    counted_at = datetime.now(UTC) - timedelta(hours=2)
    # Given 4 units were received after the count was taken,
    settings = stack.settings()
    async with httpx.AsyncClient(base_url=settings.erp_base_url) as client:
        response = await client.post(
            "/api/resource/Stock Entry",
            json={
                "stock_entry_type": "Material Receipt",
                "items": [{"item_code": sku, "qty": 4, "t_warehouse": warehouse.name}],
                "docstatus": 1,
            },
            headers={"Authorization": f"token {settings.erp_api_key}:{settings.erp_api_secret}"},
        )
        assert response.status_code == 200, response.text
    # when a count of 2 fewer than the book then is recorded,
    lines = [{"sku": sku, "counted": before - 2}]
    got = await ok(stack.gql, RECORD, at=node, lines=lines, when=counted_at.isoformat(), key="w-1")
    (line,) = got["recordCount"]["lines"]
    assert (line["bookAtCount"], line["variance"], line["correctedTo"]) == (before, -2, before + 2)
    # then ERPNext gets a Stock Reconciliation at the count's time, the receipt kept on top.
    await stack.drain()
    assert erp_bin(stack.apps, sku, warehouse.name)[0] == before + 2
    store = stack.apps["erp"].state.store
    (reconciliation,) = store.table("Stock Reconciliation").rows()
    assert reconciliation["docstatus"] == 1
    (entry,) = [e["node"] for e in (await ok(stack.gql, TRAIL, sku=sku))["auditTrail"]["edges"]]
    assert (entry["kind"], entry["system"], entry["locationId"]) == ("SHRINK", "ERP", node)


def bin_of(stack: Stack, sku: str, warehouse: str) -> tuple[int, int] | None:
    try:
        return erp_bin(stack.apps, sku, warehouse)
    except ValueError:  # no Bin: nothing there
        return None


KPIS = """query ($at: ID!, $from: Date!, $to: Date!) { kpis(locationId: $at, from: $from, to: $to) {
  stockoutRate sellThrough daysOfSupply shrinkRate gmroi inventoryAccuracy returnRate
  orderCycleHours onTimePickup unitsSold shrinkValue { amount } days { day unitsSold } } }"""


async def test_the_weekly_page_shows_what_kpis_answers_for_the_store(stack, dataset, tmp_path):
    node, store_ref, (sku,) = stocked_at_first_store(stack, dataset, 1)
    # A count this week, three short: shrink, and an open COUNT_VARIANCE for the store.
    # Five minutes ago, but not before today began: run in the first minutes of a Monday,
    # five minutes ago was last week, and the week asked for had no shrink.
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    when = max(now - timedelta(minutes=5), midnight).isoformat()
    counted = square_in_stock(stack.apps, sku, store_ref) - 3
    lines = [{"sku": sku, "counted": counted}]
    await ok(stack.gql, RECORD, at=node, lines=lines, when=when, key="week-1")
    await stack.drain()
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
    asked = {"at": node, "from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}
    answered = (await ok(stack.gql, KPIS, **asked))["kpis"]

    out = tmp_path / "week.html"
    said = io.StringIO()
    code = await weekly(node, week, out, Console(file=said), stack.settings())

    assert code == 0 and str(out) in said.getvalue()
    page = read(out.read_text(encoding="utf-8"))
    shown = {row[0]: row[1] for row in page.tables["kpis"]}
    for key, defined in DEFINITIONS.items():
        raw = answered[to_camel(key)]
        value = None if raw is None else Decimal(str(raw))
        assert shown[defined.label] == format_kpi(
            KpiFigure(key, defined.label, value, defined.unit, defined.definition)
        )
    cost = dataset.items[sku].valuation_rate
    assert Decimal(answered["shrinkValue"]["amount"]) == 3 * cost
    assert any(row[0] == sku and "COUNT_VARIANCE" in row[1] for row in page.tables["discrepancies"])
    assert page.tables["reorder"], "the store has SKUs below their reorder point"
    assert page.tags.count("svg") == 2
    # A week that is not one is refused, and nothing is written.
    assert (
        await weekly(node, "2026-W54", tmp_path / "x.html", Console(file=said), stack.settings())
        == 2
    )
    assert not (tmp_path / "x.html").exists()


def to_camel(key: str) -> str:
    first, *rest = key.split("_")
    return first + "".join(part.title() for part in rest)


HOLD = """mutation ($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) { id } }"""
CONFIRM = """mutation ($id: ID!, $key: String!) {
  confirmReservation(id: $id, idempotencyKey: $key) { id status } }"""


async def test_a_count_of_stock_erpnext_holds_for_an_order_lands_as_a_stock_entry(stack, dataset):
    warehouse = dataset.leaf_warehouses[0]
    node = dataset.node_ids()[0]
    sku = next(
        sku
        for sku in dataset.sellable_skus
        if sku not in dataset.kits
        and (figures := bin_of(stack, sku, warehouse.name)) is not None
        and figures[0] >= 10
        and figures[1] == 0
    )
    # Given 2 units confirmed for an order there (a Sales Order reserving them in ERPNext),
    line = {"lines": [{"sku": sku, "quantity": 2}], "locationId": node, "channel": "ONLINE"}
    held = (await ok(stack.gql, HOLD, input=line, key="hold-1"))["reserve"]["id"]
    await ok(stack.gql, CONFIRM, id=held, key="confirm-1")
    await stack.drain()
    before, reserved = erp_bin(stack.apps, sku, warehouse.name)
    assert reserved == 2
    # when a count an hour ago found 3 fewer than the book,
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    lines = [{"sku": sku, "counted": before - 3}]
    await ok(stack.gql, RECORD, at=node, lines=lines, when=when, key="w-2")
    await stack.drain()
    # then ERPNext, which will not reconcile reserved stock, has a Material Issue of 3 at
    # the count's time, and the order's units are still held.
    assert erp_bin(stack.apps, sku, warehouse.name) == (before - 3, 2)
    entries = stack.apps["erp"].state.store.table("Stock Entry").rows()
    (issue,) = [e for e in entries if e["stock_entry_type"] == "Material Issue"]
    assert issue["docstatus"] == 1 and issue["set_posting_time"] == 1
