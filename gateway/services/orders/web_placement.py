"""A web order the checkout accepted, allocated like a gateway order.

WooCommerce took the order and lowered its own stock copy; nothing else knows yet. The
gateway routes it with the same engine as ``placeOrder`` (to where its shipping address is:
gateway.geocoding.locate, or from the default node when it cannot say), holds its units at
the chosen nodes, records it with the routing decision and owes the same writes (an ERP
Sales Order or a POS sale per node, the OMS order), all in one unit of work, under a key of
its own so two gateway processes importing the same order allocate it once.

The ledger counts the units once: holds are deducted from the sources' figures (ERP,
Square), never from WooCommerce's copy, which follows the ONLINE available-to-promise.

An order no node can fill is recorded as it is (PLACED, nothing held), and an
UNALLOCATABLE_ORDER exception is opened for its owner with the reason; the order says so on
its timeline and in ``Order.exceptions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from gateway.config import TruthSettings
from gateway.domain import Capability, Channel, Location, NodeType, SourceSystem
from gateway.domain.documents import WebOrder
from gateway.domain.orders import Order, OrderEvent, OrderStatus
from gateway.domain.reservations import ReservationLine
from gateway.domain.truth import DiscrepancyKind, Figure
from gateway.errors import BadUserInput, InsufficientStock, NotFound
from gateway.geocoding.locate import Located, LocatedBy, locate
from gateway.governance.exceptions import order_exception
from gateway.ports import UnitOfWork
from gateway.routing import FulfillmentPlan, RoutingRequest
from gateway.services.availability import AvailabilityService, serves_channel
from gateway.services.commands import Command, Commands
from gateway.services.fulfillment import FulfillmentPlanner, PlanQuery
from gateway.services.holds import normalise_lines
from gateway.services.orders.book import load_order, order_skus
from gateway.services.orders.draft import (
    Allocation,
    PlacementDraft,
    allocated_lines,
    confirmed_holds,
    owed_writes,
)
from gateway.services.orders.placement import MAX_ROUTING_ATTEMPTS, OrderPlacement, hold_and_record
from gateway.services.reservations import HoldPolicy
from gateway.truth import queue
from gateway.truth.reconciler import new_discrepancy_id

S = OrderStatus
# The canonical SKU of a web order line that has none (a custom line, a deleted product).
NO_SKU_PREFIX = "woo-line-"
# Web statuses whose units are still to be sent: the order is allocated when first seen.
TO_ALLOCATE = frozenset({S.PLACED, S.ALLOCATED})


def import_key(web_id: int) -> str:
    """The idempotency key a web order's import claims (one allocation, however many
    processes import it)."""
    return f"gateway:import-web-order:{web_id}"


def default_node(locations: Sequence[Location], configured: str | None) -> Location | None:
    """The node an order with no locatable address is routed as if it were at: the
    configured one, else the first warehouse that ships online orders."""
    if configured is not None:
        return next((loc for loc in locations if loc.id == configured), None)
    shipping = sorted(
        (
            loc
            for loc in locations
            if loc.type is NodeType.WAREHOUSE and serves_channel(loc, Channel.ONLINE)
        ),
        key=lambda loc: loc.id,
    )
    return shipping[0] if shipping else None


def order_lines(shell: Order) -> tuple[tuple[ReservationLine, ...], str | None]:
    """The lines to route, or why the order cannot be routed at all."""
    missing = [line for line in shell.lines if line.sku.startswith(NO_SKU_PREFIX)]
    if missing:
        return (), f"WooCommerce line {missing[0].web_line_id} has no SKU"
    try:
        return normalise_lines(ReservationLine(x.sku, x.quantity) for x in shell.lines), None
    except BadUserInput as error:
        return (), str(error)


def placed(shell: Order) -> Order:
    """The web order as it stands before the gateway allocates it: PLACED, whatever
    WooCommerce's status says of its payment."""
    return replace(
        shell,
        status=S.PLACED,
        events=tuple(
            replace(e, to_status=S.PLACED) if e.kind == "IMPORTED" else e for e in shell.events
        ),
    )


def pickup_store(locations: Sequence[Location], name: str) -> Location | None:
    """The store a local-pickup order names (by name or node id, any case); a store that
    does not take pickups is none."""
    wanted = name.strip().casefold()
    for location in locations:
        if Capability.PICKUP not in location.capabilities:
            continue
        if wanted in (location.name.casefold(), location.id.casefold()):
            return location
    return None


def explained(plan: FulfillmentPlan, located: Located, origin: Location | None) -> FulfillmentPlan:
    """The plan with where its destination came from first among its notes."""
    note = located.note
    if located.point is None:
        note += (
            f"; routed as if to {origin.name} ({origin.id}), the default node"
            if origin is not None
            else "; no default node to route from"
        )
    explanation = replace(plan.explanation, notes=(note, *plan.explanation.notes))
    return replace(plan, explanation=explanation)


def draft_web_allocation(
    shell: Order,
    allocations: Sequence[Allocation],
    plan: FulfillmentPlan,
    *,
    locations: Sequence[Location],
    now: datetime,
    hold_for: timedelta,
    erp_customer: str,
) -> PlacementDraft:
    prices = {line.sku: line.unit_price for line in shell.lines}
    web_ids = {line.sku: line.web_line_id for line in shell.lines if line.web_line_id is not None}
    notes = "; ".join(plan.explanation.notes[:1])
    order = replace(
        shell,
        status=S.ALLOCATED,
        lines=allocated_lines(allocations, prices, web_ids),
        updated_at=now,
        events=(
            *shell.events,
            OrderEvent(
                now,
                "ALLOCATED",
                SourceSystem.GATEWAY,
                shell.status,
                S.ALLOCATED,
                f"{plan.explanation.summary} ({notes})" if notes else plan.explanation.summary,
            ),
        ),
    )
    return PlacementDraft(
        order,
        confirmed_holds(order, allocations, now, hold_for),
        owed_writes(order, allocations, prices, locations, now, erp_customer),
    )


