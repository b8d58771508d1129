"""The Query root. Each resolver parses, calls a service, maps."""

from __future__ import annotations

import asyncio
import datetime
from typing import Annotated

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from gateway.errors import BadUserInput, NotFound
from gateway.services.availability import select_locations
from gateway.services.browse import browse_products
from gateway.services.catalog import decode_cursor, encode_cursor
from resolvers.availability import cart_per_sku, parse_near
from resolvers.context import GatewayContext
from resolvers.cost import NODES, assumed, costs, sliced_by
from resolvers.permissions import ADMIN, EVERYONE, OPS, STORE_ASSOCIATE, allow
from resolvers.record_access import callers_node
from resolvers.types.availability import ProductAvailability
from resolvers.types.common import Capability, Channel, NearInput, NodeType, PageInfo
from resolvers.types.cycle_counts import CountPlanEntry
from resolvers.types.kpis import NodeKpis
from resolvers.types.location import Location
from resolvers.types.picking import PickTask
from resolvers.types.product import Product, ProductConnection, ProductEdge, ProductFilter
from resolvers.types.replenishment import (
    ReplenishmentConnection,
    ReplenishmentEdge,
    ReplenishmentFilter,
    ReplenishmentHint,
)

Info = strawberry.Info[GatewayContext, None]


def _selects(info: Info, field_name: str) -> bool:
    """Whether the field asks for ``field_name`` among its own fields, fragments included.
    Read from the document: strawberry's ``selected_fields`` converts the whole subtree,
    arguments and all (about 3 % of a compiled product page), to answer this."""
    raw = info._raw_info
    return any(_asks(node.selection_set, field_name, raw.fragments) for node in raw.field_nodes)


def _asks(
    selections: SelectionSetNode | None,
    field_name: str,
    fragments: dict[str, FragmentDefinitionNode],
) -> bool:
    for selection in () if selections is None else selections.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value == field_name:
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _asks(selection.selection_set, field_name, fragments):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and _asks(fragment.selection_set, field_name, fragments):
                return True
    return False


async def _product(info: Info, sku: str) -> Product:
    if _selects(info, "availability"):
        # Start the stock fetch now rather than after the product arrives, so a product page
        # costs one parallel round of backend calls, not two in a row.
        prefetch = asyncio.ensure_future(info.context.stock.load(sku))
        # If the product turns out not to exist, nobody awaits this; don't warn about it.
        prefetch.add_done_callback(lambda f: f.cancelled() or f.exception())
    product = await info.context.products.load(sku)
    if product is None:
        raise NotFound(f"No product with SKU {sku!r}", sku=sku)
    return Product.from_domain(product)


