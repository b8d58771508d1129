"""The store's catalogue, drawn from the sample dataset: locations (one per gateway node, in
node order, so the Central Warehouse is the contract's Location/71234560001), product
variants (SKU -> gid; the contract's two keep their ids, the rest are numbered in dataset
order) and return reason definitions; plus the gid, money and time helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.retailer import Dataset

# The contract's two variants; every other SKU gets a number from VARIANT_BASE on.
PINNED_VARIANTS = {
    "SHOE-TRAIL-42": "gid://shopify/ProductVariant/44120001",
    "SOCK-MER-CREW-M": "gid://shopify/ProductVariant/44120100",
}
VARIANT_BASE = 45_000_001
PRODUCT_BASE = 9_120_000_001
FIRST_ORDER_NUMBER = 1043  # "#1043" in the contract

# First number per gid type, taken from the contract examples.
ID_STARTS = {
    "Order": 6_120_456_781_234,
    "LineItem": 15_230_001,
    "FulfillmentOrder": 7_340_112_233_001,
    "FulfillmentOrderLineItem": 15_501,
    "FulfillmentHold": 210_034,
    "Fulfillment": 5_980_012_345,
    "FulfillmentLineItem": 4_410_001,
    "Return": 9_112_000_041,
    "ReturnLineItem": 1_200_551,
    "ReverseFulfillmentOrder": 6_650_031,
    "Job": 88_120_001,
    # Not in the contract: numbers of the size a live store answers with.
    "CalculatedOrder": 106_656_825_650,
    "OrderEdit": 78_912_328,
    "BasicEvent": 177_047_163_830_578,
}

# (number, handle, name). /27 "too-small" is the contract's; the rest are invented stand-ins
# for Shopify's return reason library (its ids and most handles are not in the contract).
REASON_DEFINITIONS = (
    (20, "color", "Color"),
    (21, "defective", "Defective"),
    (22, "damaged", "Damaged"),
    (23, "not-as-described", "Not as described"),
    (24, "wrong-item", "Wrong item received"),
    (25, "style", "Style"),
    (26, "too-large", "Too large"),
    (27, "too-small", "Too small"),
    (28, "does-not-fit", "Doesn't fit"),
    (29, "unwanted", "Changed my mind"),
    (30, "other", "Other"),
)


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: str) -> int:
    """The trailing number of a gid (0 when there is none), for id ordering and cursors."""
    tail = value.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": str(amount.quantize(Decimal("0.01"))), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def iso(moment: datetime) -> str:
    """Shopify's DateTime style: UTC to the second, trailing Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(eq=False)
class Location:
    id: str
    name: str
    is_active: bool = True
    fulfills_online_orders: bool = True


@dataclass(eq=False)
class Variant:
    id: str
    sku: str
    title: str
    price: Decimal
    product: dict[str, str]

    @property
    def display_name(self) -> str:
        return f"{self.product['title']} - {self.title}"


@dataclass(eq=False)
class ReasonDefinition:
    id: str
    handle: str
    name: str
    deleted: bool = False


def variants(dataset: Dataset) -> Iterator[Variant]:
    products: dict[str, dict[str, str]] = {}
    for index, sku in enumerate(dataset.sellable_skus):
        item = dataset.items[sku]
        family = item.variant_of or sku
        if family not in products:
            parent = dataset.items.get(family, item)
            title = parent.name if item.variant_of else item.name
            products[family] = {"id": gid("Product", PRODUCT_BASE + len(products)), "title": title}
        title = ", ".join(value for _, value in item.attributes) or "Default Title"
        variant_id = PINNED_VARIANTS.get(sku) or gid("ProductVariant", VARIANT_BASE + index)
        yield Variant(variant_id, sku, title, item.list_price, products[family])
