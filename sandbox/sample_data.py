"""One deterministic sample retailer shared by all simulators, the demo, tests and benchmarks.

``generate(seed, skus, stores)`` returns the same dataset for the same arguments. Stock figures
are not stored: each one is drawn on demand from a hash of (seed, sku, location), so the
50,000 SKUs x 200 locations benchmark catalogue costs no memory for stock. Simulators keep
their own mutable overrides on top (a sale, a stock update).

The storefront's stock disagrees with the ERP on ``dataset.drift_skus``: the drift the gateway
exists to catch. Everywhere else the web figure is the ERP's warehouse stock less its
reservations.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

BASE_TIME = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
COMPANY = "Northtrail Retail Ltd"
COMPANY_ABBR = "NTR"
CURRENCY = "EUR"
SHOP_URL = "https://shop.northtrail.example"

CATEGORIES = (
    "Socks",
    "Footwear",
    "Jackets",
    "Bags",
    "Headwear",
    "Gloves",
    "Base Layers",
    "Camping",
    "Bottles",
    "Accessories",
)
_NOUNS = {
    "Socks": ("Crew Socks", "Hiking Socks", "Liner Socks", "Ski Socks"),
    "Footwear": ("Trail Runner", "Hiking Boot", "Approach Shoe", "Camp Sandal"),
    "Jackets": ("Rain Shell", "Down Jacket", "Fleece Jacket", "Wind Shell"),
    "Bags": ("Daypack", "Duffel", "Hip Pack", "Roll-top Bag"),
    "Headwear": ("Beanie", "Sun Cap", "Buff", "Bucket Hat"),
    "Gloves": ("Liner Gloves", "Shell Mitts", "Grip Gloves"),
    "Base Layers": ("Merino Tee", "Zip Top", "Base Tights"),
    "Camping": ("Stove", "Headlamp", "Sleeping Mat", "Pot Set", "Trekking Poles"),
    "Bottles": ("Steel Bottle", "Soft Flask", "Insulated Mug"),
    "Accessories": ("Gaiters", "Laces", "Repair Kit", "Dry Sack"),
}
_ADJECTIVES = (
    "Alpine",
    "Merino",
    "Ridge",
    "Summit",
    "Coastal",
    "Forest",
    "Granite",
    "Polar",
    "Canyon",
    "Tundra",
    "Glacier",
    "Meadow",
    "Harbour",
    "Boreal",
    "Basalt",
)
_SIZES = {
    "Footwear": ("39", "40", "41", "42", "43", "44", "45"),
    "Jackets": ("XS", "S", "M", "L", "XL"),
    "Base Layers": ("S", "M", "L", "XL"),
    "Socks": ("S", "M", "L"),
    "Gloves": ("S", "M", "L"),
}
_TAX = {
    "Socks": "Apparel",
    "Footwear": "Apparel",
    "Jackets": "Apparel",
    "Base Layers": "Apparel",
    "Gloves": "Apparel",
    "Headwear": "Apparel",
}

_STREETS = ("Haupt", "Markt", "Bahnhof", "Linden")

# Real city centres; stores beyond these are placed a few km around them.
CITIES = (
    ("Berlin", 52.5200, 13.4050),
    ("Hamburg", 53.5511, 9.9937),
    ("Munich", 48.1351, 11.5820),
    ("Cologne", 50.9375, 6.9603),
    ("Frankfurt", 50.1109, 8.6821),
    ("Stuttgart", 48.7758, 9.1829),
    ("Duesseldorf", 51.2277, 6.7735),
    ("Leipzig", 51.3397, 12.3731),
    ("Dresden", 51.0504, 13.7373),
    ("Hanover", 52.3759, 9.7320),
    ("Nuremberg", 49.4521, 11.0767),
    ("Bremen", 53.0793, 8.8017),
    ("Essen", 51.4556, 7.0116),
    ("Dortmund", 51.5136, 7.4653),
    ("Freiburg", 47.9990, 7.8421),
    ("Kiel", 54.3233, 10.1228),
)
WAREHOUSES = (
    ("Central Warehouse", 51.3127, 9.4797),  # Kassel
    ("North Hub", 53.4667, 10.0131),  # Hamburg-Billbrook
    ("South Hub", 48.2443, 11.6306),  # Munich-Garching
)


def gtin_check_digit(body: str) -> str:
    """GS1 mod-10 check digit for the digits before it (any GTIN length)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def _draw(seed: int, *parts: object) -> int:
    key = "|".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def _slug(text: str) -> str:
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
        return _slug(self.name)

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
        h = _draw(self.seed, "bin", sku, warehouse)
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
        return self.base_time - timedelta(minutes=_draw(self.seed, "binmod", sku, warehouse) % 600)

    def store_count(self, sku: str, store_id: str) -> dict[str, int] | None:
        """Square counts by state for a variation at a location; None when never stocked."""
        item = self.items.get(sku)
        if item is None or not item.sellable or not item.is_stock_item:
            return None
        h = _draw(self.seed, "pos", sku, store_id)
        if h % 100 >= 60:
            return None
        in_stock = (h >> 8) % 26
        if (h >> 16) % 8 == 0:
            in_stock = 0
        counts = {"IN_STOCK": in_stock}
        if in_stock and (h >> 24) % 6 == 0:
            counts["RESERVED_FOR_SALE"] = 1 + (h >> 28) % 2
        return counts

    def store_count_calculated_at(self, sku: str, store_id: str) -> datetime:
        return self.base_time - timedelta(minutes=_draw(self.seed, "posat", sku, store_id) % 240)

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

    def web_stock(self, sku: str) -> int:
        """The storefront's stock_quantity: the ERP figure, except on the drift SKUs."""
        if sku in self._web_stock_override:
            return self._web_stock_override[sku]
        truth = self.erp_sellable(sku)
        if sku in self.drift_skus:
            h = _draw(self.seed, "drift", sku)
            # Half read sold out while the ERP has stock, half promise more than exists.
            return 0 if h % 2 == 0 and truth > 0 else truth + 3 + h % 20
        return truth

    @property
    def leaf_warehouses(self) -> list[Warehouse]:
        return [w for w in self.warehouses if not w.is_group and w.warehouse_type != "Transit"]

    def web_product_by_sku(self) -> dict[str, WebProduct]:
        return {p.sku: p for p in self.web_products.values() if p.sku}

    def node_ids(self) -> list[str]:
        """Gateway node ids: leaf warehouses first, then stores, in dataset order."""
        return ["WH-" + _slug(w.warehouse_name).upper() for w in self.leaf_warehouses] + [
            "ST-" + _slug(s.name).upper() for s in self.stores
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
                    "id": "WH-" + _slug(w.warehouse_name).upper(),
                    "source": "ERP",
                    "ref": w.name,
                    "type": "WAREHOUSE",
                    "lat": w.lat,
                    "lng": w.lng,
                    "capabilities": [],
                    "oms_location": oms["WH-" + _slug(w.warehouse_name).upper()],
                }
            )
        for s in self.stores:
            caps = [
                c for c, on in (("PICKUP", s.pickup), ("SHIP_FROM_STORE", s.ship_from_store)) if on
            ]
            nodes.append(
                {
                    "id": "ST-" + _slug(s.name).upper(),
                    "source": "POS",
                    "ref": s.id,
                    "type": "STORE",
                    "capabilities": caps,
                    "oms_location": oms["ST-" + _slug(s.name).upper()],
                }
            )
        return {"nodes": nodes}


