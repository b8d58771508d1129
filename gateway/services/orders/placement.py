"""Placing an order: route it, hold at every node of the plan, record it.

``place`` asks the router for a plan (gateway.services.fulfillment), takes the holds at
every node of the plan and records the order, the routing decision with its inputs, and
every backend write it owes in one unit of work: a hold can never exist without its order,
nor the order without the writes that tell the ERP, POS and OMS about it. What is written
is decided by ``draft.draft_placement`` (pure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from gateway.domain import Money, NodeAvailability
from gateway.domain.documents import WebOrderLine
from gateway.domain.orders import Order, StoredDecision
from gateway.domain.reservations import HoldRequest, ReservationLine
from gateway.errors import BadUserInput, InsufficientStock
from gateway.ports import Clock, UnitOfWork
from gateway.routing import FulfillmentPlan, RoutingRequest
from gateway.routing.snapshot import SNAPSHOT_VERSION, dump_plan, dump_request
from gateway.services.availability import AvailabilityService
from gateway.services.catalog import CatalogService
from gateway.services.commands import Command, Commands
from gateway.services.fulfillment import FulfillmentPlanner, PlanQuery
from gateway.services.holds import normalise_lines
from gateway.services.orders.book import load_order, order_skus
from gateway.services.orders.draft import (
    Allocation,
    PlacementDraft,
    PlaceOrderRequest,
    draft_placement,
    refuse_unplaceable,
    unit_price,
    validate_place,
)
from gateway.services.reservations import HoldPolicy, ReservationService, new_id

MAX_ROUTING_ATTEMPTS = 3


class OrderPlacement:
    def __init__(
        self,
        commands: Commands,
        availability: AvailabilityService,
        catalog: CatalogService,
        holds: ReservationService,
        planner: FulfillmentPlanner,
        clock: Clock,
        hold_policy: HoldPolicy,
    ) -> None:
        self._commands = commands
        self._availability = availability
        self._catalog = catalog
        self._holds = holds
        self._planner = planner
        self._clock = clock
        self._hold_policy = hold_policy

    async def place(self, request: PlaceOrderRequest, key: str) -> Order:
        validate_place(request)
        lines = normalise_lines(request.lines)
        command = Command(
            "placeOrder",
            key,
            {
                "lines": [(line.sku, line.quantity) for line in lines],
                "channel": request.channel.value,
                "email": request.email,
                "name": request.name,
                "delivery": request.delivery,
                "pickup": request.pickup_location_id,
                "strategy": request.strategy,
                "deliver_by": request.deliver_by,
                "service_level": request.service_level,
                "allow_transfer": request.allow_transfer,
            },
            new_id("ord"),
            load_order,
            order_skus,
        )
        # Routing and pricing cost backend calls: a retry is answered before them.
        replayed = await self._commands.replayed(command)
        if replayed is not None:
            return replayed

        products = await self._catalog.products([line.sku for line in lines])
        prices = {line.sku: unit_price(products.get(line.sku), line.sku) for line in lines}
        currencies = {p.currency for p in prices.values()}
        if len(currencies) > 1:
            raise BadUserInput(f"lines are priced in several currencies: {sorted(currencies)}")
        query = PlanQuery(
            lines=lines,
            destination=None if request.delivery is None else request.delivery.point,
            pickup_location_id=request.pickup_location_id,
            strategy=request.strategy,
            deliver_by=request.deliver_by,
            service_level=request.service_level,
        )
        for attempt in range(1, MAX_ROUTING_ATTEMPTS + 1):
            # Each attempt plans on fresh figures: holds taken meanwhile are deducted.
            routing_request, plan = await self._planner.plan(query)
            refuse_unplaceable(plan, request)
            try:
                return await self._record(command, request, prices, routing_request, plan)
            except InsufficientStock:
                if attempt == MAX_ROUTING_ATTEMPTS:
                    raise
                # another order took the stock between planning and holding
        raise AssertionError("unreachable")

    async def allocate(
        self, plan: FulfillmentPlan
    ) -> tuple[list[Allocation], list[dict[str, NodeAvailability]]]:
        """Each node of the plan, what it ships and the hold plans behind it, with the
        source's figures the hold taker checks them against."""
        allocations = []
        sources = []
        # Holds are taken node by node in id order, so concurrent split orders lock their
        # (SKU, node) rows in one global order and cannot deadlock.
        for shipment in sorted(plan.shipments, key=lambda s: s.node_id):
            location = await self._availability.location(shipment.node_id)
            lines = tuple(ReservationLine(x.sku, x.quantity) for x in shipment.lines)
            plans, figures = await self._holds.plans_and_figures(lines, location)
            allocations.append(Allocation(location, new_id("res"), lines, plans))
            sources.append(figures)
        return allocations, sources

    async def _record(
        self,
        command: Command[Order],
        request: PlaceOrderRequest,
        prices: dict[str, Money],
        routing_request: RoutingRequest,
        plan: FulfillmentPlan,
    ) -> Order:
        order_id = command.resource_id
        allocations, sources = await self.allocate(plan)
        locations = await self._availability.all_locations()

        async def record(uow: UnitOfWork, now: datetime) -> Order:
            draft = draft_placement(
                order_id=order_id,
                request=request,
                allocations=allocations,
                prices=prices,
                routing_summary=plan.explanation.summary,
                locations=locations,
                now=now,
                hold_for=self._hold_policy.max_ttl,
                erp_customer=self._hold_policy.erp_customer,
            )
            await hold_and_record(uow, now, draft, allocations, sources, routing_request, plan)
            return await load_order(uow, order_id)

        return await self._commands.run(command, record)


async def hold_and_record(
    uow: UnitOfWork,
    now: datetime,
    draft: PlacementDraft,
    allocations: Sequence[Allocation],
    sources: Sequence[Mapping[str, NodeAvailability]],
    routing_request: RoutingRequest,
    plan: FulfillmentPlan,
    *,
    web_lines: Sequence[WebOrderLine] = (),
) -> None:
    """Inside one unit of work: the holds at every node (INSUFFICIENT_STOCK if one cannot
    be taken, and nothing is written), the order, the routing decision and its writes."""
    for allocation, reservation, source in zip(
        allocations, draft.reservations, sources, strict=True
    ):
        hold = HoldRequest(reservation, allocation.plans, allocation.location, source)
        await uow.holds.take(hold, now=now)
    await uow.orders.add(draft.order, web_lines=web_lines)
    await uow.routing.add(
        StoredDecision(
            order_id=draft.order.id,
            decided_at=now,
            strategy=plan.strategy.value,
            snapshot_version=SNAPSHOT_VERSION,
            request=dump_request(routing_request),
            plan=dump_plan(plan),
        )
    )
    await uow.outbox.add(draft.messages, now)
