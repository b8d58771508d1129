"""Subscriptions (graphql-transport-ws on /graphql): what changed, as it changes.

Each is fed by the change feed of this process (gateway.events.feed), which every process's
changes reach (gateway.events.bus). What a subscriber is sent is read afresh when the change
arrives, once per change for every subscriber asking the same question, and only when it
differs from what that subscriber was sent last. A subscriber that leaves too many changes
unread is dropped: its socket is closed with code 4008.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Protocol

import strawberry

from gateway.domain.events import Change, DiscrepancyOpened, OrderChanged, StockChanged
from gateway.domain.orders import Order as DomainOrder
from gateway.errors import BadUserInput
from gateway.events.feed import Delivered, SlowSubscriber
from gateway.events.feed import Subscription as FeedSubscription
from resolvers.availability import cart_availability
from resolvers.context import GatewayContext
from resolvers.permissions import EVERYONE, OPS, SUPPORT, allow
from resolvers.types.availability import ProductAvailability
from resolvers.types.common import Channel, NearInput
from resolvers.types.order import Order
from resolvers.types.truth import Discrepancy, DiscrepancyKind

log = logging.getLogger(__name__)

Info = strawberry.Info[GatewayContext, None]

SLOW_SUBSCRIBER_CLOSE = 4008  # application range (4000-4999); graphql-transport-ws uses 44xx
_CLOSE_WAIT_SECONDS = 2.0
_closing: set[asyncio.Task[None]] = set()  # held until done (the loop keeps weak references)


class Closable(Protocol):
    async def close(self, code: int, reason: str) -> None: ...


def _follow(info: Info, wants: Callable[[Change], bool]) -> FeedSubscription:
    connection = info.context.connection

    def dropped(error: SlowSubscriber) -> None:
        if connection is not None:
            closing = asyncio.ensure_future(_close(connection, error))
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)

    return info.context.services.changes.feed.subscribe(wants, on_drop=dropped)


async def _close(connection: Closable, error: SlowSubscriber) -> None:
    # The client reads too slowly to be sent anything more, the close frame included, maybe:
    # bounded, so a stuck socket does not hold this task.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            connection.close(SLOW_SUBSCRIBER_CLOSE, f"slow subscriber: {error}"),
            _CLOSE_WAIT_SECONDS,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=allow(*EVERYONE),
        description="The availability of these SKUs (at these locations, or near a point) "
        "each time it changes: a hold, an order, a sale at a till, a webhook, a poll or a "
        "reconcile. Sends a SKU's rows only when they differ from the last ones sent.",
    )
    async def availability_changed(
        self,
        info: Info,
        skus: list[str],
        location_ids: list[strawberry.ID] | None = None,
        near: NearInput | None = None,
        channel: Channel | None = None,
    ) -> AsyncGenerator[ProductAvailability, None]:
        services = info.context.services
        wanted = list(dict.fromkeys(skus))
        places = None if location_ids is None else [str(i) for i in location_ids]
        # Checks the arguments as the query does, and is what "changed" is measured from.
        last = {
            row.sku: _figures(row)
            for row in await cart_availability(
                GatewayContext(services), wanted, near, places, channel
            )
        }
        watched = set(wanted)
        near_key = None if near is None else (near.lat, near.lng, near.radius_km)
        subscription = _follow(
            info, lambda c: isinstance(c, StockChanged) and not watched.isdisjoint(c.skus)
        )
        try:
            async for delivered in subscription:
                assert isinstance(delivered.change, StockChanged)
                hit = tuple(sku for sku in wanted if sku in delivered.change.skus)
                key = ("availability", hit, tuple(places or ()), near_key, channel)

                async def read(hit: Sequence[str] = hit) -> list[ProductAvailability]:
                    fresh = GatewayContext(services)  # loaders of this change, not cached
                    return await cart_availability(fresh, hit, near, places, channel)

                for row in await services.changes.feed.shared(delivered, key, read):
                    figures = _figures(row)
                    if last.get(row.sku) != figures:
                        last[row.sku] = figures
                        yield row
        finally:
            subscription.close()

    @strawberry.subscription(
        permission_classes=allow(SUPPORT, OPS),
        description="An order each time it is placed or moves (status, lines, systems): "
        "one order by `id`, or every order of `customerEmail`.",
    )
    async def order_changed(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        customer_email: str | None = None,
    ) -> AsyncGenerator[Order, None]:
        if (id is None) == (customer_email is None):
            raise BadUserInput("Give exactly one of id and customerEmail", field="id")
        services = info.context.services
        if id is not None:
            await services.orders.get(str(id))  # NOT_FOUND for an order that does not exist
        email = None if customer_email is None else customer_email.strip().casefold()
        subscription = _follow(
            info,
            lambda c: isinstance(c, OrderChanged) and (id is None or c.order_id == str(id)),
        )
        try:
            async for delivered in subscription:
                order = await _order(info, delivered)
                if order is None:
                    continue
                if email is not None and (order.customer_email or "").casefold() != email:
                    continue
                yield Order.from_domain(order)
        finally:
            subscription.close()

    @strawberry.subscription(
        permission_classes=allow(OPS),
        description="Each discrepancy as it is opened, for one owner (e.g. store-ops, "
        "customer-service) and/or some kinds; every one when neither is given.",
    )
    async def discrepancy_opened(
        self,
        info: Info,
        owner: str | None = None,
        kinds: list[DiscrepancyKind] | None = None,
    ) -> AsyncGenerator[Discrepancy, None]:
        services = info.context.services
        of_kinds = None if kinds is None else {k.value for k in kinds}

        def wants(change: Change) -> bool:
            return (
                isinstance(change, DiscrepancyOpened)
                and (owner is None or change.owner == owner)
                and (of_kinds is None or change.kind in of_kinds)
            )

        subscription = _follow(info, wants)
        try:
            async for delivered in subscription:
                assert isinstance(delivered.change, DiscrepancyOpened)
                opened = delivered.change.discrepancy_id

                async def read(opened: str = opened) -> Discrepancy:
                    found = await services.truth.get(opened)
                    return Discrepancy.from_domain(found, services.truth.now())

                yield await services.changes.feed.shared(delivered, ("discrepancy",), read)
        finally:
            subscription.close()


def _figures(row: ProductAvailability) -> tuple[object, ...]:
    """What a subscriber watches: the figures, not when or how they were read."""
    return (
        tuple((at.location.id, at.backend) for at in row.availability.unavailable),
        tuple(
            (
                at.location.id,
                at.on_hand,
                at.reserved,
                at.held,
                at.safety_stock,
                at.available_to_promise,
                at.incoming,
                at.status,
            )
            for at in row.availability.rows
        ),
    )


async def _order(info: Info, delivered: Delivered) -> DomainOrder | None:
    services = info.context.services
    assert isinstance(delivered.change, OrderChanged)
    order_id = delivered.change.order_id

    async def read() -> DomainOrder | None:
        try:
            return await services.orders.get(order_id)
        except Exception:  # gone meanwhile, or unreadable: nothing to send
            log.warning("order %s changed but could not be read for subscribers", order_id)
            return None

    return await services.changes.feed.shared(delivered, ("order",), read)
