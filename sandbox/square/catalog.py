"""The Square catalog built from the sample dataset: ITEMs with embedded ITEM_VARIATIONs,
CATEGORY objects, the merchant's "Shelf" CUSTOM_ATTRIBUTE_DEFINITION, and ListCatalog paging
(SearchCatalogObjects is in ``search``).

Objects are rendered on demand from ``dataset.pos_items``; only small indexes (variation id,
SKU) are kept, so a 50,000-SKU catalogue stays cheap. What the dataset does not say (alert
thresholds, per-store prices, shelf locations) is drawn from a hash so it is the same on
every run.

Square has no shelf field: merchants add a STRING custom attribute in the Dashboard. Such a
definition has a UUID ``key`` and ``source_application.application_id`` "Square", and each
object carries its value in ``custom_attribute_values`` under the key qualified by that
application id ("Square:<uuid>"), as another application (the gateway) reads it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sandbox.retailer import CURRENCY, Dataset, PosItem
from sandbox.square.wire import decode_cursor, fingerprint, invalid, page, rfc3339

OBJECT_TYPES = frozenset(
    {
        "ITEM",
        "IMAGE",
        "CATEGORY",
        "ITEM_VARIATION",
        "TAX",
        "DISCOUNT",
        "MODIFIER_LIST",
        "MODIFIER",
        "PRICING_RULE",
        "PRODUCT_SET",
        "TIME_PERIOD",
        "MEASUREMENT_UNIT",
        "SUBSCRIPTION_PLAN_VARIATION",
        "ITEM_OPTION",
        "ITEM_OPTION_VAL",
        "CUSTOM_ATTRIBUTE_DEFINITION",
        "QUICK_AMOUNTS_SETTINGS",
        "SUBSCRIPTION_PLAN",
        "AVAILABILITY_PERIOD",
    }
)
# Nested types (ITEM_VARIATION, MODIFIER, ...) are only returned when asked for by name.
DEFAULT_TYPES = ("CATEGORY", "ITEM")
LIST_PAGE_SIZE = 100

# Searchable attributes per object type (CatalogQuery docs); other names are refused.
SEARCHABLE = {
    "ITEM": ("name", "description", "abbreviation"),
    "ITEM_VARIATION": ("name", "sku", "upc"),
    "CATEGORY": ("name",),
}
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SHELF_ATTRIBUTE = "Shelf"
_AISLES = "ABCDEFGH"


def square_id(*parts: object, length: int = 24) -> str:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=32).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def _draw(*parts: object) -> int:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True, slots=True)
class Variation:
    id: str
    item_id: str
    name: str
    sku: str
    price_minor: int
    ordinal: int
    track_inventory: bool
    upc: str | None
    category: str


Ref = tuple[str, str]  # (object type, key): rendered only when it lands on a page


class Catalog:
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.currency = CURRENCY
        self.updated_at = dataset.base_time - timedelta(hours=17, minutes=19, seconds=56.882)
        self.version = int(self.updated_at.timestamp() * 1000)
        self.store_ids = [s.id for s in dataset.stores]
        self.items: dict[str, PosItem] = {item.id: item for item in dataset.pos_items}
        self.variations: dict[str, Variation] = {}
        self._by_sku: dict[str, list[str]] = {}
        for item in dataset.pos_items:
            for ordinal, (vid, name, sku, price) in enumerate(item.variations, start=1):
                master = dataset.items.get(sku)
                self.variations[vid] = Variation(
                    vid,
                    item.id,
                    name,
                    sku,
                    price,
                    ordinal,
                    bool(master and master.is_stock_item),
                    master.barcode if master else None,
                    item.category,
                )
                self._by_sku.setdefault(sku.casefold(), []).append(vid)
        self._position = {vid: i for i, vid in enumerate(self.variations)}
        self.categories = {
            name: square_id(dataset.seed, "category", name)
            for name in dict.fromkeys(item.category for item in dataset.pos_items)
        }
        self._category_names = {cid: name for name, cid in self.categories.items()}
        self.shelf_definition_id = square_id(dataset.seed, "custom-attribute", SHELF_ATTRIBUTE)
        digest = hashlib.blake2b(f"{dataset.seed}|shelf-key".encode(), digest_size=16).digest()
        self.shelf_key = str(uuid.UUID(bytes=digest, version=4))

    # --- rendering ---------------------------------------------------------------------------

    def _envelope(self, kind: str, object_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "id": object_id,
            "updated_at": rfc3339(self.updated_at),
            "version": self.version,
            "is_deleted": False,
            "present_at_all_locations": True,
        }

    def location_overrides(self, v: Variation) -> list[dict[str, Any]]:
        """A low-stock alert at the flagship store; a local promotion price at one store
        for about one variation in ten."""
        overrides: list[dict[str, Any]] = []
        if v.track_inventory:
            overrides.append(
                {
                    "location_id": self.store_ids[0],
                    "track_inventory": True,
                    "inventory_alert_type": "LOW_QUANTITY",
                    "inventory_alert_threshold": 2 if v.category == "Footwear" else 5,
                }
            )
        h = _draw(self.dataset.seed, "square-promo", v.id)
        if h % 10 == 0:
            store = self.store_ids[1 + (h >> 8) % (len(self.store_ids) - 1)]
            promo = v.price_minor - max(100, v.price_minor // 10)
            overrides.append(
                {
                    "location_id": store,
                    "price_money": {"amount": max(promo, 0), "currency": self.currency},
                    "pricing_type": "FIXED_PRICING",
                    "track_inventory": v.track_inventory,
                }
            )
        return overrides

    def shelf(self, v: Variation) -> str | None:
        """Aisle A-H, bay 1-20, level 1-5 ("C-07-2"); about one SKU in ten has none."""
        h = _draw(self.dataset.seed, "square-shelf", v.sku)
        if h % 10 == 0:
            return None
        aisle = _AISLES[(h >> 8) % len(_AISLES)]
        return f"{aisle}-{1 + (h >> 16) % 20:02d}-{1 + (h >> 24) % 5}"

    def custom_attribute_values(self, v: Variation) -> dict[str, Any]:
        shelf = self.shelf(v)
        if shelf is None:
            return {}
        key = f"Square:{self.shelf_key}"  # qualified: defined in the Dashboard, not by us
        value = {
            "name": SHELF_ATTRIBUTE,
            "string_value": shelf,
            "custom_attribute_definition_id": self.shelf_definition_id,
            "type": "STRING",
            "key": key,
        }
        return {key: value}

    def variation_object(self, v: Variation) -> dict[str, Any]:
        data: dict[str, Any] = {
            "item_id": v.item_id,
            "name": v.name,
            "sku": v.sku,
            "ordinal": v.ordinal,
            "pricing_type": "FIXED_PRICING",
            "price_money": {"amount": v.price_minor, "currency": self.currency},
            "track_inventory": v.track_inventory,
            "sellable": True,
            "stockable": True,
        }
        if v.upc:
            data["upc"] = v.upc
        overrides = self.location_overrides(v)
        if overrides:
            data["location_overrides"] = overrides
        envelope = self._envelope("ITEM_VARIATION", v.id)
        custom = self.custom_attribute_values(v)
        if custom:
            envelope["custom_attribute_values"] = custom
        return {**envelope, "item_variation_data": data}

    def item_object(self, item: PosItem) -> dict[str, Any]:
        data = {
            "name": item.name,
            "product_type": "REGULAR",
            "categories": [{"id": self.categories[item.category], "ordinal": 0}],
            "is_archived": False,
            "variations": [self.variation_object(self.variations[v[0]]) for v in item.variations],
        }
        return {**self._envelope("ITEM", item.id), "item_data": data}

    def category_object(self, name: str) -> dict[str, Any]:
        envelope = self._envelope("CATEGORY", self.categories[name])
        return {**envelope, "category_data": {"name": name, "is_top_level": True}}

    def shelf_definition_object(self) -> dict[str, Any]:
        data = {
            "type": "STRING",
            "name": SHELF_ATTRIBUTE,
            "source_application": {"application_id": "Square"},
            "allowed_object_types": ["ITEM_VARIATION"],
            "seller_visibility": "SELLER_VISIBILITY_READ_WRITE_VALUES",
            "app_visibility": "APP_VISIBILITY_READ_WRITE_VALUES",
            "string_config": {"enforce_uniqueness": False},
            "key": self.shelf_key,
        }
        envelope = self._envelope("CUSTOM_ATTRIBUTE_DEFINITION", self.shelf_definition_id)
        return {**envelope, "custom_attribute_definition_data": data}

    def render(self, ref: Ref) -> dict[str, Any]:
        kind, key = ref
        if kind == "CUSTOM_ATTRIBUTE_DEFINITION":
            return self.shelf_definition_object()
        if kind == "ITEM":
            return self.item_object(self.items[key])
        if kind == "ITEM_VARIATION":
            return self.variation_object(self.variations[key])
        return self.category_object(self._category_names[key])

    def refs(self, types: Iterable[str]) -> list[Ref]:
        wanted = set(types)
        refs: list[Ref] = []
        if "CATEGORY" in wanted:
            refs += [("CATEGORY", cid) for cid in self.categories.values()]
        if "ITEM" in wanted:
            refs += [("ITEM", iid) for iid in self.items]
        if "ITEM_VARIATION" in wanted:
            refs += [("ITEM_VARIATION", vid) for vid in self.variations]
        if "CUSTOM_ATTRIBUTE_DEFINITION" in wanted:
            refs.append(("CUSTOM_ATTRIBUTE_DEFINITION", self.shelf_definition_id))
        return refs

    def attribute(self, ref: Ref, name: str) -> str | None:
        kind, key = ref
        if name not in SEARCHABLE.get(kind, ()):
            return None
        if kind == "ITEM":
            return self.items[key].name if name == "name" else None
        if kind == "CATEGORY":
            return self._category_names[key]
        v = self.variations[key]
        return {"name": v.name, "sku": v.sku, "upc": v.upc}[name]

    # --- ListCatalog -------------------------------------------------------------------------

    def list_objects(self, types_param: str | None, cursor: str | None) -> dict[str, Any]:
        types = parse_types(types_param.split(",") if types_param else None, "types")
        refs = self.refs(types)
        query = fingerprint("list", sorted(types))
        chunk, next_cursor = page(refs, decode_cursor(cursor, query), LIST_PAGE_SIZE, query)
        body: dict[str, Any] = {}
        if next_cursor:
            body["cursor"] = next_cursor
        if chunk:
            body["objects"] = [self.render(ref) for ref in chunk]
        return body

    def sku_refs(self, types: Iterable[str], values: Iterable[str]) -> list[Ref]:
        """Variations whose SKU is one of ``values`` (case-folded), through the index."""
        if "ITEM_VARIATION" not in types:
            return []  # only variations carry a SKU
        ids = {vid for value in values for vid in self._by_sku.get(value, ())}
        return [("ITEM_VARIATION", vid) for vid in sorted(ids, key=self._position.__getitem__)]


def parse_types(values: list[str] | None, field: str) -> list[str]:
    if not values:
        return list(DEFAULT_TYPES)
    types = []
    for i, raw in enumerate(values):
        kind = raw.strip().upper()
        if kind not in OBJECT_TYPES:
            where = field if field == "types" else f"{field}[{i}]"
            raise invalid("INVALID_ENUM_VALUE", f"`{raw}` is not a valid CatalogObjectType.", where)
        types.append(kind)
    return types