class _Ids:
    """Deterministic id sources in each system's own style."""

    _ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._web = 5000
        self._seen: set[str] = set()

    def square(self, length: int) -> str:
        while True:
            value = "".join(self._rng.choice(self._ALPHABET) for _ in range(length))
            if value not in self._seen:
                self._seen.add(value)
                return value

    def web(self) -> int:
        self._web += 1
        return self._web


def _barcode(rng: random.Random, used: set[str]) -> tuple[str, str]:
    while True:
        if rng.random() < 0.8:
            body = "400" + "".join(str(rng.randrange(10)) for _ in range(9))
            kind = "EAN"
        else:
            body = "0" + "".join(str(rng.randrange(10)) for _ in range(10))
            kind = "UPC-A"
        code = body + gtin_check_digit(body)
        if code not in used:
            used.add(code)
            return code, kind


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return (
        Decimal(rng.randrange(low, high)) + Decimal("0.99")
        if rng.random() < 0.6
        else Decimal(rng.randrange(low, high))
    )


def _fixture_items() -> list[tuple[Item, ...]]:
    """The SKUs named in ../shared/contracts, so the fixtures and the sample data join."""
    sock = Item(
        "SOCK-MER-CREW-M",
        "Merino Crew Socks M",
        "Socks",
        "4006381333931",
        "EAN",
        Decimal("5.10"),
        Decimal("14.00"),
        "Apparel",
    )
    template = Item(
        "SHOE-TRAIL",
        "Trail Runner Shoe",
        "Footwear",
        None,
        None,
        Decimal("0"),
        Decimal("129.00"),
        "Apparel",
        uom="Pair",
        has_variants=True,
        is_stock_item=True,
    )
    sizes = []
    for size, code in (("42", "4006381333948"), ("43", "4006381333955")):
        sizes.append(
            Item(
                f"SHOE-TRAIL-{size}",
                f"Trail Runner Shoe-{size}",
                "Footwear",
                code,
                "EAN",
                Decimal("52.40"),
                Decimal("129.00"),
                "Apparel",
                uom="Pair",
                variant_of="SHOE-TRAIL",
                attributes=(("Size", size),),
                weight_kg=Decimal("0.65"),
            )
        )
    return [(sock,), (template, *sizes)]


