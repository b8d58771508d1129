"""The unified product: which system wins for which field is the configured policy.

``merge_product`` is pure; ``CatalogService`` gathers the sources concurrently.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.barcodes import equivalent_forms, validate_gtin
from gateway.domain import (
    ItemMaster,
    Kit,
    PosVariation,
    Product,
    SourceSystem,
    WebListing,
)
from gateway.errors import BadUserInput, NotFound
from gateway.ports import ErpPort, PosPort, StorefrontPort

FieldPolicy = Mapping[str, Sequence[SourceSystem]]


def _candidates(
    item: ItemMaster | None, listing: WebListing | None, variation: PosVariation | None
) -> dict[str, dict[SourceSystem, Any]]:
    """Every field each source can speak for, None where it has nothing to say."""
    return {
        "name": {
            SourceSystem.ERP: item and item.name,
            SourceSystem.STOREFRONT: listing and listing.name,
            SourceSystem.POS: variation and variation.name,
        },
        "category": {SourceSystem.ERP: item and item.category},
        "barcodes": {SourceSystem.ERP: item.barcodes if item and item.barcodes else None},
        "cost": {SourceSystem.ERP: item and item.cost},
        "tax_category": {SourceSystem.ERP: item and item.tax_category},
        "description": {SourceSystem.ERP: item and item.description},
        "list_price": {SourceSystem.ERP: item and item.list_price},
        "web_price": {
            SourceSystem.STOREFRONT: listing and listing.price,
            SourceSystem.ERP: item and item.list_price,
        },
        "store_price": {
            SourceSystem.POS: variation and variation.price,
            SourceSystem.ERP: item and item.list_price,
        },
        "web_status": {SourceSystem.STOREFRONT: listing and listing.status},
        "permalink": {SourceSystem.STOREFRONT: listing and listing.permalink},
    }


def merge_product(
    sku: str,
    item: ItemMaster | None,
    listing: WebListing | None,
    variation: PosVariation | None,
    kit: Kit | None,
    policy: FieldPolicy,
) -> Product | None:
    """The product as the policy says; None when no system knows the SKU."""
    if item is None and listing is None and variation is None:
        return None
    values: dict[str, Any] = {}
    sources: dict[str, SourceSystem] = {}
    for field_name, by_source in _candidates(item, listing, variation).items():
        values[field_name] = None
        for source in policy.get(field_name, ()):
            value = by_source.get(source)
            if value:
                values[field_name] = value
                sources[field_name] = source
                break
    return Product(
        sku=sku,
        name=values["name"] or sku,
        category=values["category"],
        barcodes=values["barcodes"] or (),
        cost=values["cost"],
        tax_category=values["tax_category"],
        description=values["description"],
        variant_of=item.variant_of if item else None,
        list_price=values["list_price"],
        web_price=values["web_price"],
        store_price=values["store_price"],
        web_status=values["web_status"],
        permalink=values["permalink"],
        kit=kit,
        field_sources=sources,
        web_listing=listing,
    )


@dataclass(frozen=True, slots=True)
class ProductPage:
    skus: list[str]
    start_offset: int
    next_offset: int
    has_next_page: bool


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput(f"Cursor {cursor!r} is not one this API issued", field="after") from exc
    if kind != "offset" or offset < 0:
        raise BadUserInput(f"Cursor {cursor!r} is not one this API issued", field="after")
    return offset


class CatalogService:
    def __init__(
        self, erp: ErpPort, storefront: StorefrontPort, pos: PosPort, policy: FieldPolicy
    ) -> None:
        self._erp = erp
        self._storefront = storefront
        self._pos = pos
        self._policy = policy

    async def products(self, skus: Sequence[str]) -> dict[str, Product]:
        items, listings, variations, kits = await asyncio.gather(
            self._erp.items_by_sku(skus),
            self._storefront.listings_by_sku(skus),
            self._pos.variations_by_sku(skus),
            self._erp.kits(skus),
        )
        found: dict[str, Product] = {}
        for sku in skus:
            product = merge_product(
                sku,
                items.get(sku),
                listings.get(sku),
                variations.get(sku),
                kits.get(sku),
                self._policy,
            )
            if product is not None:
                found[sku] = product
        return found

    async def sku_for_barcode(self, code: str) -> str:
        gtin = validate_gtin(code)
        for form in equivalent_forms(gtin):
            sku = await self._erp.sku_for_barcode(form)
            if sku is not None:
                return sku
        raise NotFound(f"No product has barcode {gtin}", barcode=gtin)

    async def page(
        self, *, offset: int, limit: int, search: str | None, category: str | None
    ) -> ProductPage:
        # Ask for one more than needed: its presence is the next-page answer.
        items = await self._erp.list_items(
            offset=offset, limit=limit + 1, search=search, category=category
        )
        skus = [i.sku for i in items[:limit]]
        return ProductPage(skus, offset, offset + len(skus), len(items) > limit)
