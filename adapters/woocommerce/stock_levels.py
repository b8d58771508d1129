"""Many listings' stock fields in a few calls (StorefrontPort.set_stock_levels).

Simple products go to ``POST products/batch``; variations to
``POST products/<parent>/variations/batch``, one group per parent. A group of more than 100
updates is split, since WooCommerce answers 413 above that. Up to ``CONCURRENT_CALLS`` calls
are in flight at once; the answers come back in the order of the updates, one per update.

Every item carries absolute values (``stock_quantity``, ``stock_status``, ``backorders``), so
the connection may send a call again when its answer was lost: the repeat changes nothing.
Only the calls' order is not fixed, so a listing named twice among more than 100 updates of
one group may end with either update's values.

WooCommerce answers a batch with 200 even when items fail, one result per item in the order
sent: a failed item is ``{id, error: {code, message, data}}`` and becomes that update's
error; the others are the saved product or variation. A whole call that fails (401, 413, a
5xx after the retries) raises its typed error, after the other calls have finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.woocommerce.connection import (
    BACKEND,
    WooCommerceConnection,
    decode,
    error_message,
    integer,
)
from adapters.woocommerce.listings import to_listing
from gateway.domain import WebStockUpdate, WebStockWritten
from gateway.errors import BackendError

BATCH_LIMIT = 100  # items per batch call (filter woocommerce_rest_batch_items_limit)
CONCURRENT_CALLS = 4  # each item of a batch is a full product save in PHP: keep the site usable


@dataclass(frozen=True, slots=True)
class BatchCall:
    """One batch request: its path and the positions (in the caller's list) it writes."""

    path: str
    positions: tuple[int, ...]


def plan_calls(updates: Sequence[WebStockUpdate]) -> list[BatchCall]:
    """Simple products together, variations per parent, at most BATCH_LIMIT per call."""
    groups: dict[int | None, list[int]] = {}
    for position, update in enumerate(updates):
        parent = None if update.variation_id is None else update.product_id
        groups.setdefault(parent, []).append(position)
    calls: list[BatchCall] = []
    for parent, positions in groups.items():
        path = "products/batch" if parent is None else f"products/{parent}/variations/batch"
        for start in range(0, len(positions), BATCH_LIMIT):
            calls.append(BatchCall(path, tuple(positions[start : start + BATCH_LIMIT])))
    return calls


def update_item(update: WebStockUpdate) -> dict[str, Any]:
    """One ``update`` entry: the listing's own id and only the fields the update sets."""
    item: dict[str, Any] = {
        "id": update.product_id if update.variation_id is None else update.variation_id
    }
    if update.quantity is not None:
        item["manage_stock"] = True
        item["stock_quantity"] = update.quantity
    if update.stock_status is not None:
        item["stock_status"] = update.stock_status
    if update.backorders is not None:
        item["backorders"] = update.backorders
    return item


class WebStockLevels:
    def __init__(self, connection: WooCommerceConnection) -> None:
        self._connection = connection

    async def set_stock_levels(self, updates: Sequence[WebStockUpdate]) -> list[WebStockWritten]:
        calls = plan_calls(updates)
        gate = asyncio.Semaphore(CONCURRENT_CALLS)

        async def run(call: BatchCall) -> list[WebStockWritten]:
            async with gate:
                return await self._send(call.path, [updates[p] for p in call.positions])

        # Every call runs to its end before an error is raised: none is left writing after
        # the caller has been told the batch failed.
        answers = await asyncio.gather(*(run(call) for call in calls), return_exceptions=True)
        written: dict[int, WebStockWritten] = {}
        for call, answer in zip(calls, answers, strict=True):
            if isinstance(answer, BaseException):
                raise answer
            written.update(zip(call.positions, answer, strict=True))
        return [written[position] for position in range(len(updates))]

    async def _send(self, path: str, updates: Sequence[WebStockUpdate]) -> list[WebStockWritten]:
        items = [update_item(u) for u in updates]
        client = self._connection.client
        response = await self._connection.send(lambda: client.post(path, json={"update": items}))
        answered = decode(response, dict).get("update")
        if not _one_per_item(answered, items):
            raise BackendError(
                f"WooCommerce answered {path} without one result per item, in order",
                backend=BACKEND,
                status=response.status_code,
            )
        return [self._written(u, a) for u, a in zip(updates, answered, strict=True)]

    def _written(self, update: WebStockUpdate, answer: Mapping[str, Any]) -> WebStockWritten:
        error = answer.get("error")
        if isinstance(error, dict):
            data = error.get("data")
            status = integer(data.get("status")) if isinstance(data, dict) else None
            message = error_message(error, status or 400)
            return WebStockWritten(update.sku, None, error=f"{error.get('code')}: {message}")
        # The variations endpoint answers without parent_id and name: the parent is the
        # product the update named; the name stays as answered (empty).
        parent_id = None if update.variation_id is None else update.product_id
        listing = to_listing(answer, self._connection.currency, parent_id=parent_id)
        return WebStockWritten(update.sku, listing)


def _one_per_item(answered: Any, items: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a batch answer has one result per item sent, in the same order."""
    return (
        isinstance(answered, list)
        and len(answered) == len(items)
        and all(
            isinstance(answer, dict) and integer(answer.get("id")) == item["id"]
            for answer, item in zip(answered, items, strict=True)
        )
    )
