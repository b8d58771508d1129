"""The sample retailer as the simulators read it: its items, kits, warehouses, stores, web
listings and POS items (``sandbox.sample_data.generate`` makes one).

Stock figures are not stored: each one is drawn on demand from a hash of (seed, sku,
location), so the 50,000 SKUs x 200 locations benchmark catalogue costs no memory for stock.
Simulators keep their own mutable overrides on top (a sale, a stock update).

The storefront's stock disagrees with what the gateway can promise online
(``Dataset.online_sellable``) on ``Dataset.drift_skus``: the drift the gateway exists to
catch. Everywhere else the web figure is that ONLINE available-to-promise: the ERP
warehouses' stock less its reservations, plus what ship-from-store stores can spare.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

BASE_TIME = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
COMPANY = "Northtrail Retail Ltd"
COMPANY_ABBR = "NTR"
CURRENCY = "EUR"
SHOP_URL = "https://shop.northtrail.example"
# Units never promised at a store: mirrors the gateway's STORE_SAFETY_STOCK default, which
# this retailer's node file (``Dataset.nodes_config``) does not override. Warehouses keep
# none (WAREHOUSE_SAFETY_STOCK defaults to 0).
STORE_SAFETY_STOCK = 1


# The stores' sales history the Square simulator serves (Dataset.store_daily_sales).
SALES_HISTORY_DAYS = 28


def draw(seed: int, *parts: object) -> int:
    """The seeded hash every on-demand figure is drawn from: the same parts, the same number."""
    key = "|".join(map(str, (seed, *parts))).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def draws(seed: int, parts: Sequence[object], lasts: Iterable[str]) -> list[int]:
    """``[draw(seed, *parts, last) for last in lasts]``, hashing the shared prefix once (four
    times quicker: the 50,000-SKU x 200-store retailer draws millions of store counts)."""
    prefix = hashlib.blake2b("|".join(map(str, (seed, *parts, ""))).encode(), digest_size=8)
    result = []
    for last in lasts:
        h = prefix.copy()
        h.update(last.encode())
        result.append(int.from_bytes(h.digest(), "big"))
    return result


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    category: str
    barcode: str | None
    barcode_type: str | None  # "EAN" or "UPC-A", as ERPNext names them
    valuation_rate: Decimal
    list_price: Decimal
    tax_category: str
    uom: str = "Nos"
    has_variants: bool = False
    variant_of: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    is_stock_item: bool = True
    weight_kg: Decimal = Decimal("0.5")
    # The template of the item's in-store price labels (GS1 prefix 21, price zeroed), a
    # second row of its ERPNext barcode table: clearance packs marked down at the shelf.
    label_barcode: str | None = None

    @property
    def sellable(self) -> bool:
        return not self.has_variants


@dataclass(frozen=True)
class Kit:
    sku: str
    components: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Warehouse:
    name: str  # ERPNext name, with the company suffix
    warehouse_name: str
    lat: float
    lng: float
    is_group: bool = False
    warehouse_type: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class Store:
    id: str  # Square location id
    name: str
    city: str
    address_line_1: str
    postal_code: str
    lat: float
    lng: float
    pickup: bool
    ship_from_store: bool
    status: str = "ACTIVE"


@dataclass(frozen=True)
class Supply:
    lead_time_days: int
    case_size: int
    min_order_qty: int
    supplier: str


@dataclass(frozen=True)
class WebProduct:
    """A WooCommerce product or variation. ``parent_id`` is set on variations."""

    id: int
    sku: str
    name: str
    type: str  # simple | variable | variation
    price: Decimal
    regular_price: Decimal
    status: str = "publish"
    parent_id: int = 0
    manage_stock: bool = True
    backorders: str = "no"
    low_stock_amount: int | None = 5
    attributes: tuple[tuple[str, str], ...] = ()
    variation_ids: tuple[int, ...] = ()
    category: str = ""
    barcode: str = ""

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def permalink(self) -> str:
        return f"{SHOP_URL}/product/{self.slug}/"


@dataclass(frozen=True)
class PosItem:
    """A Square ITEM and its ITEM_VARIATIONs (sku -> variation id)."""

    id: str
    name: str
    category: str
    variations: tuple[tuple[str, str, str, int], ...]  # (variation id, name, sku, price minor)


@dataclass
class Dataset:
    seed: int
    items: dict[str, Item]
    kits: dict[str, Kit]
    warehouses: list[Warehouse]
    stores: list[Store]
    web_products: dict[int, WebProduct]
    pos_items: list[PosItem]
    drift_skus: frozenset[str]
    base_time: datetime = BASE_TIME
    _web_stock_override: dict[str, int] = field(default_factory=dict)

    # Stock is drawn per (sku, location) on demand; see the module docstring.

    @property
    def sellable_skus(self) -> list[str]:
        return [s for s, i in self.items.items() if i.sellable]

    @property
    def stock_skus(self) -> list[str]:
        return [s for s, i in self.items.items() if i.sellable and i.is_stock_item]

    def bin(self, sku: str, warehouse: str) -> dict[str, int] | None:
        """ERPNext Bin figures for a stock item at a leaf warehouse; None when no Bin exists."""
        item = self.items.get(sku)
        if item is None or not item.sellable or not item.is_stock_item:
            return None
        h = draw(self.seed, "bin", sku, warehouse)
        if h % 100 >= 85:
            return None
        actual = (h >> 8) % 160
        if (h >> 20) % 10 == 0:
            actual = 0
        reserved = min(actual, (h >> 28) % 8)
        reserved_stock = min(reserved, (h >> 32) % 3 if (h >> 36) % 4 == 0 else 0)
        ordered = ((h >> 40) % 5) * 10 if (h >> 44) % 3 == 0 else 0
        return {
            "actual_qty": actual,
            "reserved_qty": reserved,
            "reserved_stock": reserved_stock,
            "ordered_qty": ordered,
        }

    def bin_modified(self, sku: str, warehouse: str) -> datetime:
        return self.base_time - timedelta(minutes=draw(self.seed, "binmod", sku, warehouse) % 600)

    def store_count(self, sku: str, store_id: str) -> dict[str, int] | None:
        """Square counts by state for a variation at a location; None when never stocked."""
        return self.store_counts(sku, [store_id])[store_id]

    def store_counts(self, sku: str, store_ids: Sequence[str]) -> dict[str, dict[str, int] | None]:
        """``store_count`` at each of ``store_ids``."""
        item = self.items.get(sku)
        if item is None or not item.sellable or not item.is_stock_item:
            return dict.fromkeys(store_ids)
        drawn = draws(self.seed, ("pos", sku), store_ids)
        return {store_id: _counts_of(h) for store_id, h in zip(store_ids, drawn, strict=True)}

    def store_daily_sales(self, sku: str, store_id: str) -> tuple[int, ...]:
        """Units of ``sku`` sold at a store on each of the SALES_HISTORY_DAYS days before the
        base time, oldest first: Square's SOLD adjustments, one a day. A (SKU, store) sells
        ``rate`` a day (0 to 3, drawn), give or take one unit each day (drawn)."""
        item = self.items.get(sku)
        if item is None or not item.sellable or not item.is_stock_item:
            return (0,) * SALES_HISTORY_DAYS
        rate = draw(self.seed, "sales", sku, store_id) % 4
        if rate == 0:
            return (0,) * SALES_HISTORY_DAYS
        days = draws(self.seed, ("sale", sku, store_id), map(str, range(SALES_HISTORY_DAYS)))
        return tuple(rate + h % 3 - 1 for h in days)

    def supply(self, sku: str) -> Supply | None:
        """What ERPNext's Item says of buying ``sku`` (None for what is not bought: kits,
        templates): a drawn lead time of 2 to 14 days, a case of 1, 6, 12 or 24 (its
        purchase unit "Box" when more than one), a minimum of one or two cases, and one of
        three suppliers per category."""
        item = self.items.get(sku)
        if item is None or not item.is_stock_item or item.has_variants or sku in self.kits:
            return None
        h = draw(self.seed, "supply", sku)
        case = (1, 6, 12, 24)[h % 4]
        return Supply(
            lead_time_days=2 + (h >> 8) % 13,
            case_size=case,
            min_order_qty=case * (1 + (h >> 16) % 2),
            supplier=f"{item.category} Supplier {'ABC'[(h >> 24) % 3]}",
        )

    def warehouse_daily_deliveries(self, sku: str, warehouse: str) -> tuple[int, ...]:
        """Units of ``sku`` a warehouse delivered (web orders shipped, ERPNext Delivery Notes)
        on each of the SALES_HISTORY_DAYS days before the base time, oldest first: a drawn
        0 to 5 a day, give or take two, for a SKU the warehouse has a Bin of."""
        item = self.items.get(sku)
        if (
            item is None
            or not item.sellable
            or not item.is_stock_item
            or not self.bin(sku, warehouse)
        ):
            return (0,) * SALES_HISTORY_DAYS
        rate = draw(self.seed, "shipped", sku, warehouse) % 6
        if rate == 0:
            return (0,) * SALES_HISTORY_DAYS
        days = draws(self.seed, ("ship", sku, warehouse), map(str, range(SALES_HISTORY_DAYS)))
        return tuple(max(0, rate + h % 5 - 2) for h in days)

    def sale_day_closed_at(self, day: int) -> datetime:
        """When day ``day`` (0 the oldest) of the history was rung up: 17:00 UTC that day."""
        start = (self.base_time - timedelta(days=SALES_HISTORY_DAYS - day)).replace(
            hour=17, minute=0, second=0, microsecond=0
        )
        return start

    def store_count_calculated_at(self, sku: str, store_id: str) -> datetime:
        return self.store_counts_calculated_at(sku, [store_id])[0]

    def store_counts_calculated_at(self, sku: str, store_ids: Sequence[str]) -> list[datetime]:
        # One of 240 moments (the last four hours, by the minute): made once, not per count.
        moments = self._count_moments
        return [moments[h % 240] for h in draws(self.seed, ("posat", sku), store_ids)]

    @functools.cached_property
    def _count_moments(self) -> list[datetime]:
        return [self.base_time - timedelta(minutes=m) for m in range(240)]

    def erp_sellable(self, sku: str) -> int:
        """Warehouse stock the web channel may sell: actual less soft and hard reservations."""
        total = 0
        for wh in self.leaf_warehouses:
            b = self.bin(sku, wh.name)
            if b:
                # Stock Reservation Entries are made for Sales Orders, so reserved_stock is
                # part of reserved_qty (projected_qty subtracts only reserved_qty).
                total += max(0, b["actual_qty"] - max(b["reserved_qty"], b["reserved_stock"]))
        return total

    def store_sellable(self, sku: str, store_id: str) -> int:
        """Store stock the gateway may promise: Square's IN_STOCK (on hand is IN_STOCK plus
        RESERVED_FOR_SALE, less the reserved), less the store safety stock."""
        return _sellable(self.store_count(sku, store_id))

    def online_sellable(self, sku: str) -> int:
        """The ONLINE available-to-promise at seed time, as the gateway computes it: the
        warehouses' sellable stock plus every active ship-from-store store's."""
        shipping = [
            s.id
            for s in self.stores
            if s.ship_from_store and s.status == "ACTIVE"  # the gateway skips inactive ones
        ]
        stores = sum(map(_sellable, self.store_counts(sku, shipping).values()))
        return self.erp_sellable(sku) + stores

    def web_stock(self, sku: str) -> int:
        """The storefront's stock_quantity: the ONLINE figure, except on the drift SKUs."""
        if sku in self._web_stock_override:
            return self._web_stock_override[sku]
        truth = self.online_sellable(sku)
        if sku in self.drift_skus:
            h = draw(self.seed, "drift", sku)
            # Half read sold out while stock exists, half promise more than exists.
            return 0 if h % 2 == 0 and truth > 0 else truth + 3 + h % 20
        return truth

    @property
    def leaf_warehouses(self) -> list[Warehouse]:
        return [w for w in self.warehouses if not w.is_group and w.warehouse_type != "Transit"]

    def web_product_by_sku(self) -> dict[str, WebProduct]:
        return {p.sku: p for p in self.web_products.values() if p.sku}

    def node_ids(self) -> list[str]:
        """Gateway node ids: leaf warehouses first, then stores, in dataset order."""
        return ["WH-" + slugify(w.warehouse_name).upper() for w in self.leaf_warehouses] + [
            "ST-" + slugify(s.name).upper() for s in self.stores
        ]

    def oms_location_ids(self) -> dict[str, str]:
        """Node id -> Shopify Location gid; the Central Warehouse keeps the contract's id."""
        return {
            node: f"gid://shopify/Location/{71234560001 + i}"
            for i, node in enumerate(self.node_ids())
        }

    def nodes_config(self) -> dict[str, object]:
        """The gateway's node file for this dataset: ids, coordinates and capabilities."""
        oms = self.oms_location_ids()
        nodes: list[dict[str, object]] = []
        for w in self.leaf_warehouses:
            nodes.append(
                {
                    "id": "WH-" + slugify(w.warehouse_name).upper(),
                    "source": "ERP",
                    "ref": w.name,
                    "type": "WAREHOUSE",
                    "lat": w.lat,
                    "lng": w.lng,
                    "capabilities": [],
                    "oms_location": oms["WH-" + slugify(w.warehouse_name).upper()],
                }
            )
        for s in self.stores:
            caps = [
                c for c, on in (("PICKUP", s.pickup), ("SHIP_FROM_STORE", s.ship_from_store)) if on
            ]
            nodes.append(
                {
                    "id": "ST-" + slugify(s.name).upper(),
                    "source": "POS",
                    "ref": s.id,
                    "type": "STORE",
                    "capabilities": caps,
                    "oms_location": oms["ST-" + slugify(s.name).upper()],
                    **(
                        {"pickup_instructions": PICKUP_INSTRUCTIONS.format(store=s.name)}
                        if s.pickup
                        else {}
                    ),
                }
            )
        return {"nodes": nodes}


PICKUP_INSTRUCTIONS = (
    "Collect at the click & collect counter by the tills of {store}, "
    "Monday to Saturday 10:00-20:00; bring your order number."
)


def _counts_of(h: int) -> dict[str, int] | None:
    if h % 100 >= 60:
        return None
    in_stock = (h >> 8) % 26
    if (h >> 16) % 8 == 0:
        in_stock = 0
    counts = {"IN_STOCK": in_stock}
    if in_stock and (h >> 24) % 6 == 0:
        counts["RESERVED_FOR_SALE"] = 1 + (h >> 28) % 2
    return counts


def _sellable(counts: dict[str, int] | None) -> int:
    if not counts:
        return 0
    reserved = counts.get("RESERVED_FOR_SALE", 0)
    on_hand = counts["IN_STOCK"] + reserved
    return max(0, on_hand - reserved - STORE_SAFETY_STOCK)
