"""The work a recorded webhook names (gateway.events.meaning), done after it was
acknowledged, by whichever gateway process claims it:

    stock       Square counts, ERPNext Bin / Stock Ledger Entry / Item, WooCommerce product:
                the SKUs' cached figures dropped (in every process: gateway.events.bus), the
                change announced to subscribers, and those SKUs reconciled at once: drift is
                found and the storefront corrected without waiting for the periodic run
    web order   WooCommerce order.*: imported or followed (gateway.services.orders)
    order       Shopify orders/* and fulfillment_orders/*, ERPNext Sales Order: the gateway
                order checked against every system (gateway.governance.order_watch)

A batch's stock events are handled together: one SKU lookup, one cache drop and one
reconcile for all of them. An event whose work fails stays claimed until its lease runs
out and is then taken again; each is marked processed with what was done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from gateway.domain import Via
from gateway.domain.events import WebhookEvent
from gateway.events.meaning import Named, named_by
from gateway.governance.order_watch import OrderWatch
from gateway.ports import Clock, PosPort, UnitOfWorkFactory
from gateway.services.orders.web_orders import WebOrderImporter
from gateway.truth.reconciler import ReconcileReport

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=30)

StockHeard = Callable[[Sequence[str], Via], Awaitable[None]]
Reconcile = Callable[[Sequence[str]], Awaitable[ReconcileReport]]


class WebhookProcessor:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        web_orders: WebOrderImporter,
        order_watch: OrderWatch,
        pos: PosPort,
        stock_heard: StockHeard,
        reconcile: Reconcile,
        clock: Clock,
        *,
        batch: int = 100,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._uow = unit_of_work
        self._web_orders = web_orders
        self._order_watch = order_watch
        self._pos = pos
        self._stock_heard = stock_heard
        self._reconcile = reconcile
        self._clock = clock
        self._batch = batch
        self._lease = lease
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more: ``run_forever`` returns once the batch in hand is worked."""
        self._stopping = True
        self._wake.set()

    async def run_once(self) -> int:
        """Claim a batch and work it; how many events were claimed."""
        async with self._uow() as uow:
            claimed = await uow.webhooks.claim_due(
                now=self._clock.now(), lease=self._lease, limit=self._batch
            )
            await uow.commit()
        stock: list[tuple[WebhookEvent, Named]] = []
        for event in claimed:
            named = _named(event)
            if named.stock:
                stock.append((event, named))
                continue
            try:
                outcome = await self._order_work(named)
            except Exception as error:  # taken again when the lease runs out, and said
                log.warning("webhook event %s not processed yet: %s", event.id, error)
                continue
            await self._done([event], outcome)
        if stock:
            try:
                outcome = await self._stock_work([named for _, named in stock])
            except Exception as error:
                log.warning("%d stock webhook events not processed yet: %s", len(stock), error)
            else:
                await self._done([event for event, _ in stock], outcome)
        return len(claimed)

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        while not self._stopping:
            # Cleared before the claim, not after: an event recorded while the claim runs
            # wakes the next round at once instead of waiting out the idle time.
            self._wake.clear()
            try:
                done = await self.run_once()
            except Exception:
                log.exception("webhook processing round failed; retrying")
                done = 0
            if done == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle_seconds)

    async def _done(self, events: Sequence[WebhookEvent], outcome: str) -> None:
        at = self._clock.now()
        async with self._uow() as uow:
            for event in events:
                assert event.id is not None
                await uow.webhooks.mark_processed(event.id, at, outcome)
            await uow.commit()

    async def _stock_work(self, named: Sequence[Named]) -> str:
        skus = {sku for n in named for sku in n.skus}
        variations = sorted({v for n in named for v in n.square_variations})
        if variations:
            skus.update((await self._pos.skus_of_variations(variations)).values())
        catalogue = any(n.catalogue for n in named)
        wanted = sorted(skus)
        await self._stock_heard(wanted, Via.WEBHOOK)
        if not wanted:
            return "cached answers dropped" if catalogue else "names nothing the gateway keeps"
        report = await self._reconcile(wanted)
        found = sum(report.findings.values())
        return f"{len(wanted)} SKUs refreshed and reconciled: {found} findings"

    async def _order_work(self, named: Named) -> str:
        if named.web_order is not None:
            touched = await self._web_orders.sync_one(named.web_order)
            state = "imported or followed" if touched else "as it was"
            return f"web order {named.web_order}: {state}"
        order_id = await self._gateway_order(named)
        if order_id is None:
            return "names no gateway order"
        report = await self._order_watch.check(order_id)
        moved = "moved" if report.moved else "as it was"
        return f"order {order_id} checked against every system: {moved}"

    async def _gateway_order(self, named: Named) -> str | None:
        async with self._uow(read_only=True) as uow:
            if named.order is not None and await uow.orders.exists(named.order):
                return named.order
            if named.oms_order is not None:
                return await uow.orders.find_by_oms_order(named.oms_order)
        return None


def _named(event: WebhookEvent) -> Named:
    try:
        payload = json.loads(event.body)
    except ValueError:
        return Named()
    return named_by(event.system, event.topic, payload) if isinstance(payload, dict) else Named()
