"""Moving an order along its lifecycle by hand: the support console's and the stores'
commands, as one table.

    command              from                         to                channel  writes owed
    markReadyForPickup   ALLOCATED, PICKING           READY_FOR_PICKUP  PICKUP   -
    confirmPickup        READY_FOR_PICKUP             COLLECTED         PICKUP   OMS fulfilment
    shipOrder            ALLOCATED, PICKING           SHIPPED           ONLINE   OMS fulfilment
    confirmDelivery      SHIPPED                      DELIVERED         any      -
    cancelOrder          PLACED, ALLOCATED, PICKING,  CANCELLED         any      holds released at
                         READY_FOR_PICKUP                                        their sources,
                                                                                 OMS cancellation

The from-states are the state machine's (gateway.services.orders.states); a test keeps the
two equal. A command on an order already in its target state changes nothing; from any
other state it is ILLEGAL_TRANSITION, naming where the order can go. Writes are owed by
every order the gateway allocated, its own and web orders alike (a web order recorded as it
was, done with when first seen, holds nothing and was written nowhere).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from gateway.domain import Channel, SourceSystem
from gateway.domain.documents import Tracking
from gateway.domain.orders import (
    NO_CHANGES,
    Order,
    OrderChanges,
    OrderEvent,
    OrderStatus,
)
from gateway.domain.outbox import CreateOmsOrder, OutboxMessage
from gateway.errors import BadUserInput, NotFound
from gateway.ports import UnitOfWork
from gateway.services.availability import AvailabilityService
from gateway.services.commands import Command, Commands
from gateway.services.orders.book import load_order, order_skus
from gateway.services.orders.draft import source_reference
from gateway.services.orders.states import CANCELLABLE, require_transition
from gateway.services.orders.writes import cancel_oms_order, fulfill_oms_order
from gateway.services.reservations import ReservationService
from gateway.services.source_writes import undo_messages

S = OrderStatus


class Owed(Enum):
    OMS_FULFILMENT = "the OMS fulfils the order's fulfillment orders"
    RELEASE_AT_SOURCES = "each node's source of truth gets the units back"
    OMS_CANCELLATION = "the OMS cancels the order"


@dataclass(frozen=True, slots=True)
class Step:
    to: OrderStatus
    start: frozenset[OrderStatus]
    channel: Channel | None = None  # the only channel whose orders take this step
    owes: tuple[Owed, ...] = ()


LIFECYCLE: dict[str, Step] = {
    "markReadyForPickup": Step(
        S.READY_FOR_PICKUP, frozenset({S.ALLOCATED, S.PICKING}), Channel.PICKUP
    ),
    "confirmPickup": Step(
        S.COLLECTED, frozenset({S.READY_FOR_PICKUP}), Channel.PICKUP, (Owed.OMS_FULFILMENT,)
    ),
    "shipOrder": Step(
        S.SHIPPED, frozenset({S.ALLOCATED, S.PICKING}), Channel.ONLINE, (Owed.OMS_FULFILMENT,)
    ),
    "confirmDelivery": Step(S.DELIVERED, frozenset({S.SHIPPED})),
    "cancelOrder": Step(
        S.CANCELLED, CANCELLABLE, owes=(Owed.RELEASE_AT_SOURCES, Owed.OMS_CANCELLATION)
    ),
}


def check_step(step: Step, order: Order) -> bool:
    """Whether ``step`` moves ``order`` (False: it is there already); raises when the order
    cannot take it."""
    if step.channel is not None and order.channel is not step.channel:
        wrong = "is not a pickup order" if step.channel is Channel.PICKUP else "is a pickup order"
        raise BadUserInput(f"Order {order.id} {wrong}", field="id")
    if order.status is step.to:
        return False
    if order.status not in step.start:
        require_transition(order.id, order.status, step.to)
    return True


@dataclass(frozen=True, slots=True)
class Move:
    """How one command moves one order: what its timeline says, what else it sets."""

    kind: str = "STATUS_CHANGED"
    detail: str | None = None
    changes: OrderChanges = NO_CHANGES
    tracking: Tracking | None = None  # handed to the OMS with a fulfilment
    source: SourceSystem = SourceSystem.GATEWAY  # who moved it (the timeline says)


MoveFor = Callable[[datetime], Move]


class OrderLifecycle:
    def __init__(
        self,
        commands: Commands,
        availability: AvailabilityService,
        holds: ReservationService,
        pickup_window: timedelta,
    ) -> None:
        self._commands = commands
        self._availability = availability
        self._holds = holds
        self._pickup_window = pickup_window

    async def mark_ready_for_pickup(self, order_id: str, key: str) -> Order:
        def ready(now: datetime) -> Move:
            deadline = now + self._pickup_window
            return Move(
                detail=f"collect by {deadline.isoformat()}",
                changes=OrderChanges(pickup_deadline=deadline),
            )

        return await self._command("markReadyForPickup", order_id, key, {}, ready)

    async def confirm_pickup(self, order_id: str, key: str) -> Order:
        return await self._command("confirmPickup", order_id, key, {}, lambda now: Move())

    async def ship(self, order_id: str, tracking: Tracking | None, key: str) -> Order:
        shipped = Move(
            detail=None if tracking is None else f"{tracking.company} {tracking.number}",
            changes=OrderChanges(tracking=() if tracking is None else (tracking,)),
            tracking=tracking,
        )
        arguments = {"tracking": None if tracking is None else _tracking_arguments(tracking)}
        return await self._command("shipOrder", order_id, key, arguments, lambda now: shipped)

    async def confirm_delivery(self, order_id: str, key: str) -> Order:
        return await self._command("confirmDelivery", order_id, key, {}, lambda now: Move())

    async def cancel(self, order_id: str, key: str, reason: str | None = None) -> Order:
        cancelled = Move(kind="CANCELLED", detail=reason)
        return await self._command(
            "cancelOrder", order_id, key, {"reason": reason}, lambda now: cancelled
        )

    async def cancel_in(
        self,
        uow: UnitOfWork,
        order: Order,
        now: datetime,
        kind: str,
        detail: str,
        *,
        source: SourceSystem = SourceSystem.GATEWAY,
        changes: OrderChanges = NO_CHANGES,
    ) -> None:
        """Cancel ``order`` inside ``uow`` (the no-show sweep, a cancellation another system
        reports): no command, no key."""
        move = Move(kind=kind, detail=detail, changes=changes, source=source)
        await self._move(uow, LIFECYCLE["cancelOrder"], order, now, move)

    async def _command(
        self,
        operation: str,
        order_id: str,
        key: str,
        arguments: Mapping[str, object],
        move: MoveFor,
    ) -> Order:
        step = LIFECYCLE[operation]

        async def change(uow: UnitOfWork, now: datetime) -> Order:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound(f"No order {order_id!r}", field="id")
            if check_step(step, order):
                await self._move(uow, step, order, now, move(now))
            return await load_order(uow, order_id)

        command = Command(
            operation, key, {"id": order_id, **arguments}, order_id, load_order, order_skus
        )
        return await self._commands.run(command, change)

    async def _move(
        self, uow: UnitOfWork, step: Step, order: Order, now: datetime, move: Move
    ) -> None:
        event = OrderEvent(now, move.kind, move.source, order.status, step.to, move.detail)
        await uow.orders.move_status(order.id, event, move.changes)
        # A web order the gateway allocated owes what a gateway order owes; one recorded
        # as it was (done with when first seen) holds nothing and was written nowhere.
        await uow.outbox.add(await self._owed(uow, step.owes, order, now, move), now)
        if Owed.RELEASE_AT_SOURCES in step.owes:
            await uow.reservations.release_order(order.id, now)

    async def _owed(
        self, uow: UnitOfWork, owes: Sequence[Owed], order: Order, now: datetime, move: Move
    ) -> list[OutboxMessage]:
        messages: list[OutboxMessage] = []
        for owed in owes:
            if owed is Owed.OMS_FULFILMENT and await _oms_told(uow, order.id):
                step_name = "pickup" if order.channel is Channel.PICKUP else "ship"
                messages.append(fulfill_oms_order(order.id, move.tracking, step_name))
            elif owed is Owed.RELEASE_AT_SOURCES:
                held_at = await uow.reservations.confirmed_of_order(order.id)
                for held in held_at:
                    location = await self._availability.location(held.location_id)
                    messages += undo_messages(
                        ordering_key=order.id,
                        reference=source_reference(order.id, location.id, len(held_at)),
                        location=location,
                        plans=await self._holds.plans_for(held.lines),
                        now=now,
                    )
            elif owed is Owed.OMS_CANCELLATION and await _oms_told(uow, order.id):
                # Only an order the OMS was told about is cancelled there.
                messages.append(cancel_oms_order(order.id))
        return messages


async def _oms_told(uow: UnitOfWork, order_id: str) -> bool:
    """Whether the order owes (or made) the OMS order a fulfilment or cancel acts on."""
    told = await uow.outbox.for_key(order_id)
    return any(isinstance(d.message, CreateOmsOrder) for d in told)


def _tracking_arguments(tracking: Tracking) -> dict[str, str | None]:
    return {"company": tracking.company, "number": tracking.number, "url": tracking.url}
