"""Queries over what the gateway itself records: holds, orders, returns, deliveries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.domain import GeoPoint
from gateway.domain.orders import OrderFilter as DomainOrderFilter
from gateway.domain.reservations import ReservationLine
from gateway.errors import BadUserInput
from gateway.services.fulfillment import PlanQuery
from resolvers.context import GatewayContext
from resolvers.cost import costs, sliced_by
from resolvers.cursors import cursor, parse_cursor
from resolvers.permissions import EVERYONE, OPS, STORE_ASSOCIATE, STOREFRONT, SUPPORT, allow
from resolvers.record_access import own_hold, readable_order, return_at_callers_store
from resolvers.types.common import PageInfo
from resolvers.types.order import Order, OrderConnection, OrderEdge, OrderFilter
from resolvers.types.reservation import Reservation
from resolvers.types.returns import Delivery, ReturnRequest
from resolvers.types.routing import FulfillmentPlan, FulfillmentPlanInput

Info = strawberry.Info[GatewayContext, None]

MAX_FAILURES_PAGE = 500


@strawberry.type
class CommerceQuery:
    @strawberry.field(
        permission_classes=allow(STOREFRONT, STORE_ASSOCIATE, SUPPORT, OPS),
        description="One hold by id: a storefront's own, a store's at that store.",
    )
    async def reservation(self, info: Info, id: strawberry.ID) -> Reservation | None:
        held = await own_hold(info, str(id))  # read already, unless the caller is staff
        return Reservation.from_domain(
            held or await info.context.services.reservations.get(str(id))
        )

    @strawberry.field(
        permission_classes=allow(*EVERYONE),
        description="Dry run: where an order's units would come from, when they would "
        "arrive, what it would cost, and why. Holds nothing.",
        directives=[costs(20)],
    )
    async def fulfillment_plan(
        self, info: Info, input: FulfillmentPlanInput
    ) -> FulfillmentPlan | None:
        query = PlanQuery(
            lines=tuple(ReservationLine(x.sku, x.quantity) for x in input.lines),
            destination=(
                None
                if input.destination is None
                else GeoPoint(input.destination.lat, input.destination.lng)
            ),
            pickup_location_id=(
                None if input.pickup_location_id is None else str(input.pickup_location_id)
            ),
            strategy=input.strategy,
            deliver_by=input.deliver_by,
            service_level=input.service_level,
        )
        _, plan = await info.context.services.fulfillment.plan(query)
        return FulfillmentPlan.from_domain(plan)

    @strawberry.field(
        permission_classes=allow(STOREFRONT, STORE_ASSOCIATE, SUPPORT, OPS),
        description="One order by id (gateway orders and imported web orders). A storefront "
        "reads it with the order's accessToken or the customer's own token; a store "
        "associate reads its store's orders.",
    )
    async def order(
        self,
        info: Info,
        id: strawberry.ID,
        access_token: Annotated[
            str | None,
            strawberry.argument(description="The accessToken placeOrder answered with."),
        ] = None,
    ) -> Order | None:
        return Order.from_domain(await readable_order(info, str(id), access_token))

    @strawberry.field(
        permission_classes=allow(SUPPORT, OPS),
        description="Orders, newest first (Relay connection).",
        directives=[sliced_by("first", edges=True)],
    )
    async def orders(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: OrderFilter | None = None,
    ) -> OrderConnection | None:
        limit = info.context.services.settings.max_page_size
        if not 1 <= first <= limit:
            raise BadUserInput(f"first must be 1 to {limit}", field="first")
        where = DomainOrderFilter(
            customer_email=filter.customer_email if filter else None,
            status=filter.status if filter else None,
            channel=filter.channel if filter else None,
            created_after=filter.created_after if filter else None,
        )
        page, more = await info.context.services.orders.page(
            where, first, None if after is None else parse_cursor(after)
        )
        edges = [
            OrderEdge(cursor=cursor(o.created_at, o.id), node=Order.from_domain(o)) for o in page
        ]
        return OrderConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        permission_classes=allow(STORE_ASSOCIATE, SUPPORT, OPS), description="One return by id."
    )
    async def return_request(self, info: Info, id: strawberry.ID) -> ReturnRequest | None:
        await return_at_callers_store(info, str(id))
        return ReturnRequest.from_domain(await info.context.services.returns.get(str(id)))

    @strawberry.field(
        permission_classes=allow(OPS),
        description="Backend writes that exhausted their retries (dead letters).",
        directives=[sliced_by("first")],
    )
    async def delivery_failures(
        self, info: Info, first: int = 50, ordering_key: str | None = None
    ) -> list[Delivery] | None:
        if not 1 <= first <= MAX_FAILURES_PAGE:
            raise BadUserInput(f"first must be 1 to {MAX_FAILURES_PAGE}", field="first")
        found = await info.context.services.outbox.failures(first, ordering_key)
        return [Delivery.from_domain(d) for d in found]

    @strawberry.field(
        permission_classes=allow(SUPPORT, OPS),
        description="Every backend write an order owes, with its status.",
    )
    async def order_deliveries(self, info: Info, order_id: strawberry.ID) -> list[Delivery] | None:
        found = await info.context.services.outbox.for_order(str(order_id))
        return [Delivery.from_domain(d) for d in found]
