"""The unified product: which system wins for which field is the configured policy.

``merge_product`` is pure; ``CatalogService`` gathers the sources concurrently.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway import gathering
from gateway.barcodes import equivalent_forms, validate_assignable, validate_gtin
from gateway.domain import (
    ItemMaster,
    Kit,
    Money,
    PosVariation,
    Product,
    SourceSystem,
    WebListing,
)
from gateway.domain.embedded_barcodes import (
    EmbeddedCode,
    EmbeddedLayout,
    EmbeddedValue,
    decode,
    layout_for,
)
from gateway.errors import BackendError, BadUserInput, NotFound
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
    failed: Mapping[SourceSystem, tuple[str, str]] | None = None,
) -> Product | None:
    """The product as the policy says; None when no system knows the SKU.

    ``failed``: sources that could not be asked (source -> (backend, what it met)). A field
    whose policy reaches one of them before a source with a value is not known: it is left
    empty and named in ``unavailable``, never filled from a source further down the policy
    (a web price is not the ERP's list price because the storefront is down)."""
    failed = failed or {}
    if item is None and listing is None and variation is None:
        return None
    values: dict[str, Any] = {}
    sources: dict[str, SourceSystem] = {}
    unavailable: dict[str, tuple[str, str]] = {}
    for field_name, by_source in _candidates(item, listing, variation).items():
        values[field_name] = None
        for source in policy.get(field_name, ()):
            if source in failed:
                unavailable[field_name] = failed[source]
                break
            value = by_source.get(source)
            if value:
                values[field_name] = value
                sources[field_name] = source
                break
    if SourceSystem.ERP in failed:
        unavailable["kit"] = failed[SourceSystem.ERP]
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
        unavailable=unavailable,
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


@dataclass(frozen=True, slots=True)
class Scan:
    """A scanned code, the product it names and, for a price or weight label, its amount."""

    code: str
    sku: str
    embedded: EmbeddedCode | None = None
    price: Money | None = None  # a price label's
    weight_grams: int | None = None  # a weight label's


class CatalogService:
    def __init__(
        self,
        erp: ErpPort,
        storefront: StorefrontPort,
        pos: PosPort,
        policy: FieldPolicy,
        embedded_layouts: tuple[EmbeddedLayout, ...] = (),
        label_currency: str = "EUR",
    ) -> None:
        self._erp = erp
        self._storefront = storefront
        self._pos = pos
        self._policy = policy
        self._layouts = embedded_layouts
        self._label_currency = label_currency

    async def products(self, skus: Sequence[str]) -> dict[str, Product]:
        """The products the systems know, all of them asked: a failing one fails the call
        (placing an order must not price from a partial answer)."""
        items, listings, variations, kits, failed = await self._read(skus)
        if failed:
            raise next(iter(failed.values()))
        return self._merged(skus, items, listings, variations, kits, {})

    async def products_as_known(self, skus: Sequence[str]) -> dict[str, Product | BackendError]:
        """``products`` for answers: with a system down, each product carries the fields
        the others know (the rest named in ``unavailable``); a SKU that no system still up
        knows is the failure, not "no such product"."""
        items, listings, variations, kits, failures = await self._read(skus)
        failed = {
            source: (error.backend or source.value, error.message)
            for source, error in failures.items()
        }
        answers: dict[str, Product | BackendError] = dict(
            self._merged(skus, items, listings, variations, kits, failed)
        )
        if failures:
            first = next(iter(failures.values()))
            for sku in skus:
                answers.setdefault(sku, first)
        return answers

    async def _read(
        self, skus: Sequence[str]
    ) -> tuple[
        Mapping[str, ItemMaster],
        Mapping[str, WebListing],
        Mapping[str, PosVariation],
        Mapping[str, Kit],
        dict[SourceSystem, BackendError],
    ]:
        items, listings, variations, kits = await gathering.gather(
            self._erp.items_by_sku(skus),
            self._storefront.listings_by_sku(skus),
            self._pos.variations_by_sku(skus),
            self._erp.kits(skus),
            return_exceptions=True,
        )
        failed: dict[SourceSystem, BackendError] = {}

        def known(source: SourceSystem, read: Any) -> Mapping[str, Any]:
            if isinstance(read, BackendError):
                failed.setdefault(source, read)
                return {}
            if isinstance(read, BaseException):
                raise read
            return read

        return (
            known(SourceSystem.ERP, items),
            known(SourceSystem.STOREFRONT, listings),
            known(SourceSystem.POS, variations),
            known(SourceSystem.ERP, kits),
            failed,
        )

    def _merged(
        self,
        skus: Sequence[str],
        items: Mapping[str, ItemMaster],
        listings: Mapping[str, WebListing],
        variations: Mapping[str, PosVariation],
        kits: Mapping[str, Kit],
        failed: Mapping[SourceSystem, tuple[str, str]],
    ) -> dict[str, Product]:
        found: dict[str, Product] = {}
        for sku in skus:
            product = merge_product(
                sku,
                items.get(sku),
                listings.get(sku),
                variations.get(sku),
                kits.get(sku),
                self._policy,
                failed,
            )
            if product is not None:
                found[sku] = product
        return found

    async def sku_for_barcode(self, code: str) -> str:
        return (await self.scan(code)).sku

    async def scan(self, code: str) -> Scan:
        """The product a scanned code names. A label of a configured price or weight prefix
        (gateway.domain.embedded_barcodes) names its item by its template code and carries
        the amount; failing that, a code is looked up as it stands (a store that registered
        its labels whole)."""
        if not _numeric(code):  # an internal Code 128 code (assignBarcode), as it stands
            internal = validate_assignable(code)
            sku = await self._erp.sku_for_barcode(internal)
            if sku is None:
                raise NotFound(f"No product has barcode {internal}", barcode=internal)
            return Scan(internal, sku)
        gtin = validate_gtin(code)
        layout = layout_for(gtin, self._layouts)
        if layout is not None:
            embedded = decode(gtin, layout)
            sku = await self._sku_of_any(equivalent_forms(embedded.template))
            if sku is not None:
                if embedded.layout.value is EmbeddedValue.WEIGHT:
                    return Scan(gtin, sku, embedded, weight_grams=embedded.amount)
                price = Money.from_minor(embedded.amount, self._label_currency)
                return Scan(gtin, sku, embedded, price=price)
        sku = await self._sku_of_any(equivalent_forms(gtin))
        if sku is None:
            raise NotFound(f"No product has barcode {gtin}", barcode=gtin)
        return Scan(gtin, sku, None)

    async def _sku_of_any(self, forms: Sequence[str]) -> str | None:
        for form in forms:
            sku = await self._erp.sku_for_barcode(form)
            if sku is not None:
                return sku
        return None

    async def page(
        self, *, offset: int, limit: int, search: str | None, category: str | None
    ) -> ProductPage:
        # Ask for one more than needed: its presence is the next-page answer.
        items = await self._erp.list_items(
            offset=offset, limit=limit + 1, search=search, category=category
        )
        skus = [i.sku for i in items[:limit]]
        return ProductPage(skus, offset, offset + len(skus), len(items) > limit)


def _numeric(code: str) -> bool:
    """Digits, perhaps grouped by spaces or dashes as printed under a GTIN."""
    return code.strip().replace(" ", "").replace("-", "").isdigit()
