"""The demo's store-operations flow (``--check``): a cycle count recorded two hours after it
was taken corrects Square without losing the till sale rung up in between; a picker finds
one shoe of two, the customer accepts the substitute offered, and the gateway's order,
Square and Shopify all follow; the store's weekly page is written with its KPIs."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.square import SquareAdapter, build_square_client
from gateway.config import Settings
from gateway.reports import render
from sandbox.demo import (
    DELIVERIES,
    FLOW_SKU,
    FLOW_STORE,
    PLACE,
    FlowFailed,
    Summary,
    _data,
    _settled,
)
from sandbox.retailer import Dataset

SHORT_PICK = """mutation ($id: ID!, $sku: String!, $found: Int!, $key: String!) {
  reportShortPick(orderId: $id, sku: $sku, found: $found, idempotencyKey: $key) {
    outcome substitution { id offered } } }"""
ANSWER = """mutation ($id: ID!, $sku: String, $key: String!) {
  respondToSubstitution(id: $id, substituteSku: $sku, idempotencyKey: $key) { status chosen } }"""
ORDER_LINES = """query ($id: ID!) { order(id: $id) { lines { sku quantity } } }"""
RECORD = """mutation ($at: ID!, $lines: [CountLineInput!]!, $when: DateTime!, $key: String!) {
  recordCount(locationId: $at, lines: $lines, countedAt: $when, countedBy: "demo",
              idempotencyKey: $key) {
    id lines { sku outcome bookAtCount variance correctedTo value { amount currency } } } }"""


async def store_ops_flow(
    url: str, gateway: Any, settings: Settings, dataset: Dataset, shopify_app: Any
) -> Summary:
    summary = Summary()
    node = dataset.node_ids()[len(dataset.leaf_warehouses)]  # the first store
    store_ref = dataset.stores[0].id
    try:
        async with build_square_client(settings) as client:
            till = SquareAdapter(client)
            sku, before = await _stocked(till, dataset, store_ref)
            now = datetime.now(UTC)
            await till.record_sale(
                "demo-till-after-count", sku, store_ref, 1, now - timedelta(hours=1)
            )
            counted = before - 2
            answer = await _data(
                url,
                RECORD,
                at=node,
                lines=[{"sku": sku, "counted": counted}],
                when=(now - timedelta(hours=2)).isoformat(),
                key="demo-count-1",
            )
            (line,) = answer["recordCount"]["lines"]
            summary.say(
                f"count at {node} 2 h ago   -> {sku}: {counted} counted, book then "
                f"{line['bookAtCount']} (the till sale since left out), variance "
                f"{line['variance']} ({line['value']['amount']} {line['value']['currency']}), "
                f"{line['outcome']}"
            )
            summary.ok &= line["bookAtCount"] == before and line["variance"] == -2
            now_there = await _square_settles(till, sku, store_ref, counted - 1)
            summary.say(
                f"Square after the count    -> IN_STOCK {now_there} (= {counted} counted less "
                "the 1 sold after it)"
            )
            summary.ok &= now_there == counted - 1
        await _substituted(url, gateway, shopify_app, summary)
        monday = now.date() - timedelta(days=now.date().weekday())
        week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
        report = await gateway.state.services.weekly_reports.of(node, week)
        page = Path(tempfile.gettempdir()) / f"report-{node}-{week}.html"
        page.write_text(render(report), encoding="utf-8")
        figures = ", ".join(
            f"{k.label} {'n/a' if k.value is None else k.value}" for k in report.kpis[:4]
        )
        summary.say(f"weekly page {page}  -> {figures}, ...")
        summary.ok &= len(report.kpis) == 9 and page.stat().st_size > 0
    except FlowFailed as error:
        summary.ok = False
        summary.say(f"failed: {error}")
    return summary


async def _substituted(url: str, gateway: Any, shopify_app: Any, summary: Summary) -> None:
    """A pickup order of two shoes; the picker finds one; the customer takes the first
    substitute offered."""
    placed = (
        await _data(
            url,
            PLACE,
            input={
                "lines": [{"sku": FLOW_SKU, "quantity": 2}],
                "channel": "PICKUP",
                "customer": {"email": "demo@example.org", "name": "Demo Customer"},
                "pickup": {"locationId": FLOW_STORE},
            },
            key="demo-short-pick-place",
        )
    )["placeOrder"]
    await _settled(url, placed["id"])
    short = (
        await _data(url, SHORT_PICK, id=placed["id"], sku=FLOW_SKU, found=1, key="demo-short")
    )["reportShortPick"]
    offer = short["substitution"] or {}
    offered = offer.get("offered") or []
    summary.say(f"short pick {placed['id']} -> 1 of 2 {FLOW_SKU} found: offered {offered}")
    if short["outcome"] != "SUBSTITUTES_OFFERED" or not offered:
        raise FlowFailed(f"no substitute offered: {short}")
    answer = (await _data(url, ANSWER, id=offer["id"], sku=offered[0], key="demo-short-answer"))[
        "respondToSubstitution"
    ]
    await _settled(url, placed["id"])
    lines = (await _data(url, ORDER_LINES, id=placed["id"]))["order"]["lines"]
    ours = sorted((x["sku"], x["quantity"]) for x in lines)
    (shopify,) = [
        o for o in shopify_app.state.shop.orders.values() if o.source_identifier == placed["id"]
    ]
    theirs = sorted((x.sku, x.current_quantity) for x in shopify.line_items if x.current_quantity)
    summary.say(
        f"customer takes {answer['chosen']} -> gateway {ours}, Shopify {theirs} "
        f"({answer['status']})"
    )
    right = ours == theirs == sorted([(FLOW_SKU, 1), (offered[0], 1)])
    if not right:
        owed = (await _data(url, DELIVERIES, id=placed["id"]))["orderDeliveries"]
        summary.say(f"writes owed for {placed['id']}: {owed}")
    summary.ok &= right


async def _square_settles(till: SquareAdapter, sku: str, store_ref: str, expected: int) -> int:
    """IN_STOCK once the background worker has delivered the count (within 20 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        (reading,) = await till.stock([sku], [store_ref])
        now_there = reading.on_hand - reading.reserved
        if now_there == expected or loop.time() > deadline:
            return now_there
        await asyncio.sleep(0.1)


async def _stocked(till: SquareAdapter, dataset: Dataset, store_ref: str) -> tuple[str, int]:
    """A SKU the store has 10 or more of on sale, and how many."""
    candidates = [sku for sku in dataset.sellable_skus if sku not in dataset.kits][:100]
    for reading in await till.stock(candidates, [store_ref]):
        if reading.on_hand - reading.reserved >= 10:
            return reading.sku, reading.on_hand - reading.reserved
    raise FlowFailed(f"nothing at {store_ref} has 10 on sale")
