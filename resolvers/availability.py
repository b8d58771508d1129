"""Availability resolvers: parse arguments, ask the loaders, map. No arithmetic here."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from gateway import domain
from gateway.domain import ItemMaster
from gateway.errors import BadUserInput, NotFound
from gateway.services.availability import (
    Near,
    availability_rows,
    validate_near,
)
from resolvers.context import GatewayContext
from resolvers.types.availability import ProductAvailability
from resolvers.types.common import NearInput


def parse_near(ctx: GatewayContext, near: NearInput | None) -> Near | None:
    if near is None:
        return None
    return validate_near(near.lat, near.lng, near.radius_km, ctx.services.settings.max_radius_km)


async def check_location_ids(ctx: GatewayContext, location_ids: Sequence[str] | None) -> None:
    if location_ids is None:
        return
    known = {loc.id for loc in await ctx.locations()}
    unknown = sorted(set(location_ids) - known)
    if unknown:
        raise NotFound(f"Unknown location id(s): {', '.join(unknown)}", location_ids=unknown)


async def product_availability(
    ctx: GatewayContext,
    sku: str,
    near: NearInput | None,
    location_ids: Sequence[str] | None,
    channel: domain.Channel | None,
) -> ProductAvailability:
    parsed_near = parse_near(ctx, near)
    await check_location_ids(ctx, location_ids)
    chosen = ctx.services.availability.choices.select(
        await ctx.locations(), near=parsed_near, location_ids=location_ids, channel=channel
    )
    figures = await ctx.stock.load(sku)
    return ProductAvailability.from_domain(availability_rows(sku, chosen, figures, channel))


async def _known_items(ctx: GatewayContext, skus: Sequence[str]) -> list[ItemMaster | None]:
    """The cart's items in the order asked (None for an unknown SKU), after the size checks."""
    limit = ctx.services.settings.max_page_size
    if not skus:
        raise BadUserInput("skus must name at least one SKU", field="skus")
    if len(skus) > limit:
        raise BadUserInput(f"At most {limit} SKUs per request, got {len(skus)}", field="skus")
    return list(await ctx.items.load_many(list(skus)))


async def cart_availability(
    ctx: GatewayContext,
    skus: Sequence[str],
    near: NearInput | None,
    location_ids: Sequence[str] | None,
    channel: domain.Channel | None,
) -> list[ProductAvailability]:
    items = await _known_items(ctx, skus)
    unknown = [sku for sku, item in zip(skus, items, strict=True) if item is None]
    if unknown:
        raise NotFound(f"Unknown SKU(s): {', '.join(unknown)}", skus=unknown)
    # Gathered, not awaited in turn, so the stock loader sees every SKU in one batch.
    return list(
        await asyncio.gather(
            *(product_availability(ctx, sku, near, location_ids, channel) for sku in skus)
        )
    )


async def cart_per_sku(
    ctx: GatewayContext,
    skus: Sequence[str],
    near: NearInput | None,
    location_ids: Sequence[str] | None,
    channel: domain.Channel | None,
) -> list[Any]:
    """A cart's availability, one item per SKU asked: an unknown SKU is its own item's
    NOT_FOUND (graphql-core raises an exception found in a list where that item is), and the
    rest of the cart is answered."""
    items = await _known_items(ctx, skus)
    known = [sku for sku, item in zip(skus, items, strict=True) if item is not None]
    answered = iter(
        await asyncio.gather(
            *(product_availability(ctx, sku, near, location_ids, channel) for sku in known)
        )
    )
    return [
        next(answered) if item is not None else NotFound(f"Unknown SKU: {sku}", skus=[sku])
        for sku, item in zip(skus, items, strict=True)
    ]
