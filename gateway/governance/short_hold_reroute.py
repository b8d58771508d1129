"""Moving units a store no longer has to another node, where the order's promise allows it.

A delivery order short at a store (its units were sold at the till) is planned again for
the missing units from every other node that ships online orders, by the same router; if a
plan fills them, in one transaction: the units are held at the new node (the hold taker
refuses what is not there), the store's hold shrinks, the store's count gets back the
units the order's sale had taken (Square restock: that sale never left the shelf), the new
node's source records the new hold (Sales Order or sale), the order's line moves, the OMS's
fulfillment orders are moved to match (fulfillmentOrderMove), and the timeline and the
customer (when the gateway mails) hear of it. A pickup order is moved only by a transfer
to its store, only if its customer accepted one when ordering (``allowTransfer``) and only
before it was announced ready; otherwise the customer chose that store and the store team
owns its SHORT_HOLD.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain import Channel, SourceSystem
from gateway.domain.orders import Order, OrderEvent, OrderStatus
from gateway.domain.outbox import OutboxMessage
from gateway.domain.reservations import HoldRequest, OrderHold, ReservationLine
from gateway.errors import InsufficientStock
from gateway.governance.short_holds import Shortfall
from gateway.notifications.messages import mail_message, promise_changed
from gateway.ports import Clock, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService
from gateway.services.fulfillment import FulfillmentPlanner, PlanQuery
from gateway.services.orders.draft import confirmed_holds
from gateway.services.orders.lifecycle import oms_told
from gateway.services.orders.placement import OrderPlacement
from gateway.services.orders.writes import oms_allocations, reallocate_oms_order
from gateway.services.reservations import HoldPolicy
from gateway.services.source_writes import commit_messages, restock_at_store


@dataclass(frozen=True, slots=True)
class Rerouted:
    order_id: str
    sku: str
    quantity: int
    from_id: str
    to_ids: tuple[str, ...]


def _replan(order: Order, short: Shortfall) -> PlanQuery | None:
    """How to plan the missing units again, if the order's promise allows it: a delivery
    from any other node; a pickup only by a transfer to the same store, and only when the
    customer accepted one."""
    lines = (ReservationLine(short.sku, short.missing),)
    if order.channel is Channel.PICKUP:
        if (
            not order.allow_transfer
            or order.pickup_location_id != short.location_id
            or order.status is OrderStatus.READY_FOR_PICKUP  # announced: it cannot wait
        ):
            return None
        return PlanQuery(lines=lines, pickup_location_id=short.location_id)
    point = None if order.delivery is None else order.delivery.point
    if point is None:
        return None
    return PlanQuery(lines=lines, destination=point, exclude=frozenset({short.location_id}))


class ShortHoldReroute:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        availability: AvailabilityService,
        planner: FulfillmentPlanner,
        placement: OrderPlacement,
        hold_policy: HoldPolicy,
        clock: Clock,
        *,
        mails_customers: bool = False,
    ) -> None:
        self._uow = unit_of_work
        self._availability = availability
        self._planner = planner
        self._placement = placement
        self._hold_policy = hold_policy
        self._clock = clock
        self._mails = mails_customers

    async def reroute(
        self, order: Order, short: Shortfall, hold: OrderHold, *, sold_at_till: bool = True
    ) -> Rerouted | None:
        """The missing units moved to other nodes, or None (nothing moved). ``sold_at_till``:
        the units left the shelf in a till sale, so the order's own sale of them is given
        back to the store's count; otherwise (a picker did not find them) they were never
        there, and its count, which the order's sale already lowered, is right."""
        query = _replan(order, short)
        if query is None:
            return None
        _, plan = await self._planner.plan(query)
        if plan.unfulfillable or not plan.shipments:
            return None
        if any(s.node_id == short.location_id for s in plan.shipments):
            return None  # planned on a figure from before the till sale: not a way out
        allocations, sources = await self._placement.allocate(plan)
        store = await self._availability.location(short.location_id)
        price = next(line.unit_price for line in order.lines if line.sku == short.sku)
        try:
            async with self._uow() as uow:
                now = self._clock.now()
                current = await uow.orders.get(order.id, for_update=True)
                if current is None or current.status is not order.status:
                    return None  # it moved meanwhile: the next round looks again
                stamp = int(now.timestamp())
                messages: list[OutboxMessage] = []
                if sold_at_till:
                    messages.append(
                        restock_at_store(
                            order.id,
                            f"{order.id}:short:{short.sku}@{store.id}:{stamp}",
                            store,
                            short.sku,
                            short.missing,
                            now,
                        )
                    )
                holds = confirmed_holds(order, allocations, now, self._hold_policy.max_ttl)
                for allocation, reservation, source in zip(
                    allocations, holds, sources, strict=True
                ):
                    await uow.holds.take(
                        HoldRequest(reservation, allocation.plans, allocation.location, source),
                        now=now,
                    )
                    messages += commit_messages(
                        ordering_key=order.id,
                        reference=f"{order.id}@{allocation.location.id}:reroute:{stamp}",
                        location=allocation.location,
                        plans=allocation.plans,
                        customer=self._hold_policy.erp_customer,
                        prices={short.sku: price},
                        now=now,
                    )
                    moved = sum(line.quantity for line in allocation.lines)
                    await uow.orders.move_units(
                        order.id, short.sku, store.id, allocation.location.id, moved
                    )
                await uow.reservations.shrink_hold(
                    hold.reservation_id, short.sku, store.id, short.missing
                )
                if await oms_told(uow, order.id):
                    moved_order = await uow.orders.get(order.id)
                    assert moved_order is not None
                    locations = {loc.id: loc for loc in await self._availability.all_locations()}
                    allocations_now = oms_allocations(moved_order, locations)
                    if allocations_now is not None:
                        messages.append(reallocate_oms_order(order.id, allocations_now, str(stamp)))
                names = ", ".join(a.location.name for a in allocations)
                gone = "were sold in" if sold_at_till else "could not be found at"
                what = (
                    f"{short.missing} x {short.sku} of your order {gone} {store.name} "
                    f"before they left; they now come from {names}, expected by "
                    f"{plan.promised_date}."
                )
                await uow.orders.add_event(
                    order.id,
                    OrderEvent(
                        now,
                        "REROUTED",
                        SourceSystem.GATEWAY,
                        detail=f"{what} ({plan.explanation.summary})",
                    ),
                )
                if self._mails and order.customer_email:
                    event = f"reroute:{short.sku}@{store.id}:{stamp}"
                    messages.append(mail_message(order.id, promise_changed(order, event, what)))
                await uow.outbox.add(messages, now)
                await uow.commit()
        except InsufficientStock:
            return None  # another order took those units first: the store team decides
        return Rerouted(
            order.id,
            short.sku,
            short.missing,
            store.id,
            tuple(a.location.id for a in allocations),
        )
