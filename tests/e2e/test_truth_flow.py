"""One truth for stock over the four simulators: the seeded drift is found, classified and
owned; enforcement corrects the storefront and the records close by themselves; the
gateway's own orders make no drift; a price edited in WooCommerce is on the audit trail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from woocommerce import API

from gateway.config import TruthSettings
from tests.e2e.support import PLACE, SOCKS, Stack, error_of, gateway, ok, order_input, place
from tests.square_support import raw_client

RECONCILE = """mutation ($skus: [String!]!) { reconcileNow(skus: $skus) {
  skus opened autoResolved pushed findings { kind count } } }"""
QUEUE = """query ($filter: DiscrepancyFilter, $after: String) {
  discrepancies(first: 100, filter: $filter, after: $after) {
    edges { node { id kind severity sku system systems owner dueAt openedAt status delta rule
                   truth { system value } copy { system value }
                   history { action actor status note } } }
    pageInfo { hasNextPage endCursor } } }"""
ONE = """query ($id: ID!) { discrepancy(id: $id) { id status owner history { action actor note } } }"""
SUMMARY = (
    """{ discrepancySummary { open overdue byKind { kind count } byOwner { owner count } } }"""
)
AVAILABILITY = """query ($skus: [String!]!) { availability(skus: $skus, channel: ONLINE) {
  sku totalAvailable confidence openDiscrepancyId } }"""
TRAIL = """query ($sku: String!, $kinds: [AuditKind!]) { auditTrail(sku: $sku, kinds: $kinds) {
  edges { node { kind system actor field before after reference } } } }"""
WEB = (
    """query ($sku: String!) { product(sku: $sku) { webListing { stockQuantity stockStatus } } }"""
)
SLA_HOURS = {"CRITICAL": 1, "HIGH": 4, "MEDIUM": 24, "LOW": 72}


async def everything(stack: Stack, dataset) -> dict[str, Any]:
    skus = list(dataset.sellable_skus)
    return (await ok(stack.gql, RECONCILE, skus=skus))["reconcileNow"]


async def queue(stack: Stack, **filter: Any) -> list[dict[str, Any]]:
    found, after = [], None
    while True:
        page = (await ok(stack.gql, QUEUE, filter=filter, after=after))["discrepancies"]
        found += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def web_stock(stack: Stack, sku: str) -> int | None:
    return (await ok(stack.gql, WEB, sku=sku))["product"]["webListing"]["stockQuantity"]


async def test_the_seeded_drift_is_found_owned_enforced_and_closes_by_itself(stack, dataset):
    # Given the sample retailer's storefront, whose stock drifts on 30 known SKUs
    report = await everything(stack, dataset)
    # When a reconcile compares every listing with the ONLINE available-to-promise,
    stock = await queue(stack, kind=None)
    drift = {d["sku"]: d for d in stock if d["kind"] in ("OVERSELL_RISK", "LOST_SALES")}
    # then exactly the drifting SKUs are open, each classified by which way it drifts,
    assert set(drift) == set(dataset.drift_skus)
    for sku, d in drift.items():
        truth, shown = dataset.online_sellable(sku), dataset.web_stock(sku)
        assert d["kind"] == ("OVERSELL_RISK" if shown > truth else "LOST_SALES")
        assert (d["truth"]["value"], d["copy"]["value"]) == (str(truth), str(shown))
        assert d["delta"] == shown - truth and d["systems"] == ["GATEWAY", "STOREFRONT"]
        # owned, due by the severity's SLA, and pushed the truth (enforced by policy).
        assert d["owner"] == "ecommerce" and d["status"] == "OPEN"
        opened, due = (datetime.fromisoformat(d[k]) for k in ("openedAt", "dueAt"))
        assert (due - opened).total_seconds() == SLA_HOURS[d["severity"]] * 3600
        assert [h["action"] for h in d["history"]] == ["OPENED", "ENFORCED"]
    assert {f["kind"]: f["count"] for f in report["findings"]}["OVERSELL_RISK"] == sum(
        d["kind"] == "OVERSELL_RISK" for d in drift.values()
    )
    # A SKU the storefront oversells is served with LOW confidence and the record's id.
    oversold = next(sku for sku, d in drift.items() if d["kind"] == "OVERSELL_RISK")
    [row] = (await ok(stack.gql, AVAILABILITY, skus=[oversold]))["availability"]
    assert (row["confidence"], row["openDiscrepancyId"]) == ("LOW", drift[oversold]["id"])

    # When the outbox delivers the pushes,
    await stack.drain()
    # then WooCommerce shows the truth for every drifting SKU,
    for sku in drift:
        assert await web_stock(stack, sku) == dataset.online_sellable(sku)
    # every stock record closed by itself after the push was read back,
    closed = await queue(stack, status=["AUTO_RESOLVED"])
    assert {d["sku"] for d in closed} >= set(drift)
    sample = next(d for d in closed if d["sku"] == oversold)
    assert [h["action"] for h in sample["history"]][-2:] == ["ENFORCED", "AUTO_RESOLVED"]
    # the push is on the audit trail,
    trail = await ok(stack.gql, TRAIL, sku=oversold, kinds=["STOREFRONT_STOCK_SET"])
    [pushed] = [e["node"] for e in trail["auditTrail"]["edges"]]
    # made for the caller who asked for the reconcile (the suite's staff token),
    assert (pushed["actor"], pushed["system"]) == ("jwt:test-suite", "STOREFRONT")
    assert pushed["after"].startswith(f"{dataset.online_sellable(oversold)} ")
    # and confidence is back to HIGH; a second reconcile finds nothing about stock.
    [row] = (await ok(stack.gql, AVAILABILITY, skus=[oversold]))["availability"]
    assert row["confidence"] == "HIGH"
    again = await everything(stack, dataset)
    assert again["opened"] == 0 and again["pushed"] == 0


async def test_a_gateway_order_leaves_no_new_drift(stack, dataset):
    # Given a SKU whose storefront stock agrees with the truth
    sku = SOCKS
    await everything(stack, dataset)
    await stack.drain()
    before = await web_stock(stack, sku)
    assert before == dataset.online_sellable(sku)
    # When the gateway takes an order for 2 of them and the sources record it,
    await place(stack, "truth-order-1", email="ann@example.com", lines=[(sku, 2)])
    await stack.drain()
    # and the storefront sync pushes what changed (its loop does this about every second),
    assert await stack.services.storefront_sync.flush() == 1
    await stack.drain()
    # then the storefront shows 2 fewer, and a reconcile finds nothing to open.
    assert await web_stock(stack, sku) == before - 2
    report = (await ok(stack.gql, RECONCILE, skus=[sku]))["reconcileNow"]
    assert (report["opened"], report["pushed"]) == (0, 0)
    assert await queue(stack, sku=sku) == []


async def test_a_price_edited_in_woocommerce_is_audited_and_a_big_jump_flagged(stack, dataset):
    # Given a product whose price the gateway has read once
    product = next(p for p in dataset.web_products.values() if p.type == "simple" and p.sku)
    await ok(stack.gql, RECONCILE, skus=[product.sku])
    # When someone edits it in WooCommerce to a twentieth of it,
    new_price = (product.regular_price / 20).quantize(Decimal("0.01"))
    settings = stack.settings()
    woo = API(
        url=settings.woo_base_url,
        consumer_key=settings.woo_consumer_key,
        consumer_secret=settings.woo_consumer_secret,
        version="wc/v3",
        timeout=10,
    )
    response = await asyncio.to_thread(
        woo.put, f"products/{product.id}", {"regular_price": str(new_price), "sale_price": ""}
    )
    assert response.status_code == 200, response.text
    # then the next reconcile puts the change on the audit trail, with who made it,
    await ok(stack.gql, RECONCILE, skus=[product.sku])
    trail = await ok(stack.gql, TRAIL, sku=product.sku, kinds=["PRICE_CHANGED"])
    [change] = [e["node"] for e in trail["auditTrail"]["edges"]]
    assert (change["system"], change["actor"], change["field"]) == (
        "STOREFRONT",
        "woocommerce",
        "price",
    )
    assert Decimal(change["after"]) == new_price
    # and flags the jump for merchandising (not wrong by itself, but worth a look).
    [jump] = await queue(stack, kind="PRICE_CHANGED")
    assert (jump["sku"], jump["owner"], jump["severity"]) == (product.sku, "merchandising", "HIGH")
    assert "-95 %" in jump["rule"]


async def test_a_reconcile_right_after_the_gateways_own_sale_finds_it_on_its_way(stack, dataset):
    # Given a gateway that counts nothing it changed as in flight by time alone (no grace),
    sku = SOCKS
    await everything(stack, dataset)
    await stack.drain()
    async with stack.another_gateway(truth=TruthSettings(grace_seconds=0)) as other:
        services = other.app.state.services
        # when it sells 2 and its storefront sync has not pushed the new figure yet,
        placed = await ok(other, PLACE, input=order_input("eve@example.com", [(sku, 2)]), key="own")
        assert placed["placeOrder"]["status"]
        await services.worker.drain()
        # then a reconcile queues that push first and finds no drift in the lag,
        report = (await ok(other, RECONCILE, skus=[sku]))["reconcileNow"]
        assert report["opened"] == 0
        stock = [d for d in await queue(stack) if d["sku"] == sku and d["status"] == "OPEN"]
        assert stock == []
        # and once the push is delivered the storefront shows the sale.
        await services.worker.drain()
        assert await web_stock(stack, sku) == dataset.online_sellable(sku) - 2


async def test_an_owner_acknowledges_reassigns_and_resolves_a_discrepancy(stack, dataset):
    await everything(stack, dataset)
    [record, *_] = await queue(stack, kind="STATUS_MISMATCH")
    ack = """mutation ($id: ID!) { acknowledgeDiscrepancy(id: $id, idempotencyKey: "ack-1",
      note: "looking") { status } }"""
    assign = """mutation ($id: ID!) { assignDiscrepancy(id: $id, owner: "web-team",
      idempotencyKey: "assign-1") { owner } }"""
    resolve = """mutation ($id: ID!) { resolveDiscrepancy(id: $id, resolution: ACCEPTED,
      idempotencyKey: "resolve-1", note: "backorders are fine here") { status resolution } }"""
    assert (await ok(stack.gql, ack, id=record["id"]))["acknowledgeDiscrepancy"]["status"] == (
        "ACKNOWLEDGED"
    )
    assert (await ok(stack.gql, assign, id=record["id"]))["assignDiscrepancy"]["owner"] == (
        "web-team"
    )
    resolved = (await ok(stack.gql, resolve, id=record["id"]))["resolveDiscrepancy"]
    assert resolved == {"status": "RESOLVED", "resolution": "ACCEPTED"}
    # A retry with the same key is answered, not applied twice; a closed record takes no
    # other change.
    assert (await ok(stack.gql, resolve, id=record["id"]))["resolveDiscrepancy"] == resolved
    refused = await error_of(stack.gql, ack.replace("ack-1", "ack-2"), id=record["id"])
    assert refused["code"] == "ILLEGAL_TRANSITION"
    history = (await ok(stack.gql, ONE, id=record["id"]))["discrepancy"]["history"]
    assert [(h["action"], h["actor"]) for h in history][-3:] == [
        ("ACKNOWLEDGED", "jwt:test-suite"),
        ("ASSIGNED", "jwt:test-suite"),
        ("RESOLVED", "jwt:test-suite"),
    ]
    summary = (await ok(stack.gql, SUMMARY))["discrepancySummary"]
    assert summary["open"] == len(await queue(stack))


async def test_the_policy_is_readable_and_bad_questions_get_codes(stack):
    document = (
        "{ sourceOfTruth { authorities { figure nodeType system } "
        "copies { system figure buffer enforcement { kind enforcement } } } }"
    )
    authorities = (await ok(stack.gql, document))["sourceOfTruth"]["authorities"]
    stock = {(a["nodeType"], a["system"]) for a in authorities if a["figure"] == "stock"}
    assert stock == {("WAREHOUSE", "ERP"), ("STORE", "POS")}
    assert (await error_of(stack.gql, RECONCILE, skus=[]))["code"] == "BAD_USER_INPUT"
    missing = await error_of(stack.gql, ONE, id="dsc_nope")
    assert missing["code"] == "NOT_FOUND"


async def test_on_postgresql_too_the_drift_is_found_enforced_and_closed(dataset, tmp_path, pg_url):
    async with gateway(dataset, tmp_path, database_url=pg_url) as stack:
        report = await everything(stack, dataset)
        drift = {
            d["sku"] for d in await queue(stack) if d["kind"] in ("OVERSELL_RISK", "LOST_SALES")
        }
        assert drift == set(dataset.drift_skus) and report["opened"] >= len(drift)
        await stack.drain()
        assert not [d for d in await queue(stack) if d["kind"] in ("OVERSELL_RISK", "LOST_SALES")]
        for sku in sorted(drift)[:5]:
            assert await web_stock(stack, sku) == dataset.online_sellable(sku)


async def test_a_till_sale_between_full_reconciles_shows_in_the_next(stack, dataset):
    # A full reconcile keeps the stores' counts and, the next time, asks Square only what
    # changed: a sale rung up at a ship-from-store till must still lower the ONLINE truth.
    shipping = [s for s in dataset.stores if s.ship_from_store and s.status == "ACTIVE"]
    sku, store = next(
        (sku, store)
        for sku in dataset.stock_skus
        if sku not in dataset.drift_skus and sku not in dataset.kits
        for store in shipping
        if (dataset.store_count(sku, store.id) or {}).get("IN_STOCK", 0) >= 3
    )
    await stack.services.reconciler.run()
    await stack.drain()
    assert not [d for d in await queue(stack, sku=sku) if d["kind"] == "OVERSELL_RISK"]
    counts = stack.apps["square"].state.calls["POST /v2/inventory/counts/batch-retrieve"]

    simulator = stack.apps["square"].state.simulator
    (vid,) = [v for v, item in simulator.catalog.variations.items() if item.sku == sku]
    sale = {
        "idempotency_key": f"till-{sku}",
        "changes": [
            {
                "type": "ADJUSTMENT",
                "adjustment": {
                    "catalog_object_id": vid,
                    "from_state": "IN_STOCK",
                    "to_state": "SOLD",
                    "location_id": store.id,
                    "quantity": "2",
                    "occurred_at": datetime.now(UTC).isoformat(),
                },
            }
        ],
    }
    async with raw_client(stack.apps["square"]) as till:
        assert (await till.post("/v2/inventory/changes/batch-create", json=sale)).is_success
    report = await stack.services.reconciler.run()

    [risk] = [d for d in await queue(stack, sku=sku) if d["kind"] == "OVERSELL_RISK"]
    assert risk["delta"] == 2
    # One look for what changed and one full read of that SKU, not every count again.
    calls = stack.apps["square"].state.calls["POST /v2/inventory/counts/batch-retrieve"]
    assert calls - counts <= 3
    assert report.skus == len(dataset.sellable_skus)


CAPPED_ROWS = """query ($sku: String!) { product(sku: $sku) { availability(channel: ONLINE) {
  confidence locations { location { id type } availableToPromise safetyStock } } } }"""
RESERVE = """mutation ($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) { id status } }"""


def hold_input(sku: str, location_id: str, quantity: int) -> dict[str, Any]:
    return {
        "lines": [{"sku": sku, "quantity": quantity}],
        "locationId": location_id,
        "channel": "ONLINE",
    }


async def test_a_promise_cap_holds_an_oversold_sku_to_it_until_the_record_closes(dataset, tmp_path):
    async with gateway(dataset, tmp_path, truth={"oversell_risk_promise_cap": 2}) as stack:
        policy = await ok(stack.gql, "{ sourceOfTruth { oversellRiskPromiseCap } }")
        assert policy["sourceOfTruth"]["oversellRiskPromiseCap"] == 2

        async def online_rows(sku: str) -> tuple[str, dict[str, dict[str, Any]]]:
            found = (await ok(stack.gql, CAPPED_ROWS, sku=sku))["product"]["availability"]
            return found["confidence"], {r["location"]["id"]: r for r in found["locations"]}

        # Given a SKU the storefront oversells, with a warehouse that has more than 2 to give
        async def roomy_warehouse(sku: str) -> str | None:
            _, rows = await online_rows(sku)
            for node, row in rows.items():
                if row["location"]["type"] == "WAREHOUSE" and row["availableToPromise"] > 3:
                    return node
            return None

        oversold = [
            s for s in dataset.drift_skus if dataset.web_stock(s) > dataset.online_sellable(s)
        ]
        roomy = [(s, n) for s in oversold if (n := await roomy_warehouse(s)) is not None]
        sku, node = roomy[0]
        uncapped = (await online_rows(sku))[1][node]["availableToPromise"]
        # When a reconcile opens its OVERSELL_RISK,
        await ok(stack.gql, RECONCILE, skus=[sku])
        confidence, rows = await online_rows(sku)
        # then no node offers more than the cap, and what it keeps back says so;
        assert confidence == "LOW"
        assert all(r["availableToPromise"] <= 2 for r in rows.values())
        assert rows[node]["availableToPromise"] == 2 and rows[node]["safetyStock"] > 0
        # holds count against the cap: 2 are promised, a third is refused with its code.
        held = await ok(stack.gql, RESERVE, input=hold_input(sku, node, 2), key="cap-1")
        assert held["reserve"]["status"] == "ACTIVE"
        refused = await error_of(stack.gql, RESERVE, input=hold_input(sku, node, 1), key="cap-2")
        assert refused["code"] == "INSUFFICIENT_STOCK"
        # Once the storefront is corrected and the record closes, the cap is lifted.
        await stack.drain()
        confidence, rows = await online_rows(sku)
        assert confidence == "HIGH"
        assert rows[node]["availableToPromise"] == uncapped - 2
