"""In-memory backends implementing the ports; tests assert on their state and call log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from gateway.domain import (
    BackendLocation,
    GeoPoint,
    ItemMaster,
    Kit,
    KitComponent,
    Money,
    PosVariation,
    SourceSystem,
    StockReading,
    WebListing,
)

AS_OF = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@dataclass
class FakeErp:
    items: dict[str, ItemMaster] = field(default_factory=dict)
    warehouse_list: list[BackendLocation] = field(default_factory=list)
    bins: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    kit_defs: dict[str, Kit] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)

    async def items_by_sku(self, skus: Sequence[str]) -> dict[str, ItemMaster]:
        self.calls["items_by_sku"] += 1
        return {s: self.items[s] for s in skus if s in self.items}

    async def list_items(
        self, *, offset: int, limit: int, search: str | None = None, category: str | None = None
    ) -> list[ItemMaster]:
        self.calls["list_items"] += 1
        rows = sorted(
            (
                i
                for i in self.items.values()
                if (search is None or search.lower() in (i.sku + i.name).lower())
                and (category is None or i.category == category)
            ),
            key=lambda i: i.sku,
        )
        return rows[offset : offset + limit]

    async def sku_for_barcode(self, barcode: str) -> str | None:
        self.calls["sku_for_barcode"] += 1
        return next((i.sku for i in self.items.values() if barcode in i.barcodes), None)

    async def warehouses(self) -> list[BackendLocation]:
        self.calls["warehouses"] += 1
        return list(self.warehouse_list)

    async def stock(self, skus: Sequence[str]) -> list[StockReading]:
        self.calls["stock"] += 1
        return [
            StockReading(sku, SourceSystem.ERP, wh, on_hand, reserved, AS_OF)
            for (sku, wh), (on_hand, reserved) in self.bins.items()
            if sku in skus
        ]

    async def kits(self, skus: Sequence[str]) -> dict[str, Kit]:
        self.calls["kits"] += 1
        return {s: self.kit_defs[s] for s in skus if s in self.kit_defs}


@dataclass
class FakeStorefront:
    listings: dict[str, WebListing] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)

    async def listings_by_sku(self, skus: Sequence[str]) -> dict[str, WebListing]:
        self.calls["listings_by_sku"] += 1
        return {s: self.listings[s] for s in skus if s in self.listings}

    async def set_stock(self, sku: str, quantity: int) -> WebListing:
        self.calls["set_stock"] += 1
        self.listings[sku] = replace(self.listings[sku], stock_quantity=quantity)
        return self.listings[sku]


@dataclass
class FakePos:
    location_list: list[BackendLocation] = field(default_factory=list)
    variations: dict[str, PosVariation] = field(default_factory=dict)
    counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)

    async def locations(self) -> list[BackendLocation]:
        self.calls["locations"] += 1
        return list(self.location_list)

    async def variations_by_sku(self, skus: Sequence[str]) -> dict[str, PosVariation]:
        self.calls["variations_by_sku"] += 1
        return {s: self.variations[s] for s in skus if s in self.variations}

    async def stock(
        self, skus: Sequence[str], location_refs: Sequence[str] | None = None
    ) -> list[StockReading]:
        self.calls["stock"] += 1
        return [
            StockReading(sku, SourceSystem.POS, loc, on_hand, reserved, AS_OF)
            for (sku, loc), (on_hand, reserved) in self.counts.items()
            if sku in skus and (location_refs is None or loc in location_refs)
        ]


def small_retailer() -> tuple[FakeErp, FakeStorefront, FakePos]:
    """Two warehouses, three Berlin-area stores, a shoe, a sock and a kit of both."""
    erp = FakeErp(
        items={
            "SHOE-42": ItemMaster(
                "SHOE-42",
                "Trail Shoe 42",
                "Footwear",
                ("4006381333948",),
                cost=eur("52.40"),
                list_price=eur("129.00"),
                tax_category="Apparel",
            ),
            "SOCK-M": ItemMaster(
                "SOCK-M",
                "Merino Sock M",
                "Socks",
                ("4006381333931",),
                cost=eur("5.10"),
                list_price=eur("14.00"),
            ),
            "KIT-RUN": ItemMaster("KIT-RUN", "Run Kit", "Bundles", (), list_price=eur("139.00")),
        },
        warehouse_list=[
            BackendLocation(SourceSystem.ERP, "Central - NTR", "Central - NTR"),
            BackendLocation(SourceSystem.ERP, "North - NTR", "North - NTR"),
        ],
        bins={
            ("SHOE-42", "Central - NTR"): (10, 2),
            ("SOCK-M", "Central - NTR"): (40, 0),
            ("SHOE-42", "North - NTR"): (1, 1),
        },
        kit_defs={
            "KIT-RUN": Kit("KIT-RUN", (KitComponent("SHOE-42", 1), KitComponent("SOCK-M", 3)))
        },
    )
    web = FakeStorefront(
        listings={
            "SHOE-42": WebListing(
                "SHOE-42",
                4820,
                4821,
                "Trail Runner Shoe - 42",
                eur("119.00"),
                "publish",
                "https://shop.example/product/trail/",
                True,
                0,
                "outofstock",
                "no",
            )
        }
    )
    pos = FakePos(
        location_list=[
            BackendLocation(
                SourceSystem.POS, "LMITTE", "Mitte Store", point=GeoPoint(52.5200, 13.4050)
            ),
            BackendLocation(
                SourceSystem.POS, "LPOTS", "Potsdam Store", point=GeoPoint(52.3906, 13.0645)
            ),
            BackendLocation(
                SourceSystem.POS, "LHAM", "Hamburg Store", point=GeoPoint(53.5511, 9.9937)
            ),
            BackendLocation(SourceSystem.POS, "LOLD", "Closed Store", active=False),
        ],
        variations={
            "SHOE-42": PosVariation("SHOE-42", "VSHOE", "ISHOE", "42", eur("125.00")),
        },
        counts={
            ("SHOE-42", "LMITTE"): (3, 0),
            ("SHOE-42", "LPOTS"): (8, 1),
            ("SOCK-M", "LMITTE"): (7, 0),
            ("SOCK-M", "LHAM"): (30, 0),
        },
    )
    return erp, web, pos