@strawberry.type
class Query:
    @strawberry.field(permission_classes=allow(*EVERYONE), description="One product by SKU.")
    async def product(self, info: Info, sku: str) -> Product | None:
        return await _product(info, sku)

    @strawberry.field(
        permission_classes=allow(*EVERYONE),
        description="One product by GTIN-8/12/13/14, the check digit verified; a price or "
        "weight label (GS1 prefixes 20-29 as configured) names its item, and `scan` carries "
        "the label's price or weight; any other code (an internal Code 128 one) as it stands.",
    )
    async def product_by_barcode(self, info: Info, code: str) -> Product | None:
        scan = await info.context.services.catalog.scan(code)
        product = await _product(info, scan.sku)
        product.scanned = scan
        return product

    @strawberry.field(
        permission_classes=allow(STORE_ASSOCIATE, OPS, ADMIN),
        description="What a store picks: its open click-and-collect orders and the delivery "
        "orders it ships (ALLOCATED, PICKING), soonest promised first, each line with its "
        "shelf where the source keeps one (a store associate: its own store).",
    )
    async def pick_list(self, info: Info, location_id: strawberry.ID) -> list[PickTask]:
        await callers_node(info, str(location_id))
        tasks = await info.context.services.picking.pick_list(str(location_id))
        return [PickTask.from_domain(task) for task in tasks]

    @strawberry.field(
        permission_classes=allow(STORE_ASSOCIATE, OPS, ADMIN),
        description="A node's KPIs over whole UTC days `from` to `to` (at most KPIS__MAX_DAYS; "
        "a day not yet over counts up to now), each defined in its field's description (a "
        "store associate: its own store).",
    )
    async def kpis(
        self,
        info: Info,
        location_id: strawberry.ID,
        from_: Annotated[datetime.date, strawberry.argument(name="from")],
        to: datetime.date,
    ) -> NodeKpis:
        await callers_node(info, str(location_id))
        figures = await info.context.services.kpis.figures(str(location_id), from_, to)
        return NodeKpis.from_domain(figures)

    @strawberry.field(
        permission_classes=allow(STORE_ASSOCIATE, OPS, ADMIN),
        description="The SKUs a node counts on a day: each ABC class spread over its cycle "
        "(A every 30 days, B 90, C 365 by default; CYCLE_COUNTS__*), so every SKU is counted "
        "once per cycle on a short daily list (kits left out; a store associate: its own "
        "store).",
    )
    async def count_plan(
        self, info: Info, location_id: strawberry.ID, date: datetime.date
    ) -> list[CountPlanEntry]:
        await callers_node(info, str(location_id))
        planned = await info.context.services.cycle_counts.plan(str(location_id), date)
        return [CountPlanEntry.from_domain(p) for p in planned]

    @strawberry.field(
        permission_classes=allow(STORE_ASSOCIATE, OPS, ADMIN),
        description="Replenishment hints of a node's SKUs in catalogue order (kits left out; "
        "a store associate: its own store), as a Relay connection. One request reads at most "
        "1,000 catalogue entries: a page the filter thins out ends early, with a cursor.",
    )
    async def replenishment(
        self,
        info: Info,
        location_id: strawberry.ID,
        first: int = 20,
        after: str | None = None,
        filter: ReplenishmentFilter | None = None,
    ) -> ReplenishmentConnection:
        await callers_node(info, str(location_id))
        limit = info.context.services.settings.max_page_size
        if not 1 <= first <= limit:
            raise BadUserInput(f"first must be between 1 and {limit}, got {first}", field="first")
        offset = decode_cursor(after)
        f = filter or ReplenishmentFilter()
        found = await info.context.services.replenishment.page(
            str(location_id),
            offset=offset,
            first=first,
            below_reorder_point=f.below_reorder_point,
            category=f.category,
            supplier=f.supplier,
        )
        edges = [
            ReplenishmentEdge(cursor=encode_cursor(resume), node=ReplenishmentHint.from_domain(h))
            for resume, h in found.hints
        ]
        return ReplenishmentConnection(
            edges=edges,
            page_info=PageInfo.of_offsets(
                [e.cursor for e in edges],
                offset,
                found.has_next_page,
                encode_cursor(found.end_offset),
            ),
        )

    @strawberry.field(
        permission_classes=allow(*EVERYONE),
        description="The catalogue, page by page (Relay connection).",
        directives=[sliced_by("first", edges=True)],
    )
    async def products(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: ProductFilter | None = None,
    ) -> ProductConnection | None:
        ctx = info.context
        limit = ctx.services.settings.max_page_size
        if not 1 <= first <= limit:
            raise BadUserInput(f"first must be between 1 and {limit}, got {first}", field="first")
        offset = decode_cursor(after)
        f = filter or ProductFilter()
        result = await browse_products(
            ctx.services.catalog,
            ctx.services.availability,
            offset=offset,
            first=first,
            search=f.search,
            category=f.category,
            in_stock_near=parse_near(ctx, f.in_stock_near),
        )
        # Each product alone: one whose systems are down is its edge's error, not the page's.
        products = await asyncio.gather(
            *(ctx.products.load(e.sku) for e in result.entries), return_exceptions=True
        )
        edges = [
            ProductEdge.of(encode_cursor(e.resume_offset), p)
            for e, p in zip(result.entries, products, strict=True)
            if p is not None
        ]
        return ProductConnection(
            edges=edges,
            page_info=PageInfo.of_offsets(
                [e.cursor for e in edges],
                offset,
                result.has_next_page,
                encode_cursor(result.end_offset),
            ),
        )

    @strawberry.field(
        permission_classes=allow(*EVERYONE),
        description="Availability for several SKUs at once (cart pages).",
        directives=[costs(5), sliced_by("skus")],
    )
    async def availability(
        self,
        info: Info,
        skus: list[str],
        near: NearInput | None = None,
        location_ids: list[strawberry.ID] | None = None,
        channel: Channel | None = None,
    ) -> list[ProductAvailability | None] | None:
        # An unknown SKU is that item's NOT_FOUND; the rest of the cart is answered.
        return await cart_per_sku(info.context, skus, near, location_ids, channel)

    @strawberry.field(
        permission_classes=allow(*EVERYONE),
        description="Fulfillment nodes; nearest first when `near` is given.",
        directives=[assumed(NODES)],
    )
    async def locations(
        self,
        info: Info,
        near: NearInput | None = None,
        type: NodeType | None = None,
        capability: Capability | None = None,
    ) -> list[Location] | None:
        chosen = select_locations(
            await info.context.locations(),
            near=parse_near(info.context, near),
            node_type=type,
            capability=capability,
        )
        return [Location.from_domain(loc, d) for loc, d in chosen]
