from __future__ import annotations

import strawberry

from gateway import domain
from resolvers.availability import product_availability
from resolvers.context import GatewayContext
from resolvers.types.availability import ProductAvailability
from resolvers.types.common import Channel, Money, NearInput, PageInfo, SourceSystem


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


@strawberry.type(description="One product, unified across ERP, storefront and POS.")
class Product:
    sku: str
    name: str
    category: str | None
    barcodes: list[str]
    description: str | None
    tax_category: str | None
    variant_of: str | None
    cost: Money | None
    list_price: Money | None
    web_price: Money | None
    store_price: Money | None
    web_status: str | None
    permalink: str | None
    is_kit: bool
    kit_components: list[KitComponent]
    field_sources: list[FieldSource]
    web_listing: WebListing | None

    @classmethod
    def from_domain(cls, p: domain.Product) -> Product:
        return cls(
            sku=p.sku,
            name=p.name,
            category=p.category,
            barcodes=list(p.barcodes),
            description=p.description,
            tax_category=p.tax_category,
            variant_of=p.variant_of,
            cost=Money.from_domain(p.cost),
            list_price=Money.from_domain(p.list_price),
            web_price=Money.from_domain(p.web_price),
            store_price=Money.from_domain(p.store_price),
            web_status=p.web_status,
            permalink=p.permalink,
            is_kit=p.kit is not None,
            kit_components=[
                KitComponent(sku=c.sku, quantity=c.quantity)
                for c in (p.kit.components if p.kit else ())
            ],
            field_sources=[FieldSource(field=f, source=s) for f, s in p.field_sources.items()],
            web_listing=WebListing.from_domain(p.web_listing),
        )

    @strawberry.field(description="Per-location stock; nearest first when `near` is given.")
    async def availability(
        self,
        info: strawberry.Info[GatewayContext, None],
        near: NearInput | None = None,
        location_ids: list[strawberry.ID] | None = None,
        channel: Channel | None = None,
    ) -> ProductAvailability:
        return await product_availability(info.context, self.sku, near, location_ids, channel)


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo


@strawberry.input
class ProductFilter:
    search: str | None = None
    category: str | None = None
    in_stock_near: NearInput | None = None