class WebOrderPlacement:
    def __init__(
        self,
        commands: Commands,
        availability: AvailabilityService,
        planner: FulfillmentPlanner,
        placement: OrderPlacement,
        hold_policy: HoldPolicy,
        truth: TruthSettings,
        default_location_id: str | None,
    ) -> None:
        self._commands = commands
        self._availability = availability
        self._planner = planner
        self._placement = placement
        self._hold_policy = hold_policy
        self._truth = truth
        self._default_location_id = default_location_id

    async def place(self, web: WebOrder, shell: Order) -> Order:
        """Allocate ``shell`` (the canonical order of ``web``, not yet recorded), or record it
        unallocated with its exception."""
        command = Command(
            "importWebOrder",
            import_key(web.id),
            {"webOrderId": web.id},
            shell.id,
            load_order,
            order_skus,
        )
        replayed = await self._commands.replayed(command)
        if replayed is not None:
            return replayed
        shell = placed(shell)
        lines, unroutable = order_lines(shell)
        if unroutable is not None:
            return await self._unallocatable(command, web, shell, unroutable)
        locations = await self._availability.all_locations()
        origin = default_node(locations, self._default_location_id)
        located = locate(shell.delivery)
        if shell.channel is Channel.PICKUP:
            store = pickup_store(locations, web.pickup_location or "")
            if store is None:
                return await self._unallocatable(
                    command, web, shell, f"no pickup store {web.pickup_location!r} is known"
                )
            shell = replace(shell, pickup_location_id=store.id)
            located = Located(LocatedBy.PICKUP_STORE, store.point, f"local pickup at {store.name}")
            query = PlanQuery(lines=lines, pickup_location_id=store.id)
        else:
            destination = located.point or (origin.point if origin is not None else None)
            if destination is None:
                return await self._unallocatable(
                    command, web, shell, f"{located.note}, and no default node to route from"
                )
            query = PlanQuery(lines=lines, destination=destination)
        reason = ""
        for _ in range(MAX_ROUTING_ATTEMPTS):
            try:
                request, plan = await self._planner.plan(query)
            except (NotFound, BadUserInput) as error:
                return await self._unallocatable(command, web, shell, str(error))
            if plan.unfulfillable:
                reason = "; ".join(f"{u.sku} x{u.quantity}: {u.reason}" for u in plan.unfulfillable)
                return await self._unallocatable(command, web, shell, reason)
            if any(s.transfer_to is not None for s in plan.shipments):
                # The checkout promised collection at that store, not after a transfer.
                reason = f"{shell.pickup_location_id} cannot fill it without a transfer"
                return await self._unallocatable(command, web, shell, reason)
            plan = explained(plan, located, origin)
            try:
                return await self._record(command, web, shell, request, plan, locations)
            except InsufficientStock as error:
                reason = f"other orders took the stock while it was allocated: {error}"
        return await self._unallocatable(command, web, shell, reason)

    async def _record(
        self,
        command: Command[Order],
        web: WebOrder,
        shell: Order,
        routing_request: RoutingRequest,
        plan: FulfillmentPlan,
        locations: Sequence[Location],
    ) -> Order:
        allocations, sources = await self._placement.allocate(plan)

        async def record(uow: UnitOfWork, now: datetime) -> Order:
            draft = draft_web_allocation(
                shell,
                allocations,
                plan,
                locations=locations,
                now=now,
                hold_for=self._hold_policy.max_ttl,
                erp_customer=self._hold_policy.erp_customer,
            )
            await hold_and_record(
                uow, now, draft, allocations, sources, routing_request, plan, web_lines=web.lines
            )
            return await load_order(uow, shell.id)

        return await self._commands.run(command, record)

    async def _unallocatable(
        self, command: Command[Order], web: WebOrder, shell: Order, reason: str
    ) -> Order:
        async def record(uow: UnitOfWork, now: datetime) -> Order:
            order = replace(
                shell,  # PLACED already (``placed``)
                events=(
                    *shell.events,
                    OrderEvent(
                        now,
                        "UNALLOCATABLE",
                        SourceSystem.GATEWAY,
                        detail=f"not allocated: {reason}",
                    ),
                ),
            )
            await uow.orders.add(order, web_lines=web.lines)
            finding = order_exception(
                DiscrepancyKind.UNALLOCATABLE_ORDER,
                shell.id,
                system=SourceSystem.STOREFRONT,
                expected=Figure(SourceSystem.GATEWAY, f"cannot allocate: {reason}", now),
                found=Figure(
                    SourceSystem.STOREFRONT,
                    f"order #{web.number} accepted at checkout ({web.status})",
                    web.created_at,
                ),
                rule="an order the checkout accepted must be allocated to nodes that can fill it",
                policy=self._truth,
                delta=-sum(line.quantity for line in shell.lines),
            )
            await uow.discrepancies.add(
                [queue.opened(finding, new_discrepancy_id(), now, self._truth)]
            )
            return await load_order(uow, shell.id)

        return await self._commands.run(command, record)
