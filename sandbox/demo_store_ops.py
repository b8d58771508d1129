"""The demo's store-operations flow (``--check``): a cycle count recorded two hours after it
was taken corrects Square without losing the till sale rung up in between, and the store's
weekly page is written with its KPIs."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.square import SquareAdapter, build_square_client
from gateway.config import Settings
from gateway.reports import render
from sandbox.demo import FlowFailed, Summary, _data
from sandbox.retailer import Dataset

RECORD = """mutation ($at: ID!, $lines: [CountLineInput!]!, $when: DateTime!, $key: String!) {
  recordCount(locationId: $at, lines: $lines, countedAt: $when, countedBy: "demo",
              idempotencyKey: $key) {
    id lines { sku outcome bookAtCount variance correctedTo value { amount currency } } } }"""


async def store_ops_flow(url: str, gateway: Any, settings: Settings, dataset: Dataset) -> Summary:
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
            await gateway.state.services.worker.drain()
            (reading,) = await till.stock([sku], [store_ref])
            now_there = reading.on_hand - reading.reserved
            summary.say(
                f"Square after the count    -> IN_STOCK {now_there} (= {counted} counted less "
                "the 1 sold after it)"
            )
            summary.ok &= now_there == counted - 1
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


async def _stocked(till: SquareAdapter, dataset: Dataset, store_ref: str) -> tuple[str, int]:
    """A SKU the store has 10 or more of on sale, and how many."""
    candidates = [sku for sku in dataset.sellable_skus if sku not in dataset.kits][:100]
    for reading in await till.stock(candidates, [store_ref]):
        if reading.on_hand - reading.reserved >= 10:
            return reading.sku, reading.on_hand - reading.reserved
    raise FlowFailed(f"nothing at {store_ref} has 10 on sale")
