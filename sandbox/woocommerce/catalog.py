"""The simulator's own mutable product table, seeded from the sample dataset, and the write
rules WooCommerce applies when a product or variation is saved.

Stock rules (WC_Product::validate_props, woocommerce_notify_no_stock_amount = 0): with
manage_stock on, stock_status follows the quantity (> 0 instock; otherwise onbackorder
when backorders are allowed, else outofstock). stock_quantity is only honoured while
manage_stock is on. A variable product's stock_status is synced from its variations.

Every save, creation and deletion is told to ``listeners`` (record, "created" | "updated" |
"deleted"), as WooCommerce fires woocommerce_update_product and its kin: the shop's
webhooks hang there (sandbox.woocommerce.webhooks).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.retailer import Dataset, WebProduct
from sandbox.woocommerce.wire import WPError

# Term ids of the product_cat taxonomy; Socks and Footwear as in the contract fixtures.
CATEGORY_IDS = {
    "Socks": 21,
    "Base Layers": 22,
    "Gloves": 23,
    "Footwear": 24,
    "Jackets": 25,
    "Bags": 26,
    "Headwear": 27,
    "Camping": 28,
    "Bottles": 29,
    "Accessories": 30,
    "Bundles": 31,
}
# Global attribute taxonomies (pa_*): Size is attribute 3 as in the fixtures.
ATTRIBUTE_IDS = {"Size": 3}


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def fold_sku(sku: str) -> str:
    """SKUs as MySQL's default collation compares them: case-insensitive, trailing spaces
    ignored."""
    return sku.casefold().rstrip()


def derived_stock_status(quantity: int | None, backorders: str) -> str:
    if (quantity or 0) > 0:
        return "instock"
    return "onbackorder" if backorders != "no" else "outofstock"


@dataclass
class Record:
    """One row of wp_posts + its product meta: a simple/variable product or a variation."""

    id: int
    type: str  # simple | grouped | external | variable | variation
    name: str
    sku: str
    status: str
    created: datetime  # aware UTC
    modified: datetime  # aware UTC
    parent_id: int = 0
    regular_price: Decimal | None = None
    sale_price: Decimal | None = None
    manage_stock: bool = False
    stock_quantity: int | None = None
    stock_status: str = "instock"
    backorders: str = "no"
    low_stock_amount: int | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    variation_ids: list[int] = field(default_factory=list)
    category: str = ""
    barcode: str = ""
    weight: str = ""
    description: str = ""
    total_sales: int = 0
    menu_order: int = 0

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def own_price(self) -> Decimal | None:
        return self.sale_price if self.sale_price is not None else self.regular_price


class Catalog:
    def __init__(
        self, dataset: Dataset, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._clock = clock
        self.records: dict[int, Record] = {}
        for product in dataset.web_products.values():
            self.records[product.id] = _seed_record(dataset, product)
        for record in self.records.values():
            if record.type == "variation":
                parent = self.records[record.parent_id]
                options = ", ".join(value for _, value in record.attributes)
                record.name = f"{parent.name} - {options}"
                record.created = parent.created + timedelta(minutes=6)
                record.modified = max(record.modified, record.created)
        for record in self.records.values():
            if record.type == "variable":
                self._sync_variable(record)
        self._next_id = max(self.records, default=5000) + 1
        self._sku_index: dict[str, list[Record]] | None = None
        self.listeners: list[Callable[[Record, str], None]] = []

    # --- reading --------------------------------------------------------------------------

    def get(self, record_id: int) -> Record | None:
        return self.records.get(record_id)

    def with_skus(self, folded_skus: Iterable[str]) -> list[Record]:
        """Records whose SKU, case-folded and right-trimmed, is one of ``folded_skus``."""
        if self._sku_index is None:
            # Built on demand and dropped on writes: a 50,000-SKU catalogue is not scanned
            # once per request.
            self._sku_index = {}
            for record in self.records.values():
                if record.sku:
                    self._sku_index.setdefault(fold_sku(record.sku), []).append(record)
        found = {r.id: r for sku in folded_skus for r in self._sku_index.get(sku, ())}
        return list(found.values())

    def children(self, parent: Record) -> list[Record]:
        return [self.records[i] for i in parent.variation_ids if i in self.records]

    def price(self, record: Record) -> Decimal | None:
        """The current price; a variable product shows its cheapest published variation."""
        if record.type != "variable":
            return record.own_price
        prices = [
            p
            for child in self.children(record)
            if child.status == "publish" and (p := child.own_price) is not None
        ]
        return min(prices, default=None)

    def price_range(self, record: Record) -> tuple[Decimal, Decimal] | None:
        if record.type != "variable":
            price = record.own_price
            return None if price is None else (price, price)
        prices = [p for c in self.children(record) if (p := c.own_price) is not None]
        return (min(prices), max(prices)) if prices else None

    # --- writing (WC_REST_Products_Controller / _Product_Variations_Controller) ------------

    def update_product(self, record: Record, args: Mapping[str, Any]) -> None:
        self._common_fields(record, args)
        if "name" in args:
            record.name = args["name"]
        if "type" in args:
            record.type = args["type"]
        stock_status = args.get("stock_status", record.stock_status)
        if "manage_stock" in args:
            record.manage_stock = args["manage_stock"]
        if "backorders" in args:
            record.backorders = args["backorders"]
        if record.type in ("grouped", "external"):
            record.manage_stock, record.backorders, record.stock_quantity = False, "no", None
            record.stock_status = "instock" if record.type == "external" else stock_status
        elif record.manage_stock:
            if record.type != "variable":
                record.stock_status = stock_status
            self._stock_fields(record, args)
        else:
            record.stock_quantity, record.low_stock_amount = None, None
            record.stock_status = stock_status
        self._save(record)

    def update_variation(self, record: Record, args: Mapping[str, Any]) -> None:
        self._common_fields(record, args)
        if "manage_stock" in args:
            record.manage_stock = args["manage_stock"]
        if "stock_status" in args:
            record.stock_status = args["stock_status"]
        if "backorders" in args:
            record.backorders = args["backorders"]
        if record.manage_stock:
            self._stock_fields(record, args)
        else:
            record.backorders, record.stock_quantity, record.low_stock_amount = "no", None, None
        self._save(record)

    def adjust_stock(self, record: Record, delta: int) -> None:
        """wc_update_product_stock with increase/decrease: only a managed stock moves."""
        if not record.manage_stock or delta == 0:
            return
        record.stock_quantity = (record.stock_quantity or 0) + delta
        self._save(record)

    def create_product(self, args: Mapping[str, Any]) -> Record:
        now = self._now()
        kind = args.get("type", "simple")
        record = Record(self._take_id(), kind, "", "", args.get("status", "publish"), now, now)
        self.update_product(record, args)
        self.records[record.id] = record
        self._sku_index = None
        self._notify(record, "created")
        return record

    def create_variation(self, parent: Record, args: Mapping[str, Any]) -> Record:
        now = self._now()
        record = Record(
            self._take_id(), "variation", parent.name, "", "publish", now, now, parent.id
        )
        record.category = parent.category
        self.update_variation(record, args)
        self.records[record.id] = record
        self._sku_index = None
        parent.variation_ids.append(record.id)
        self._sync_variable(parent)
        self._notify(record, "created")
        return record

    def delete(self, record: Record) -> None:
        for child in self.children(record):
            self.records.pop(child.id, None)
        self.records.pop(record.id, None)
        self._sku_index = None
        parent = self.records.get(record.parent_id)
        if parent is not None and record.id in parent.variation_ids:
            parent.variation_ids.remove(record.id)
            self._sync_variable(parent)
        self._notify(record, "deleted")

    def _common_fields(self, record: Record, args: Mapping[str, Any]) -> None:
        if "sku" in args:
            self._set_sku(record, args["sku"].strip())
        if "global_unique_id" in args:
            record.barcode = args["global_unique_id"].strip()
        if "status" in args:
            record.status = args["status"]
        if "description" in args:
            record.description = args["description"]
        if record.type in ("variable", "grouped"):
            record.regular_price = record.sale_price = None
            return
        if "regular_price" in args:
            record.regular_price = _money(args["regular_price"])
        if "sale_price" in args:
            record.sale_price = _money(args["sale_price"])

    def _stock_fields(self, record: Record, args: Mapping[str, Any]) -> None:
        if "stock_quantity" in args:
            record.stock_quantity = args["stock_quantity"]
        elif "inventory_delta" in args:
            record.stock_quantity = (record.stock_quantity or 0) + args["inventory_delta"]
        if "low_stock_amount" in args:
            record.low_stock_amount = args["low_stock_amount"]

    def _set_sku(self, record: Record, sku: str) -> None:
        if sku and any(other.id != record.id for other in self.with_skus([fold_sku(sku)])):
            raise WPError("product_invalid_sku", "Invalid or duplicated SKU.", 400)
        if sku != record.sku:
            record.sku = sku
            self._sku_index = None

    def _save(self, record: Record) -> None:
        if record.manage_stock and record.type != "variable":
            record.stock_status = derived_stock_status(record.stock_quantity, record.backorders)
        record.modified = self._now()
        if record.type == "variable":
            self._sync_variable(record)
        parent = self.records.get(record.parent_id)
        if record.type == "variation" and parent is not None:
            self._sync_variable(parent)
        if record.id in self.records:  # a record being created is announced once, as created
            self._notify(record, "updated")

    def _notify(self, record: Record, event: str) -> None:
        for listener in self.listeners:
            listener(record, event)

    def _sync_variable(self, parent: Record) -> None:
        statuses = {c.stock_status for c in self.children(parent) if c.status == "publish"}
        if "instock" in statuses:
            parent.stock_status = "instock"
        elif "onbackorder" in statuses:
            parent.stock_status = "onbackorder"
        else:
            parent.stock_status = "outofstock"

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)


def _money(value: str) -> Decimal | None:
    try:
        return Decimal(value).quantize(Decimal("0.01")) if value.strip() else None
    except InvalidOperation:
        return None


def _draw(seed: int, *parts: object) -> int:
    key = "|".join(str(p) for p in (seed, "woo", *parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def _seed_record(dataset: Dataset, product: WebProduct) -> Record:
    h = _draw(dataset.seed, product.id)
    created = dataset.base_time - timedelta(days=20 + h % 250, seconds=(h >> 12) % 86_400)
    modified = max(created, dataset.base_time - timedelta(minutes=(h >> 32) % 14_400))
    item = dataset.items.get(product.sku)
    managed = product.manage_stock and product.type != "variable"
    quantity = dataset.web_stock(product.sku) if managed else None
    return Record(
        id=product.id,
        type=product.type,
        name=product.name,
        sku=product.sku,
        status=product.status,
        created=created.replace(microsecond=0),
        modified=modified.replace(microsecond=0),
        parent_id=product.parent_id,
        regular_price=None if product.type == "variable" else product.regular_price,
        sale_price=(
            product.price
            if product.type != "variable" and product.price != product.regular_price
            else None
        ),
        manage_stock=managed,
        stock_quantity=quantity,
        stock_status=derived_stock_status(quantity, product.backorders) if managed else "instock",
        backorders=product.backorders,
        low_stock_amount=product.low_stock_amount if managed else None,
        attributes=product.attributes,
        variation_ids=list(product.variation_ids),
        category=product.category,
        barcode=product.barcode,
        weight=str(item.weight_kg) if item is not None and product.type != "variable" else "",
        description=f"<p>{product.name}.</p>\n" if product.type != "variation" else "",
        total_sales=0 if product.type == "variation" else (h >> 40) % 400,
    )
