"""The work a recorded webhook names, done after it was acknowledged:

    WooCommerce  order.*          that order imported or followed (gateway.services.orders)
                 product.*        the SKU's cached figures dropped
    Shopify      orders/*         the order it names (sourceIdentifier) checked against
                                  every system (gateway.governance.order_watch)
    ERPNext      Sales Order      the order it names (po_no) checked the same way
    others       the cached answers dropped (targeted handling comes with their parts)

Each event is marked processed with what was done; one that fails is left for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from gateway.domain import SourceSystem
from gateway.domain.events import WebhookEvent
from gateway.governance.order_watch import OrderWatch
from gateway.ports import Clock, UnitOfWorkFactory
from gateway.services.commands import OnChange
from gateway.services.orders.web_orders import WebOrderImporter

log = logging.getLogger(__name__)


class WebhookProcessor:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        web_orders: WebOrderImporter,
        order_watch: OrderWatch,
        on_change: OnChange,
        clock: Clock,
        *,
        batch: int = 50,
    ) -> None:
        self._uow = unit_of_work
        self._web_orders = web_orders
        self._order_watch = order_watch
        self._on_change = on_change
        self._clock = clock
        self._batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        async with self._uow() as uow:
            due = await uow.webhooks.due(self._batch)
        for event in due:
            try:
                outcome = await self._process(event)
            except Exception as error:  # left for the next run, and said
                log.warning("webhook event %s not processed yet: %s", event.id, error)
                continue
            assert event.id is not None
            async with self._uow() as uow:
                await uow.webhooks.mark_processed(event.id, self._clock.now(), outcome)
                await uow.commit()
        return len(due)

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        while True:
            try:
                done = await self.run_once()
            except Exception:
                log.exception("webhook processing round failed; retrying")
                done = 0
            if done == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle_seconds)

    async def _process(self, event: WebhookEvent) -> str:
        payload = json.loads(event.body)
        if event.system is SourceSystem.STOREFRONT and event.topic.startswith("order."):
            touched = await self._web_orders.sync_one(int(payload["id"]))
            return (
                f"web order {payload['id']}: {'imported or followed' if touched else 'as it was'}"
            )
        if event.system is SourceSystem.STOREFRONT and event.topic.startswith("product."):
            sku = str(payload.get("sku") or "")
            await self._on_change([sku] if sku else [])
            return f"cached figures of {sku or 'the listing'} dropped"
        order_id = _order_named(event, payload)
        if order_id:
            async with self._uow() as uow:
                known = await uow.orders.exists(order_id)
            if known:
                report = await self._order_watch.check(order_id)
                moved = "moved" if report.moved else "as it was"
                return f"order {order_id} checked against every system: {moved}"
        await self._on_change([])
        return "cached answers dropped"


def _order_named(event: WebhookEvent, payload: dict[str, Any]) -> str | None:
    """The gateway order a Shopify order or an ERPNext Sales Order event is about: the
    reference the gateway wrote there (a split order's Sales Orders carry order@node)."""
    if event.system is SourceSystem.OMS and event.topic.startswith("orders/"):
        reference = payload.get("source_identifier")
    elif event.system is SourceSystem.ERP and event.topic == "Sales Order":
        reference = payload.get("po_no")
    else:
        return None
    return str(reference).split("@")[0] if reference else None
