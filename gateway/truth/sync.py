"""The storefront follows the gateway's own changes, so the gateway never makes drift.

Every hold, order, cancellation, expiry and restock changes the ONLINE figure of its SKUs.
Each change notes its SKUs here (in this process); ``flush`` (the background loop, about
once a second) reads the noted SKUs' ONLINE figures and listings together, a hundred at a
time, and owes the storefront a ``SetWebStock`` push for each listing that shows something
else, compare-before-set like any push. Notes are coalesced: a SKU held a hundred times in
a second is read and pushed once. A note lost with its process is caught by the next
reconcile.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence

from gateway.config import TruthSettings
from gateway.domain import Channel, WebListing
from gateway.domain.outbox import SetWebStock, WebStockItem
from gateway.ports import Clock, StorefrontPort, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService
from gateway.truth.rules import expected_web_quantity

BATCH = 100


def sync_item(
    sku: str,
    listing: WebListing,
    online_available: int,
    kit: bool,
    policy: TruthSettings,
) -> WebStockItem | None:
    """The push that brings one listing to the truth; None when it shows it already. Only
    stock figures follow the gateway's changes; backorders are the reconciler's to flag."""
    expected = expected_web_quantity(online_available, policy.web_stock_buffer)
    if listing.manage_stock and not kit:
        if listing.stock_quantity == expected:
            return None
        quantity, status = expected, None
    else:
        wanted = "instock" if expected > 0 else "outofstock"
        if listing.stock_status == wanted:
            return None
        quantity, status = None, wanted
    return WebStockItem(
        sku=sku,
        product_id=listing.product_id,
        variation_id=listing.variation_id,
        quantity=quantity,
        stock_status=status,
        seen_quantity=listing.stock_quantity,
        seen_status=listing.stock_status,
        seen_backorders=listing.backorders,
    )


class StorefrontSync:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        web: StorefrontPort,
        availability: AvailabilityService,
        clock: Clock,
        policy: TruthSettings,
        wake_worker: Callable[[], None],
    ) -> None:
        self._uow = unit_of_work
        self._web = web
        self._availability = availability
        self._clock = clock
        self._policy = policy
        self._wake = wake_worker
        self._noted: set[str] = set()

    def note(self, skus: Iterable[str]) -> None:
        self._noted.update(skus)

    async def flush(self) -> int:
        """Push what the noted SKUs' listings are owed; how many listings that was."""
        if not self._noted:
            return 0
        skus, self._noted = sorted(self._noted), set()
        owed = 0
        try:
            for start in range(0, len(skus), BATCH):
                owed += await self._sync(skus[start : start + BATCH])
        except Exception:
            self._noted.update(skus)  # tried again at the next flush
            raise
        if owed:
            self._wake()
        return owed

    async def _sync(self, skus: Sequence[str]) -> int:
        online = await self._availability.channel_totals(skus, Channel.ONLINE)
        kits = await self._availability.kits(skus)
        listings = await self._web.listings_by_sku(skus)
        items = []
        for sku in skus:
            listing = listings.get(sku)
            if listing is None:
                continue
            available = online[sku].available if sku in online else 0
            item = sync_item(sku, listing, available, sku in kits, self._policy)
            if item is not None:
                items.append(item)
        if not items:
            return 0
        reference = f"web-stock:{secrets.token_hex(8)}"
        message = SetWebStock(
            ordering_key=reference, reference=reference, reason="sync", items=tuple(items)
        )
        async with self._uow() as uow:
            await uow.outbox.add([message], self._clock.now())
            await uow.commit()
        return len(items)
