from __future__ import annotations

from typing import TypeVar

import strawberry

from gateway import domain
from gateway.errors import BackendUnavailable
from gateway.services.catalog import Scan
from gateway.services.item_barcodes import AssignedBarcode
from resolvers.availability import product_availability
from resolvers.context import GatewayContext
from resolvers.cost import costs
from resolvers.permissions import ADMIN, OPS, STORE_ASSOCIATE, SUPPORT, allow
from resolvers.record_access import callers_node
from resolvers.types.availability import ProductAvailability
from resolvers.types.common import Channel, Money, NearInput, PageInfo, SourceSystem
from resolvers.types.replenishment import ReplenishmentHint

T = TypeVar("T")


@strawberry.type
class KitComponent:
    sku: str
    quantity: int


@strawberry.type(description="Which system supplied a product field, per the field policy.")
class FieldSource:
    field: str
    source: SourceSystem


@strawberry.type(description="The storefront's own listing, as the storefront reports it.")
class WebListing:
    product_id: int
    variation_id: int | None
    status: str
    manage_stock: bool
    stock_quantity: int | None
    stock_status: str
    backorders: str

    @classmethod
    def from_domain(cls, listing: domain.WebListing | None) -> WebListing | None:
        if listing is None:
            return None
        return cls(
            product_id=listing.product_id,
            variation_id=listing.variation_id,
            status=listing.status,
            manage_stock=listing.manage_stock,
            stock_quantity=listing.stock_quantity,
            stock_status=listing.stock_status,
            backorders=listing.backorders,
        )


def _known(product: domain.Product, field_name: str, value: T) -> T:
    """The field's value, or its BACKEND_UNAVAILABLE when a system it comes from was down."""
    missing = product.unavailable.get(field_name)
    if missing is not None:
        backend, reason = missing
        raise BackendUnavailable(f"{field_name} is not known now: {reason}", backend=backend)
    return value


@strawberry.type(
    description="A scanned barcode and what it carried. A label of a configured price or "
    "weight prefix (GS1 20-29, BARCODES__EMBEDDED) names its item by reference and carries "
    "the price or weight of that one pack; its check digit, and the price or weight "
    "verifier digit where the layout has one, are verified."
)
class BarcodeScan:
    code: str = strawberry.field(description="The code as read, spaces and dashes removed.")
    item_reference: str | None = strawberry.field(
        description="A price or weight label's item reference: the digits after its prefix."
    )
    price: Money | None = strawberry.field(description="A price label's price for this pack.")
    weight_grams: int | None = strawberry.field(
        description="A weight label's weight of this pack, in grams."
    )

    @classmethod
    def from_domain(cls, scan: Scan) -> BarcodeScan:
        embedded = scan.embedded
        return cls(
            code=scan.code,
            item_reference=None if embedded is None else embedded.item_reference,
            price=Money.from_domain(scan.price),
            weight_grams=scan.weight_grams,
        )


