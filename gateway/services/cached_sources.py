"""The backend ports behind the cache, each source with its own TTL.

These wrap any adapter and implement the same port, so services never know whether an
answer came from the cache. Stock is cached per SKU across all of a source's locations so
that any filter a caller applies is served from one entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from gateway.cache import Cache
from gateway.domain import (
    BackendLocation,
    ItemMaster,
    ItemSupply,
    Kit,
    PosVariation,
    Sale,
    StockChanges,
    StockReading,
    StockReadings,
    Via,
    WebListing,
    WebStockUpdate,
    WebStockWritten,
)
from gateway.domain.cycle_counts import StockMovement
from gateway.ports import Clock, ErpPort, PosPort, StorefrontPort


@dataclass(frozen=True, slots=True)
class Ttls:
    item: int
    web_listing: int
    pos_catalog: int
    stock: int
    locations: int
    kits: int


def _group_by_sku(readings: Sequence[StockReading], skus: Sequence[str]) -> dict[str, tuple]:
    grouped: dict[str, list[StockReading]] = defaultdict(list)
    for reading in readings:
        grouped[reading.sku].append(reading)
    # A SKU with no readings is a real answer (no stock anywhere), not a miss.
    return {sku: tuple(grouped.get(sku, ())) for sku in skus}


class CachedErp:
    def __init__(self, inner: ErpPort, cache: Cache, ttls: Ttls, clock: Clock) -> None:
        self._clock = clock
        self._inner, self._cache, self._ttls = inner, cache, ttls

    async def items_by_sku(self, skus: Sequence[str]) -> dict[str, ItemMaster]:
        return await self._cache.load_many(
            "erp:item", skus, self._inner.items_by_sku, self._ttls.item
        )

    async def list_items(
        self, *, offset: int, limit: int, search: str | None = None, category: str | None = None
    ) -> list[ItemMaster]:
        key = f"{offset}:{limit}:{search or ''}:{category or ''}"

        async def load() -> list[ItemMaster]:
            async with self._cache.reading() as began:
                items = await self._inner.list_items(
                    offset=offset, limit=limit, search=search, category=category
                )
                # The page already holds each item in full: the product loader that follows
                # must not ask the ERP for them again.
                by_sku = {i.sku: i for i in items}
                await self._cache.prime("erp:item", by_sku, self._ttls.item, began=began)
            return items

        return await self._cache.load_one("erp:list", key, load, self._ttls.item)

    async def sku_for_barcode(self, barcode: str) -> str | None:
        async def load(codes: list[str]) -> dict[str, str]:
            sku = await self._inner.sku_for_barcode(codes[0])
            return {} if sku is None else {codes[0]: sku}

        return (await self._cache.load_many("erp:barcode", [barcode], load, self._ttls.item)).get(
            barcode
        )

    async def warehouses(self) -> list[BackendLocation]:
        return await self._cache.load_one(
            "erp:warehouses", "all", self._inner.warehouses, self._ttls.locations
        )

    async def stock(self, skus: Sequence[str]) -> list[StockReading]:
        async def load(missing: list[str]) -> dict[str, tuple]:
            started = self._clock.now()
            return _group_by_sku(stamped(await self._inner.stock(missing), started), missing)

        by_sku = await self._cache.load_many(
            "erp:stock", skus, load, self._ttls.stock, stale=served_stale
        )
        return readings_of(by_sku)

    async def refresh(self, skus: Sequence[str], via: Via) -> None:
        """Read these SKUs' figures now and keep them (its source said they changed)."""
        async with self._cache.reading() as began:
            started = self._clock.now()
            fresh = _group_by_sku(stamped(await self._inner.stock(skus), started, via), skus)
            await self._cache.prime("erp:stock", fresh, self._ttls.stock, began=began)

    async def stock_moved_since(self, since: datetime) -> list[tuple[str, datetime]]:
        return await self._inner.stock_moved_since(since)

    async def kits(self, skus: Sequence[str]) -> dict[str, Kit]:
        return await self._cache.load_many("erp:kit", skus, self._inner.kits, self._ttls.kits)

    async def deliveries(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[Sale]:
        # History, asked for now and then (replenishment): read as it stands, never kept.
        return await self._inner.deliveries(skus, warehouse_refs, since)

    async def stock_movements(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        # A count is reckoned against what the ledger says now: never from the cache.
        return await self._inner.stock_movements(skus, warehouse_refs, since)

    async def supply(self, skus: Sequence[str]) -> dict[str, ItemSupply]:
        return await self._cache.load_many("erp:supply", skus, self._inner.supply, self._ttls.item)


def stamped(
    readings: Sequence[StockReading], started: datetime, via: Via = Via.READ
) -> list[StockReading]:
    """Mark when the gateway asked, and why. A write the gateway saw confirmed before that
    moment is in the reading, whatever the backend's own clock says (gateway.domain.ledger)."""
    return [replace(r, fetched_at=started, via=via) for r in readings]


@dataclass(frozen=True, slots=True)
class KeptReadings:
    """A SKU's readings served from their last good copy, kept at ``kept_at`` (never cached
    as such)."""

    readings: tuple[StockReading, ...]
    kept_at: datetime


def served_stale(readings: tuple[StockReading, ...], kept_at: datetime) -> KeptReadings:
    return KeptReadings(tuple(replace(r, stale=True) for r in readings), kept_at)


def readings_of(
    by_sku: Mapping[str, tuple[StockReading, ...] | KeptReadings],
    wanted_refs: set[str] | None = None,
) -> StockReadings:
    """The readings, at ``wanted_refs`` only when given, and which SKUs came from a copy."""
    readings: list[StockReading] = []
    stale: dict[str, datetime] = {}
    for sku, value in by_sku.items():
        if isinstance(value, KeptReadings):
            stale[sku] = value.kept_at
            value = value.readings
        if wanted_refs is None:  # every store (a page near a customer): no filter to run
            readings.extend(value)
        else:
            readings.extend(r for r in value if r.location_ref in wanted_refs)
    return StockReadings(readings, stale)


class CachedStorefront:
    def __init__(self, inner: StorefrontPort, cache: Cache, ttls: Ttls) -> None:
        self._inner, self._cache, self._ttls = inner, cache, ttls

    async def listings_by_sku(self, skus: Sequence[str]) -> dict[str, WebListing]:
        return await self._cache.load_many(
            "web:listing", skus, self._inner.listings_by_sku, self._ttls.web_listing
        )

    async def listings_modified_since(self, since: datetime) -> list[tuple[str, datetime]]:
        return await self._inner.listings_modified_since(since)

    async def set_stock(self, sku: str, quantity: int) -> WebListing:
        listing = await self._inner.set_stock(sku, quantity)
        await self._cache.invalidate("web:listing", [sku])
        return listing

    async def set_stock_levels(self, updates: Sequence[WebStockUpdate]) -> list[WebStockWritten]:
        written = await self._inner.set_stock_levels(updates)
        await self._cache.invalidate("web:listing", [u.sku for u in updates])
        return written


class CachedPos:
    def __init__(self, inner: PosPort, cache: Cache, ttls: Ttls, clock: Clock) -> None:
        self._clock = clock
        self._inner, self._cache, self._ttls = inner, cache, ttls

    async def locations(self) -> list[BackendLocation]:
        return await self._cache.load_one(
            "pos:locations", "all", self._inner.locations, self._ttls.locations
        )

    async def variations_by_sku(self, skus: Sequence[str]) -> dict[str, PosVariation]:
        return await self._cache.load_many(
            "pos:variation", skus, self._inner.variations_by_sku, self._ttls.pos_catalog
        )

    async def stock(
        self, skus: Sequence[str], location_refs: Sequence[str] | None = None
    ) -> list[StockReading]:
        async def load(missing: list[str]) -> dict[str, tuple]:
            started = self._clock.now()
            return _group_by_sku(stamped(await self._inner.stock(missing), started), missing)

        by_sku = await self._cache.load_many(
            "pos:stock", skus, load, self._ttls.stock, stale=served_stale
        )
        return readings_of(by_sku, None if location_refs is None else set(location_refs))

    async def refresh(self, skus: Sequence[str], via: Via) -> None:
        """Read these SKUs' counts now and keep them (its source said they changed)."""
        async with self._cache.reading() as began:
            started = self._clock.now()
            fresh = _group_by_sku(stamped(await self._inner.stock(skus), started, via), skus)
            await self._cache.prime("pos:stock", fresh, self._ttls.stock, began=began)

    async def sales(
        self, skus: Sequence[str], location_refs: Sequence[str], since: datetime
    ) -> list[Sale]:
        # History, asked for now and then (replenishment): read as it stands, never kept.
        return await self._inner.sales(skus, location_refs, since)

    async def skus_of_variations(self, variation_ids: Sequence[str]) -> dict[str, str]:
        return await self._inner.skus_of_variations(variation_ids)

    async def stock_changes(self, since: datetime, location_refs: Sequence[str]) -> StockChanges:
        # A delta read is only worth anything fresh: never from the cache.
        return await self._inner.stock_changes(since, location_refs)

    async def stock_movements(
        self, skus: Sequence[str], location_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        # A count is reckoned against what the source says now: never from the cache.
        return await self._inner.stock_movements(skus, location_refs, since)