def generate(seed: int = 42, skus: int = 500, stores: int = 12) -> Dataset:
    """Build the sample retailer: ``skus`` sellable SKUs (kits included) and ``stores`` stores."""
    if stores < 2:
        raise ValueError("need at least two stores")
    rng = random.Random(seed)
    ids = _Ids(rng)
    used_barcodes = {"4006381333931", "4006381333948", "4006381333955"}
    families: list[tuple[Item, ...]] = _fixture_items()
    sellable = 3
    n = 0
    kit_target = max(2, skus // 20)
    while sellable < skus - kit_target:
        n += 1
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS[category])}"
        code = f"{_slug(category)[:4].upper()}-{n:05d}"
        cost = _money(rng, 3, 90)
        price = (cost * Decimal("2.4")).quantize(Decimal("1")) - Decimal("0.01")
        tax = _TAX.get(category, "Standard")
        sizes = _SIZES.get(category)
        if sizes and rng.random() < 0.45 and sellable + len(sizes) <= skus - kit_target:
            template = Item(
                code, name, category, None, None, Decimal("0"), price, tax, has_variants=True
            )
            variants = []
            for size in sizes:
                barcode, kind = _barcode(rng, used_barcodes)
                variants.append(
                    Item(
                        f"{code}-{size}",
                        f"{name}-{size}",
                        category,
                        barcode,
                        kind,
                        cost,
                        price,
                        tax,
                        variant_of=code,
                        attributes=(("Size", size),),
                    )
                )
            families.append((template, *variants))
            sellable += len(variants)
        else:
            barcode, kind = _barcode(rng, used_barcodes)
            families.append((Item(code, name, category, barcode, kind, cost, price, tax),))
            sellable += 1

    items: dict[str, Item] = {i.sku: i for family in families for i in family}
    simple_skus = [f[0].sku for f in families if len(f) == 1]
    kits: dict[str, Kit] = {}
    for k in range(skus - sellable):
        parts = rng.sample(simple_skus, rng.choice((2, 2, 3)))
        components = tuple((p, rng.choice((1, 1, 2))) for p in parts)
        sku = f"KIT-{k + 1:04d}"
        price = sum(items[p].list_price * q for p, q in components) * Decimal("0.9")
        barcode, kind = _barcode(rng, used_barcodes)
        items[sku] = Item(
            sku,
            f"{items[parts[0]].name} Bundle",
            "Bundles",
            barcode,
            kind,
            Decimal("0"),
            price.quantize(Decimal("0.01")),
            "Standard",
            is_stock_item=False,
        )
        kits[sku] = Kit(sku, components)
        families.append((items[sku],))

    group = Warehouse(f"All Warehouses - {COMPANY_ABBR}", "All Warehouses", 0.0, 0.0, is_group=True)
    warehouses = (
        [group]
        + [
            Warehouse(f"{name} - {COMPANY_ABBR}", name, lat, lng, parent=group.name)
            for name, lat, lng in WAREHOUSES
        ]
        + [
            Warehouse(
                f"Goods In Transit - {COMPANY_ABBR}",
                "Goods In Transit",
                0.0,
                0.0,
                warehouse_type="Transit",
                parent=group.name,
            )
        ]
    )

    store_list = [
        Store(
            "L8D2Q4W5ZC1XN",
            "Downtown Store",
            "Berlin",
            "Kastanienallee 80",
            "10435",
            52.5386,
            13.4106,
            pickup=True,
            ship_from_store=True,
        ),
        Store(
            "LB3K7N9PD2XWE",
            "Harbour Kiosk",
            "Berlin",
            "Am Spreeufer 3",
            "10178",
            52.5127,
            13.4101,
            pickup=False,
            ship_from_store=False,
        ),
    ]
    for s in range(stores - 2):
        city, lat, lng = CITIES[s % len(CITIES)]
        ring = s // len(CITIES)
        if ring:
            lat += rng.uniform(-0.08, 0.08)
            lng += rng.uniform(-0.12, 0.12)
        store_list.append(
            Store(
                ids.square(13),
                f"{city} Store {ring + 1}" if ring else f"{city} Store",
                city,
                f"{rng.choice(_STREETS)}strasse {rng.randrange(1, 120)}",
                f"{rng.randrange(10000, 99999)}",
                round(lat, 6),
                round(lng, 6),
                pickup=rng.random() < 0.85,
                ship_from_store=rng.random() < 0.5,
            )
        )

    web_products: dict[int, WebProduct] = {}
    pos_items: list[PosItem] = []
    for family in families:
        head = family[0]
        if head.sku == "SOCK-MER-CREW-M":
            web_id = 4812
        elif head.sku == "SHOE-TRAIL":
            web_id = 4820
        else:
            web_id = ids.web()
        is_kit = head.sku in kits
        if len(family) == 1:
            web_products[web_id] = WebProduct(
                web_id,
                head.sku,
                head.name,
                "simple",
                head.list_price,
                head.list_price,
                manage_stock=not is_kit,
                category=head.category,
                barcode=head.barcode or "",
                status="publish" if rng.random() < 0.97 else "draft",
            )
        else:
            variation_ids = []
            for variant in family[1:]:
                vid = (
                    4821
                    if variant.sku == "SHOE-TRAIL-42"
                    else (4822 if variant.sku == "SHOE-TRAIL-43" else ids.web())
                )
                variation_ids.append(vid)
                web_products[vid] = WebProduct(
                    vid,
                    variant.sku,
                    variant.name,
                    "variation",
                    variant.list_price,
                    variant.list_price,
                    parent_id=web_id,
                    attributes=variant.attributes,
                    category=variant.category,
                    barcode=variant.barcode or "",
                    backorders="notify" if rng.random() < 0.1 else "no",
                )
            web_products[web_id] = WebProduct(
                web_id,
                "",
                head.name,
                "variable",
                head.list_price,
                head.list_price,
                manage_stock=False,
                variation_ids=tuple(variation_ids),
                category=head.category,
                attributes=(("Size", "|".join(v.attributes[0][1] for v in family[1:])),),
            )

        members = family if len(family) == 1 else family[1:]
        variations = []
        for member in members:
            vid = {
                "SOCK-MER-CREW-M": "VJ6R3KTW2XQ8ML5CH4PN7ZBY",
                "SHOE-TRAIL-42": "H7CY2PB5WK3XQ9TN6RMZ4LDV",
                "SHOE-TRAIL-43": "R2ML6XV8TQ4NC7ZK3PBY5WHD",
            }.get(member.sku) or ids.square(24)
            label = member.attributes[0][1] if member.attributes else "Regular"
            # Store prices sometimes differ from the list price (local promotions).
            price = member.list_price if rng.random() < 0.9 else member.list_price - Decimal(2)
            variations.append((vid, label, member.sku, int(price * 100)))
        item_id = {
            "SOCK-MER-CREW-M": "2XQKBYV6TM4ZLPFH7NC3R5WD",
            "SHOE-TRAIL": "N4TZ7WQ2KX6BR3YL5HVC8MDP",
        }.get(head.sku) or ids.square(24)
        pos_items.append(PosItem(item_id, head.name, head.category, tuple(variations)))

    stock_skus = [s for s, i in items.items() if i.sellable and i.is_stock_item]
    drift = frozenset(s for s in stock_skus if _draw(seed, "drifts", s) % 100 < 6)
    return Dataset(seed, items, kits, warehouses, store_list, web_products, pos_items, drift)
