"""Small interfaces the services depend on. Adapters implement them; tests use fakes.

Every read is batched by SKU list: one call for N SKUs, whatever N is, so a page of
products costs one request per backend endpoint. A SKU a backend does not know is simply
absent from the answer; errors are the project's typed errors (gateway.errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from gateway.domain import (
    BackendLocation,
    ItemMaster,
    Kit,
    Location,
    PosVariation,
    StockReading,
    WebListing,
)


class ErpPort(Protocol):
    """ERPNext: item master, warehouses, warehouse stock (Bins), kits (Product Bundles)."""

    async def items_by_sku(self, skus: Sequence[str]) -> dict[str, ItemMaster]: ...

    async def list_items(
        self, *, offset: int, limit: int, search: str | None = None, category: str | None = None
    ) -> list[ItemMaster]:
        """Sellable items (not templates, not disabled) in a stable order (by item code)."""
        ...

    async def sku_for_barcode(self, barcode: str) -> str | None: ...

    async def warehouses(self) -> list[BackendLocation]:
        """Leaf, enabled, stock-holding warehouses (groups and transit excluded)."""
        ...

    async def stock(self, skus: Sequence[str]) -> list[StockReading]: ...

    async def kits(self, skus: Sequence[str]) -> dict[str, Kit]: ...


class StorefrontPort(Protocol):
    """WooCommerce: the web listing of each SKU (simple products and variations)."""

    async def listings_by_sku(self, skus: Sequence[str]) -> dict[str, WebListing]: ...

    async def set_stock(self, sku: str, quantity: int) -> WebListing: ...


class PosPort(Protocol):
    """Square: store locations, store prices and store stock."""

    async def locations(self) -> list[BackendLocation]: ...

    async def variations_by_sku(self, skus: Sequence[str]) -> dict[str, PosVariation]: ...

    async def stock(
        self, skus: Sequence[str], location_refs: Sequence[str] | None = None
    ) -> list[StockReading]: ...


class LocationsProvider(Protocol):
    """The fulfillment nodes currently known, built from the backends and the node file."""

    async def locations(self) -> list[Location]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
