"""``SquareAdapter``: the POS port (locations, store prices, store stock) and the POS stock
writes port over Square's Locations, Catalog and Inventory APIs.

Call budget. ``stock`` searches the catalog only for SKUs whose variation id it has not
seen (one search per 100 SKUs), then reads all counts in one batch-retrieve per 1,000
variations: a page of 50 SKUs costs at most one search plus one counts call. A write costs
one batch-create, plus a search when the SKU is not remembered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import httpx

from adapters.resilience.policy import BackendPolicy
from adapters.square.api import SquareApi
from adapters.square.catalog import SquareCatalog
from adapters.square.inventory import (
    read_changes,
    read_movements,
    read_sales,
    read_stock,
    read_sums,
)
from adapters.square.writes import RESTOCK, SALE, SquareStockWriter
from gateway.domain import (
    BackendLocation,
    PosVariation,
    Sale,
    StockChanges,
    StockReading,
    StoreSum,
)
from gateway.domain.cycle_counts import StockMovement


class SquareAdapter:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_retries: int = 2,
        variation_id_ttl_seconds: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
        policy: BackendPolicy | None = None,
        shelf_attribute: str = "Shelf",
    ) -> None:
        self._api = SquareApi(client, max_retries=max_retries, policy=policy)
        self._catalog = SquareCatalog(
            self._api,
            ttl_seconds=variation_id_ttl_seconds,
            monotonic=monotonic,
            shelf_attribute=shelf_attribute,
        )
        self._writer = SquareStockWriter(self._api, self._catalog)

    # --- PosPort ------------------------------------------------------------------------------

    async def locations(self) -> list[BackendLocation]:
        """ACTIVE, PHYSICAL locations (Square lists INACTIVE and MOBILE ones too)."""
        return await self._catalog.locations()

    async def variations_by_sku(self, skus: Sequence[str]) -> dict[str, PosVariation]:
        return await self._catalog.variations_by_sku(skus)

    async def skus_of_variations(self, variation_ids: Sequence[str]) -> dict[str, str]:
        return await self._catalog.skus_of(variation_ids)

    async def stock(
        self, skus: Sequence[str], location_refs: Sequence[str] | None = None
    ) -> list[StockReading]:
        wanted = list(dict.fromkeys(skus))
        if not wanted or (location_refs is not None and not location_refs):
            return []
        return await read_stock(self._api, await self._sku_of(wanted), wanted, location_refs)

    async def store_sums(
        self, skus: Sequence[str], safety_stock: Mapping[str, int]
    ) -> dict[str, StoreSum]:
        wanted = list(dict.fromkeys(skus))
        if not wanted or not safety_stock:
            return dict.fromkeys(wanted, StoreSum(0, 0, None))
        return await read_sums(self._api, await self._sku_of(wanted), wanted, safety_stock)

    async def _sku_of(self, wanted: list[str]) -> dict[str, str]:
        """Variation id -> SKU for the SKUs Square knows."""
        ids = await self._catalog.variation_ids(wanted)
        sku_of: dict[str, str] = {}
        for sku in wanted:
            if sku in ids:
                # Two SKUs spelled differently can name one variation; the first asked wins.
                sku_of.setdefault(ids[sku], sku)
        return sku_of

    async def sales(
        self, skus: Sequence[str], location_refs: Sequence[str], since: datetime
    ) -> list[Sale]:
        wanted = list(dict.fromkeys(skus))
        if not wanted or not location_refs:
            return []
        return await read_sales(self._api, await self._sku_of(wanted), location_refs, since)

    async def stock_movements(
        self, skus: Sequence[str], location_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        wanted = list(dict.fromkeys(skus))
        if not wanted or not location_refs:
            return []
        return await read_movements(self._api, await self._sku_of(wanted), location_refs, since)

    async def stock_changes(self, since: datetime, location_refs: Sequence[str]) -> StockChanges:
        if not location_refs:
            return StockChanges(frozenset())
        return await read_changes(self._api, since, location_refs)

    # --- PosStockWritesPort -------------------------------------------------------------------

    async def record_sale(
        self, reference: str, sku: str, location_ref: str, quantity: int, occurred_at: datetime
    ) -> None:
        """ADJUSTMENT IN_STOCK -> SOLD; idempotent on ``reference``."""
        await self._writer.adjust(SALE, reference, sku, location_ref, quantity, occurred_at)

    async def record_restock(
        self, reference: str, sku: str, location_ref: str, quantity: int, occurred_at: datetime
    ) -> None:
        """ADJUSTMENT NONE -> IN_STOCK (a returned unit back on the shelf); idempotent on
        ``reference``."""
        await self._writer.adjust(RESTOCK, reference, sku, location_ref, quantity, occurred_at)

    async def record_count(
        self, reference: str, sku: str, location_ref: str, quantity: int, counted_at: datetime
    ) -> None:
        """PHYSICAL_COUNT of IN_STOCK at ``counted_at`` (at most 24 hours ago): Square keeps
        the adjustments after it; idempotent on ``reference``."""
        await self._writer.count(reference, sku, location_ref, quantity, counted_at)
