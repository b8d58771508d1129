"""Placing, reading and moving orders.

``place`` asks the router for a plan (gateway.services.fulfillment), takes the holds at
every node of the plan and records the order, the routing decision with its inputs, and
every backend write it owes in one transaction: a hold can never exist without its order,
nor the order without the writes that tell the ERP, POS and OMS about it. What is written
is decided by ``order_placement.draft_placement`` (pure).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Channel, Money, SourceSystem
from gateway.domain.documents import Tracking
from gateway.domain.orders import Order, OrderFilter, OrderOrigin, OrderStatus, StoredDecision
from gateway.domain.outbox import OutboxMessage
from gateway.domain.reservations import (
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from gateway.errors import BadUserInput, InsufficientStock, NotFound
from gateway.persistence import idempotency, outbox
from gateway.persistence import orders as repo
from gateway.persistence.database import Database
from gateway.persistence.outbox import enqueue
from gateway.persistence.reservations import reservations
from gateway.persistence.routing import decisions_of, insert_decision
from gateway.ports import Clock, ErpOrdersPort, OmsPort
from gateway.routing import FulfillmentPlan, RoutingRequest
from gateway.routing.snapshot import SNAPSHOT_VERSION, dump_plan, dump_request
from gateway.services.availability import AvailabilityService
from gateway.services.catalog import CatalogService
from gateway.services.fulfillment import FulfillmentPlanner, PlanQuery
from gateway.services.holds import normalise_lines
from gateway.services.order_placement import (
    Allocation,
    PlaceOrderRequest,
    draft_placement,
    refuse_unplaceable,
    source_reference,
    unit_price,
    validate_place,
)
from gateway.services.order_states import CANCELLABLE, advance, require_transition
from gateway.services.order_sync import read_backends
from gateway.services.order_writes import (
    CREATE_OMS_ORDER,
    TRACKING,
    cancel_oms_order,
    fulfill_oms_order,
)
from gateway.services.reservations import HoldPolicy, ReservationService, new_id
from gateway.services.source_writes import undo_messages

OnChange = Callable[[Sequence[str]], Awaitable[None]]
MAX_ROUTING_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class OrderPolicy:
    pickup_window: timedelta = timedelta(hours=72)


class OrderService:
    def __init__(
        self,
        db: Database,
        availability: AvailabilityService,
        catalog: CatalogService,
        holds: ReservationService,
        planner: FulfillmentPlanner,
        clock: Clock,
        hold_policy: HoldPolicy,
        policy: OrderPolicy,
        on_change: OnChange,
        wake_worker: Callable[[], None] = lambda: None,
        oms: OmsPort | None = None,
        erp: ErpOrdersPort | None = None,
    ) -> None:
        self._db = db
        self._oms = oms
        self._erp = erp
        self._availability = availability
        self._catalog = catalog
        self._holds = holds
        self._planner = planner
        self._clock = clock
        self._hold_policy = hold_policy
        self._policy = policy
        self._on_change = on_change
        self._wake = wake_worker

    # --- reading -----------------------------------------------------------------------

    async def get(self, order_id: str) -> Order:
        async with self._db.transaction() as conn:
            found = await repo.get_order(conn, order_id)
        if found is None:
            raise NotFound(f"No order {order_id!r}", field="id")
        return found

    async def list(
        self, where: OrderFilter, first: int, after: tuple[datetime, str] | None
    ) -> tuple[list[Order], bool]:
        async with self._db.transaction() as conn:
            return await repo.list_orders(conn, where, first=first, after=after)

    async def routing_decisions(self, order_ids: Sequence[str]) -> dict[str, StoredDecision]:
        async with self._db.transaction() as conn:
            return await decisions_of(conn, order_ids)

    # --- place ---------------------------------------------------------------------------

    async def place(self, request: PlaceOrderRequest, key: str) -> Order:
        validate_place(request)
        lines = normalise_lines(request.lines)
        fingerprint = idempotency.request_hash(
            "placeOrder",
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
        )
        idempotency.validate_key(key)
        async with self._db.transaction() as conn:
            replay = await idempotency.lookup(conn, key, "placeOrder", fingerprint)
            if replay is not None:
                found = await repo.get_order(conn, replay.resource_id)
                if found is not None:
                    return found

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
        order_id = new_id("ord")
        for attempt in range(1, MAX_ROUTING_ATTEMPTS + 1):
            # Each attempt plans on fresh figures: holds taken meanwhile are deducted.
            routing_request, plan = await self._planner.plan(query)
            refuse_unplaceable(plan, request)
            try:
                order = await self._record(
                    order_id, key, fingerprint, request, prices, routing_request, plan
                )
            except InsufficientStock:
                if attempt == MAX_ROUTING_ATTEMPTS:
                    raise
                continue  # another order took the stock between planning and holding
            await self._on_change(sorted({line.sku for line in order.lines}))
            self._wake()
            return order
        raise AssertionError("unreachable")

    async def _record(
        self,
        order_id: str,
        key: str,
        fingerprint: str,
        request: PlaceOrderRequest,
        prices: dict[str, Money],
        routing_request: RoutingRequest,
        plan: FulfillmentPlan,
    ) -> Order:
        now = self._clock.now()
        allocations = []
        sources = []
        # Holds are taken node by node in id order, so concurrent split orders lock their
        # (SKU, node) rows in one global order and cannot deadlock.
        for shipment in sorted(plan.shipments, key=lambda s: s.node_id):
            location = await self._availability.location(shipment.node_id)
            lines = tuple(ReservationLine(x.sku, x.quantity) for x in shipment.lines)
            plans = tuple(await self._holds.plans_for(lines))
            allocations.append(Allocation(location, new_id("res"), lines, plans))
            sources.append(await self._holds.source_figures(plans, location))
        draft = draft_placement(
            order_id=order_id,
            request=request,
            allocations=allocations,
            prices=prices,
            routing_summary=plan.explanation.summary,
            locations=await self._availability.all_locations(),
            now=now,
            hold_for=self._hold_policy.max_ttl,
            erp_customer=self._hold_policy.erp_customer,
        )
        async with self._db.transaction() as conn:
            replay = await idempotency.claim(
                conn,
                key=key,
                operation="placeOrder",
                fingerprint=fingerprint,
                resource_id=order_id,
                now=now,
            )
            if replay is not None:
                found = await repo.get_order(conn, replay.resource_id)
                assert found is not None
                return found
            for allocation, reservation, source in zip(
                allocations, draft.reservations, sources, strict=True
            ):
                await self._holds.hold(
                    conn, reservation, allocation.plans, allocation.location, source, now
                )
            await repo.insert_order(conn, draft.order)
            await insert_decision(
                conn,
                StoredDecision(
                    order_id=order_id,
                    decided_at=now,
                    strategy=plan.strategy.value,
                    snapshot_version=SNAPSHOT_VERSION,
                    request=dump_request(routing_request),
                    plan=dump_plan(plan),
                ),
            )
            await enqueue(conn, draft.messages, now)
            stored = await repo.get_order(conn, order_id)
        assert stored is not None
        return stored

    # --- lifecycle -------------------------------------------------------------------------

    async def cancel(self, order_id: str, key: str, reason: str | None = None) -> Order:
        async def change(conn: AsyncConnection, order: Order, now: datetime) -> None:
            if order.status is OrderStatus.CANCELLED:
                return
            if order.status not in CANCELLABLE:
                require_transition(order.id, order.status, OrderStatus.CANCELLED)
            await self._cancel_in(conn, order, now, "CANCELLED", reason)

        return await self._transition(order_id, key, "cancelOrder", {"reason": reason}, change)

    async def _cancel_in(
        self, conn: AsyncConnection, order: Order, now: datetime, kind: str, detail: str | None
    ) -> None:
        await repo.move_status(
            conn,
            order.id,
            order.status,
            OrderStatus.CANCELLED,
            at=now,
            source=SourceSystem.GATEWAY,
            kind=kind,
            detail=detail,
        )
        messages: list[OutboxMessage] = []
        if order.origin is OrderOrigin.GATEWAY:
            held_at = await self._order_reservations(conn, order.id)
            for held in held_at:
                location = await self._availability.location(held.location_id)
                plans = await self._holds.plans_for(held.lines)
                messages += undo_messages(
                    ordering_key=order.id,
                    reference=source_reference(order.id, location.id, len(held_at)),
                    location=location,
                    plans=plans,
                    now=now,
                )
            await conn.execute(
                update(reservations)
                .where(reservations.c.order_id == order.id)
                .values(status=ReservationStatus.RELEASED, updated_at=now)
            )
            owed = await outbox.for_key(conn, order.id)
            # Only an order the OMS was told about is cancelled there.
            if any(d.operation == CREATE_OMS_ORDER for d in owed):
                messages.append(cancel_oms_order(order.id))
        await enqueue(conn, messages, now)

    async def mark_ready_for_pickup(self, order_id: str, key: str) -> Order:
        async def change(conn: AsyncConnection, order: Order, now: datetime) -> None:
            if order.channel is not Channel.PICKUP:
                raise BadUserInput(f"Order {order.id} is not a pickup order", field="id")
            if order.status is OrderStatus.READY_FOR_PICKUP:
                return
            require_transition(order.id, order.status, OrderStatus.READY_FOR_PICKUP)
            deadline = now + self._policy.pickup_window
            await repo.move_status(
                conn,
                order.id,
                order.status,
                OrderStatus.READY_FOR_PICKUP,
                at=now,
                source=SourceSystem.GATEWAY,
                detail=f"collect by {deadline.isoformat()}",
                pickup_deadline=deadline,
            )

        return await self._transition(order_id, key, "markReadyForPickup", {}, change)

    async def confirm_pickup(self, order_id: str, key: str) -> Order:
        async def change(conn: AsyncConnection, order: Order, now: datetime) -> None:
            if order.channel is not Channel.PICKUP:
                raise BadUserInput(f"Order {order.id} is not a pickup order", field="id")
            if order.status is OrderStatus.COLLECTED:
                return
            require_transition(order.id, order.status, OrderStatus.COLLECTED)
            await repo.move_status(
                conn,
                order.id,
                order.status,
                OrderStatus.COLLECTED,
                at=now,
                source=SourceSystem.GATEWAY,
            )
            if order.origin is OrderOrigin.GATEWAY:
                await enqueue(conn, [fulfill_oms_order(order.id, None, "pickup")], now)

        return await self._transition(order_id, key, "confirmPickup", {}, change)

    async def ship(self, order_id: str, tracking: Tracking | None, key: str) -> Order:
        async def change(conn: AsyncConnection, order: Order, now: datetime) -> None:
            if order.channel is not Channel.ONLINE:
                raise BadUserInput(f"Order {order.id} is a pickup order", field="id")
            if order.status is OrderStatus.SHIPPED:
                return
            require_transition(order.id, order.status, OrderStatus.SHIPPED)
            await repo.move_status(
                conn,
                order.id,
                order.status,
                OrderStatus.SHIPPED,
                at=now,
                source=SourceSystem.GATEWAY,
                detail=None if tracking is None else f"{tracking.company} {tracking.number}",
                tracking=[] if tracking is None else [TRACKING.dump_python(tracking)],
            )
            if order.origin is OrderOrigin.GATEWAY:
                await enqueue(conn, [fulfill_oms_order(order.id, tracking, "ship")], now)

        return await self._transition(
            order_id,
            key,
            "shipOrder",
            {"tracking": None if tracking is None else TRACKING.dump_python(tracking)},
            change,
        )

    async def confirm_delivery(self, order_id: str, key: str) -> Order:
        async def change(conn: AsyncConnection, order: Order, now: datetime) -> None:
            if order.status is OrderStatus.DELIVERED:
                return
            require_transition(order.id, order.status, OrderStatus.DELIVERED)
            await repo.move_status(
                conn,
                order.id,
                order.status,
                OrderStatus.DELIVERED,
                at=now,
                source=SourceSystem.GATEWAY,
            )

        return await self._transition(order_id, key, "confirmDelivery", {}, change)

    async def sync(self, order_id: str, key: str) -> Order:
        """Move the order forward to what the OMS and the ERP report (order_sync)."""
        reading = await read_backends(await self.get(order_id), self._oms, self._erp)

        async def change(conn: AsyncConnection, order: Order, now: datetime) -> None:
            status = order.status
            for report in reading.reports:
                target = advance(status, report.reported)
                if target is None:
                    continue
                await repo.move_status(
                    conn,
                    order.id,
                    status,
                    target,
                    at=now,
                    source=report.source,
                    detail=f"{report.source.value} reports {report.raw}",
                )
                status = target
            values = dict(reading.fields)
            if reading.tracking:
                values["tracking"] = [TRACKING.dump_python(t) for t in reading.tracking]
            await repo.set_fields(conn, order.id, now, **values)

        return await self._transition(order_id, key, "syncOrder", {}, change)

    async def cancel_no_shows(self, limit: int = 100) -> int:
        """Pickup orders not collected within their window: cancelled, stock given back."""
        now = self._clock.now()
        count = 0
        async with self._db.transaction() as conn:
            due = await repo.due_no_shows(conn, now, limit)
        for order_id in due:
            async with self._db.transaction() as conn:
                order = await repo.get_order(conn, order_id, for_update=True)
                if order is None or order.status is not OrderStatus.READY_FOR_PICKUP:
                    continue
                await self._cancel_in(
                    conn, order, now, "NO_SHOW", "not collected within the pickup window"
                )
                count += 1
            await self._on_change([line.sku for line in order.lines])
        if count:
            self._wake()
        return count

    async def _order_reservations(self, conn: AsyncConnection, order_id: str) -> list[Reservation]:
        from sqlalchemy import select

        from gateway.persistence.reservations import reservations_with_lines

        rows = list(
            await conn.execute(
                select(reservations).where(
                    reservations.c.order_id == order_id,
                    reservations.c.status == ReservationStatus.CONFIRMED,
                )
            )
        )
        return await reservations_with_lines(conn, rows)

    async def _transition(
        self,
        order_id: str,
        key: str,
        operation: str,
        arguments: dict[str, object],
        change: Callable[[AsyncConnection, Order, datetime], Awaitable[None]],
    ) -> Order:
        now = self._clock.now()
        fingerprint = idempotency.request_hash(operation, {"id": order_id, **arguments})
        async with self._db.transaction() as conn:
            replay = await idempotency.claim(
                conn,
                key=key,
                operation=operation,
                fingerprint=fingerprint,
                resource_id=order_id,
                now=now,
            )
            order = await repo.get_order(conn, order_id, for_update=True)
            if order is None:
                raise NotFound(f"No order {order_id!r}", field="id")
            if replay is None:
                await change(conn, order, now)
                order = await repo.get_order(conn, order_id)
                assert order is not None
        await self._on_change([line.sku for line in order.lines])
        self._wake()
        return order