@strawberry.type(
    description="One product, unified across ERP, storefront and POS. With a system down, "
    "each field it supplies is null with a BACKEND_UNAVAILABLE error naming it; the others "
    "are answered."
)
class Product:
    sku: str
    domain_product: strawberry.Private[domain.Product]
    scanned: strawberry.Private[Scan | None] = None

    @strawberry.field(
        description="The barcode that found this product, when `productByBarcode` did: for "
        "a price or weight label, the amount it carries. Null when asked for otherwise."
    )
    def scan(self) -> BarcodeScan | None:
        return None if self.scanned is None else BarcodeScan.from_domain(self.scanned)

    @strawberry.field
    def name(self) -> str | None:
        return _known(self.domain_product, "name", self.domain_product.name)

    @strawberry.field
    def category(self) -> str | None:
        return _known(self.domain_product, "category", self.domain_product.category)

    @strawberry.field
    def barcodes(self) -> list[str] | None:
        return _known(self.domain_product, "barcodes", list(self.domain_product.barcodes))

    @strawberry.field
    def description(self) -> str | None:
        return _known(self.domain_product, "description", self.domain_product.description)

    @strawberry.field
    def tax_category(self) -> str | None:
        return _known(self.domain_product, "tax_category", self.domain_product.tax_category)

    @strawberry.field
    def variant_of(self) -> str | None:
        return self.domain_product.variant_of

    # Cost prices are never the storefront's to see.
    @strawberry.field(
        permission_classes=allow(SUPPORT, OPS, ADMIN),
        description="What the item costs the retailer (ERPNext valuation rate).",
    )
    def cost(self) -> Money | None:
        return _known(self.domain_product, "cost", Money.from_domain(self.domain_product.cost))

    @strawberry.field
    def list_price(self) -> Money | None:
        price = Money.from_domain(self.domain_product.list_price)
        return _known(self.domain_product, "list_price", price)

    @strawberry.field
    def web_price(self) -> Money | None:
        price = Money.from_domain(self.domain_product.web_price)
        return _known(self.domain_product, "web_price", price)

    @strawberry.field
    def store_price(self) -> Money | None:
        price = Money.from_domain(self.domain_product.store_price)
        return _known(self.domain_product, "store_price", price)

    @strawberry.field
    def web_status(self) -> str | None:
        return _known(self.domain_product, "web_status", self.domain_product.web_status)

    @strawberry.field
    def permalink(self) -> str | None:
        return _known(self.domain_product, "permalink", self.domain_product.permalink)

    @strawberry.field
    def is_kit(self) -> bool | None:
        return _known(self.domain_product, "kit", self.domain_product.kit is not None)

    @strawberry.field
    def kit_components(self) -> list[KitComponent] | None:
        kit = self.domain_product.kit
        components = [
            KitComponent(sku=c.sku, quantity=c.quantity) for c in (kit.components if kit else ())
        ]
        return _known(self.domain_product, "kit", components)

    @strawberry.field
    def field_sources(self) -> list[FieldSource]:
        chosen = self.domain_product.field_sources
        return [FieldSource(field=f, source=s) for f, s in chosen.items()]

    @strawberry.field
    def web_listing(self) -> WebListing | None:
        return WebListing.from_domain(self.domain_product.web_listing)

    @classmethod
    def from_domain(cls, p: domain.Product) -> Product:
        return cls(sku=p.sku, domain_product=p)

    @strawberry.field(
        permission_classes=allow(STORE_ASSOCIATE, OPS, ADMIN),
        description="When this node should reorder the SKU, and how much (a store associate: "
        "its own store). Null for a node with no figure for it, or a kit (its components "
        "are reordered).",
    )
    async def replenishment(
        self, info: strawberry.Info[GatewayContext, None], location_id: strawberry.ID
    ) -> ReplenishmentHint | None:
        await callers_node(info, str(location_id))
        if self.domain_product.kit is not None:
            return None
        hints = await info.context.services.replenishment.hints(str(location_id), [self.sku])
        got = hints.get(self.sku)
        return None if got is None else ReplenishmentHint.from_domain(got)

    @strawberry.field(
        description="Per-location stock; nearest first when `near` is given. Null, with the "
        "error, when it cannot be answered at all (a backend it needs is down with no copy "
        "kept); one location it cannot be had for is that location's error alone.",
        directives=[costs(5)],
    )
    async def availability(
        self,
        info: strawberry.Info[GatewayContext, None],
        near: NearInput | None = None,
        location_ids: list[strawberry.ID] | None = None,
        channel: Channel | None = None,
    ) -> ProductAvailability | None:
        return await product_availability(info.context, self.sku, near, location_ids, channel)


@strawberry.type
class ProductEdge:
    cursor: str
    found: strawberry.Private[Product | BaseException]

    @strawberry.field(
        description="Null, with a BACKEND_UNAVAILABLE error, for a product no system still "
        "up knows; the other edges are answered."
    )
    def node(self) -> Product | None:
        if isinstance(self.found, BaseException):
            raise self.found
        return self.found

    @classmethod
    def of(cls, cursor: str, found: domain.Product | BaseException) -> ProductEdge:
        if isinstance(found, domain.Product):
            return cls(cursor=cursor, found=Product.from_domain(found))
        return cls(cursor=cursor, found=found)


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo


@strawberry.input
class ProductFilter:
    search: str | None = None
    category: str | None = None
    in_stock_near: NearInput | None = None


@strawberry.type(
    description="A barcode given to an item: written to the ERP item's barcode table through "
    "the outbox (`written` once it is there), and unique across systems."
)
class BarcodeAssignment:
    sku: str
    code: str
    written: bool = strawberry.field(
        description="In the ERP's barcode table already (true on a code the item had)."
    )

    @classmethod
    def from_domain(cls, assigned: AssignedBarcode) -> BarcodeAssignment:
        return cls(sku=assigned.sku, code=assigned.code, written=assigned.written)
