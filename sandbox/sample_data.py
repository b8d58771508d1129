"""Generates the one deterministic sample retailer shared by all simulators, the demo, tests
and benchmarks (the model is ``sandbox.retailer``).

``generate(seed, skus, stores)`` returns the same dataset for the same arguments.
"""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from sandbox.retailer import (
    BASE_TIME,
    COMPANY_ABBR,
    Dataset,
    Item,
    Kit,
    PosItem,
    Store,
    Warehouse,
    WebProduct,
    draw,
    slugify,
)

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


# Every 25th simple item sells marked-down packs with in-store price labels (no rng drawn,
# so the rest of the dataset is as before).
LABELLED_EVERY = 25
PRICE_LABEL_PREFIX = "21"  # the gateway's default layout: a price in cents, 5-digit item


def price_label_template(n: int) -> str:
    """The template of item ``n``'s price labels: prefix 21, item reference ``n`` (five
    digits), the price zeroed; a label carries the price in place of the zeros."""
    body = f"{PRICE_LABEL_PREFIX}{n:05d}00000"
    return body + gtin_check_digit(body)


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


def generate(
    seed: int = 42, skus: int = 500, stores: int = 12, base_time: datetime | None = None
) -> Dataset:
    """Build the sample retailer: ``skus`` sellable SKUs (kits included) and ``stores`` stores.

    ``base_time`` is the moment the data describes (figures are stamped shortly before it,
    and the simulators' clocks start there): a fixed one by default, so the contracts'
    examples and the tests' expectations hold; the demo passes the current time, so its
    figures are not stale by construction."""
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
        code = f"{slugify(category)[:4].upper()}-{n:05d}"
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
            label = price_label_template(n) if n % LABELLED_EVERY == 0 else None
            item = Item(code, name, category, barcode, kind, cost, price, tax, label_barcode=label)
            families.append((item,))
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
        variations: list[tuple[str, str, str, int]] = []
        for member in members:
            variation_id = {
                "SOCK-MER-CREW-M": "VJ6R3KTW2XQ8ML5CH4PN7ZBY",
                "SHOE-TRAIL-42": "H7CY2PB5WK3XQ9TN6RMZ4LDV",
                "SHOE-TRAIL-43": "R2ML6XV8TQ4NC7ZK3PBY5WHD",
            }.get(member.sku) or ids.square(24)
            label = member.attributes[0][1] if member.attributes else "Regular"
            # Store prices sometimes differ from the list price (local promotions).
            price = member.list_price if rng.random() < 0.9 else member.list_price - Decimal(2)
            variations.append((variation_id, label, member.sku, int(price * 100)))
        item_id = {
            "SOCK-MER-CREW-M": "2XQKBYV6TM4ZLPFH7NC3R5WD",
            "SHOE-TRAIL": "N4TZ7WQ2KX6BR3YL5HVC8MDP",
        }.get(head.sku) or ids.square(24)
        pos_items.append(PosItem(item_id, head.name, head.category, tuple(variations)))

    stock_skus = [s for s, i in items.items() if i.sellable and i.is_stock_item]
    drift = frozenset(s for s in stock_skus if draw(seed, "drifts", s) % 100 < 6)
    return Dataset(
        seed,
        items,
        kits,
        warehouses,
        store_list,
        web_products,
        pos_items,
        drift,
        base_time=BASE_TIME if base_time is None else base_time,
    )
