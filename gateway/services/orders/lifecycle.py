"""Moving an order along its lifecycle: the support console's and the stores' commands,
and the moves other systems report, as two tables.

    command              from                         to                channel
    markReadyForPickup   ALLOCATED, PICKING           READY_FOR_PICKUP  PICKUP
    confirmPickup        READY_FOR_PICKUP             COLLECTED         PICKUP
    shipOrder            ALLOCATED, PICKING           SHIPPED           ONLINE
    confirmDelivery      SHIPPED                      DELIVERED         any
    cancelOrder          PLACED, ALLOCATED, PICKING,  CANCELLED         any
                         READY_FOR_PICKUP

    entering          writes owed (through the outbox, each idempotent)
    READY_FOR_PICKUP  storefront: status and customer note; customer: mail
    COLLECTED         ERP: Delivery Note per warehouse; OMS: fulfilment; storefront
    SHIPPED           ERP: Delivery Note per warehouse; OMS: fulfilment with tracking;
                      storefront: completed, tracking in the note
    DELIVERED         storefront: note
    CANCELLED         each node's source gets the units back (Sales Order cancel, Square
                      restock); OMS: cancel; storefront: cancelled; customer: mail

The customer is mailed only when the gateway mails customers (SMTP configured); then the
storefront's notes are private, so the customer hears once.

The from-states are the state machine's (gateway.services.orders.states); a test keeps the
two equal. A command on an order already in its target state changes nothing; from any
other state it is ILLEGAL_TRANSITION, naming where the order can go, and a cancel is
refused while any system reports the goods have left (it says which; a return is the way).

A move several steps ahead (the ERP reports a delivered order the gateway has ALLOCATED)
owes the writes of every status on the way. The system that reported a move is not written
back to (it said so itself). The OMS is written only for an order it was told about; the
storefront only for a web order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
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
from gateway.domain.outbox import (
    CreateOmsOrder,
    DeliverSalesOrder,
    OutboxMessage,
    UpdateWebOrder,
)
from gateway.errors import BackendError, BadUserInput, IllegalTransition, NotFound
from gateway.notifications.messages import cancelled, mail_message, ready_for_pickup
from gateway.ports import UnitOfWork, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService
from gateway.services.commands import Command, Commands
from gateway.services.orders.book import load_order, order_skus
from gateway.services.orders.draft import source_reference
from gateway.services.orders.reports import OrderReports
from gateway.services.orders.states import CANCELLABLE, path, require_transition
from gateway.services.orders.web_news import web_news
from gateway.services.orders.writes import cancel_oms_order, fulfill_oms_order
from gateway.services.reservations import ReservationService
from gateway.services.source_writes import undo_messages

S = OrderStatus
log = logging.getLogger(__name__)


class Owed(Enum):
    UNITS_LEAVE = "each warehouse holding the order ships it (an ERPNext Delivery Note)"
    OMS_FULFILMENT = "the OMS fulfils the order's fulfillment orders"
    RELEASE_AT_SOURCES = "each node's source of truth gets the units back"
    OMS_CANCELLATION = "the OMS cancels the order"
    STOREFRONT_TOLD = "the storefront's order takes the matching status and a customer note"
    CUSTOMER_MAILED = "the customer is mailed (when the gateway mails customers)"


OWED: dict[OrderStatus, tuple[Owed, ...]] = {
    S.READY_FOR_PICKUP: (Owed.STOREFRONT_TOLD, Owed.CUSTOMER_MAILED),
    S.COLLECTED: (Owed.UNITS_LEAVE, Owed.OMS_FULFILMENT, Owed.STOREFRONT_TOLD),
    S.SHIPPED: (Owed.UNITS_LEAVE, Owed.OMS_FULFILMENT, Owed.STOREFRONT_TOLD),
    S.DELIVERED: (Owed.STOREFRONT_TOLD,),
    S.CANCELLED: (
        Owed.RELEASE_AT_SOURCES,
        Owed.OMS_CANCELLATION,
        Owed.STOREFRONT_TOLD,
        Owed.CUSTOMER_MAILED,
    ),
}


@dataclass(frozen=True, slots=True)
class Step:
    to: OrderStatus
    start: frozenset[OrderStatus]
    channel: Channel | None = None  # the only channel whose orders take this step
    # Taken from ``start`` alone, not from wherever the state machine allows ``to``.
    only_from_start: bool = False


LIFECYCLE: dict[str, Step] = {
    "markReadyForPickup": Step(
        S.READY_FOR_PICKUP, frozenset({S.ALLOCATED, S.PICKING}), Channel.PICKUP
    ),
    "confirmPickup": Step(S.COLLECTED, frozenset({S.READY_FOR_PICKUP}), Channel.PICKUP),
    "shipOrder": Step(S.SHIPPED, frozenset({S.ALLOCATED, S.PICKING}), Channel.ONLINE),
    "confirmDelivery": Step(S.DELIVERED, frozenset({S.SHIPPED})),
    "cancelOrder": Step(S.CANCELLED, CANCELLABLE),
}


# A cancel only a ready pickup order takes: the store clears its shelf before the no-show
# sweep would (markNoShow); from anywhere else the step is refused, not a plain cancel.
NO_SHOW = Step(S.CANCELLED, frozenset({S.READY_FOR_PICKUP}), Channel.PICKUP, only_from_start=True)


def check_step(step: Step, order: Order) -> bool:
    """Whether ``step`` moves ``order`` (False: it is there already); raises when the order
    cannot take it."""
    if step.channel is not None and order.channel is not step.channel:
        wrong = "is not a pickup order" if step.channel is Channel.PICKUP else "is a pickup order"
        raise BadUserInput(f"Order {order.id} {wrong}", field="id")
    if order.status is step.to:
        return False
    if order.status not in step.start:
        if step.only_from_start:
            starts = ", ".join(sorted(s.value for s in step.start))
            raise IllegalTransition(
                f"Order {order.id} is {order.status.value}; only an order {starts} can "
                f"become {step.to.value} this way",
                status=order.status.value,
                requested=step.to.value,
            )
        require_transition(order.id, order.status, step.to)
    return True


@dataclass(frozen=True, slots=True)
class Move:
    """How one command or report moves one order: what its timeline says, what else it
    sets."""

    kind: str = "STATUS_CHANGED"
    detail: str | None = None
    changes: OrderChanges = NO_CHANGES
    tracking: Tracking | None = None  # handed to the OMS and the storefront with a shipment
    source: SourceSystem = SourceSystem.GATEWAY  # who moved it (never written back to)
    # Systems contradicting the move: left for a person to put right, not overwritten.
    not_told: frozenset[SourceSystem] = frozenset()


MoveFor = Callable[[datetime], Move]


class OrderLifecycle:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        commands: Commands,
        availability: AvailabilityService,
        holds: ReservationService,
        pickup_window: timedelta,
        reports: OrderReports | None = None,
        web_pickup_status: str | None = "ready-for-pickup",
        *,
        mails_customers: bool = False,
    ) -> None:
        self._uow = unit_of_work
        self._commands = commands
        self._availability = availability
        self._holds = holds
        self._pickup_window = pickup_window
        self._reports = reports or OrderReports()
        self._web_pickup_status = web_pickup_status or None
        # When the gateway mails customers it is their one voice: WooCommerce's notes to
        # them stay private (WooCommerce would mail each customer note too).
        self._mails_customers = mails_customers

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

    async def mark_no_show(self, order_id: str, key: str) -> Order:
        """The customer did not come: cancelled as the no-show sweep would, at once."""
        no_show = Move(kind="NO_SHOW", detail="not collected: the store cleared its shelf")
        return await self._command(
            "markNoShow", order_id, key, {}, lambda now: no_show, step=NO_SHOW
        )

    async def cancel(self, order_id: str, key: str, reason: str | None = None) -> Order:
        await self._refuse_once_left(order_id)
        cancelled = Move(kind="CANCELLED", detail=reason)
        return await self._command(
            "cancelOrder", order_id, key, {"reason": reason}, lambda now: cancelled
        )

    async def cancel_in(
        self, uow: UnitOfWork, order: Order, now: datetime, kind: str, detail: str
    ) -> None:
        """Cancel ``order`` inside ``uow`` (the no-show sweep): no command, no key."""
        await self._move(uow, order, now, S.CANCELLED, Move(kind=kind, detail=detail))

    async def follow_in(
        self,
        uow: UnitOfWork,
        order: Order,
        now: datetime,
        target: OrderStatus,
        source: SourceSystem,
        detail: str,
        changes: OrderChanges = NO_CHANGES,
        not_told: Collection[SourceSystem] = (),
    ) -> None:
        """Move ``order`` to ``target`` because ``source`` reports it (the caller checked
        the move is forward and allowed): the other systems are told, but those in
        ``not_told``."""
        kind = "CANCELLED" if target is S.CANCELLED else "STATUS_CHANGED"
        move = Move(
            kind=kind,
            detail=detail,
            changes=changes,
            source=source,
            not_told=frozenset(not_told),
        )
        await self._move(uow, order, now, target, move)

    async def _refuse_once_left(self, order_id: str) -> None:
        """A cancel is refused while any system holding the order reports its goods left.
        A system that cannot be read now does not stop it (its write waits in the outbox
        and is refused there if it must be)."""
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get(order_id)
        if order is None or order.status not in CANCELLABLE:
            return
        try:
            reading = await self._reports.read(order, web=True)
        except BackendError as error:
            log.warning("cancel of %s: could not read every system (%s)", order_id, error)
            return
        left = reading.left()
        if left:
            said = "; ".join(f"{r.source.value} reports {r.raw}" for r in left)
            raise IllegalTransition(
                f"Order {order_id} cannot be cancelled: its goods have left ({said}). "
                "Request a return instead (requestReturn).",
                status=order.status.value,
                requested=S.CANCELLED.value,
                reported_by=[r.source.value for r in left],
            )

    async def _command(
        self,
        operation: str,
        order_id: str,
        key: str,
        arguments: Mapping[str, object],
        move: MoveFor,
        step: Step | None = None,
    ) -> Order:
        step = step or LIFECYCLE[operation]

        async def change(uow: UnitOfWork, now: datetime) -> Order:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound(f"No order {order_id!r}", field="id")
            if check_step(step, order):
                await self._move(uow, order, now, step.to, move(now))
            return await load_order(uow, order_id)

        command = Command(
            operation, key, {"id": order_id, **arguments}, order_id, load_order, order_skus
        )
        return await self._commands.run(command, change)

    async def _move(
        self, uow: UnitOfWork, order: Order, now: datetime, to: OrderStatus, move: Move
    ) -> None:
        event = OrderEvent(now, move.kind, move.source, order.status, to, move.detail)
        await uow.orders.move_status(order.id, event, move.changes)
        owed: list[OutboxMessage] = []
        for entered in path(order.status, to, order.channel) or (to,):
            owed += await self._owed(uow, entered, order, now, move)
        # The system that reported the move did it already.
        told = [m for m in owed if m.target is not move.source and m.target not in move.not_told]
        await uow.outbox.add(told, now)
        if to is S.CANCELLED:
            await uow.reservations.release_order(order.id, now)

    async def _owed(
        self, uow: UnitOfWork, entered: OrderStatus, order: Order, now: datetime, move: Move
    ) -> list[OutboxMessage]:
        messages: list[OutboxMessage] = []
        for owed in OWED.get(entered, ()):
            if owed is Owed.UNITS_LEAVE:
                messages += await self._deliveries(uow, order)
            elif owed is Owed.OMS_FULFILMENT and await oms_told(uow, order.id):
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
            elif owed is Owed.OMS_CANCELLATION and await oms_told(uow, order.id):
                messages.append(cancel_oms_order(order.id))
            elif owed is Owed.STOREFRONT_TOLD:
                messages += await self._storefront_told(order, entered, move)
            elif owed is Owed.CUSTOMER_MAILED and self._mails_customers:
                messages += await self._mailed(order, entered, move)
        return messages

    async def _mailed(self, order: Order, entered: OrderStatus, move: Move) -> list[OutboxMessage]:
        if not order.customer_email:
            return []
        if entered is S.READY_FOR_PICKUP and order.pickup_location_id:
            store = await self._availability.location(order.pickup_location_id)
            mail = ready_for_pickup(order, store, move.changes.pickup_deadline)
        elif entered is S.CANCELLED:
            mail = cancelled(order, move.detail)
        else:
            return []
        return [mail_message(order.id, mail)]

    async def _deliveries(self, uow: UnitOfWork, order: Order) -> list[OutboxMessage]:
        """A Delivery Note for each Sales Order the order's holds became (its stores'
        units were recorded sold when they were held)."""
        held_at = await uow.reservations.confirmed_of_order(order.id)
        messages: list[OutboxMessage] = []
        for held in held_at:
            location = await self._availability.location(held.location_id)
            if location.source is not SourceSystem.ERP:
                continue
            submitted = source_reference(order.id, location.id, len(held_at))
            messages.append(
                DeliverSalesOrder(
                    ordering_key=order.id,
                    reference=f"{submitted}:deliver",
                    submit_reference=submitted,
                    location_id=location.id,
                )
            )
        return messages

    async def _storefront_told(
        self, order: Order, entered: OrderStatus, move: Move
    ) -> list[OutboxMessage]:
        web_id = next(
            (s.id for s in order.systems if s.system is SourceSystem.STOREFRONT and s.id), None
        )
        if web_id is None:
            return []  # not a web order
        store = None
        if order.pickup_location_id:
            store = (await self._availability.location(order.pickup_location_id)).name
        news = web_news(
            entered,
            pickup_status=self._web_pickup_status,
            store=store,
            deadline=move.changes.pickup_deadline,
            tracking=move.tracking,
            reason=move.detail if entered is S.CANCELLED else None,
        )
        if news is None:
            return []
        return [
            UpdateWebOrder(
                ordering_key=order.id,
                reference=f"{order.id}:web:{entered.value.lower()}",
                web_order_id=int(web_id),
                status=news.status,
                note=news.note,
                customer_note=not self._mails_customers,
            )
        ]


async def oms_told(uow: UnitOfWork, order_id: str) -> bool:
    """Whether the order owes (or made) the OMS order a fulfilment or cancel acts on."""
    told = await uow.outbox.for_key(order_id)
    return any(isinstance(d.message, CreateOmsOrder) for d in told)


def _tracking_arguments(tracking: Tracking) -> dict[str, str | None]:
    return {"company": tracking.company, "number": tracking.number, "url": tracking.url}
