"""Holds on stock: reserve, extend, confirm, release, and the sweeper that expires them.

Every mutation goes through the one command path (gateway.services.commands). A hold lowers
availability for every reader as soon as its unit of work commits, because availability
reads the ledger from the database on every request; the command path then drops derived
caches (the whole-response micro-cache) so nobody is served an answer from before it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway import random_ids
from gateway.domain import Channel, Kit, Location, NodeAvailability
from gateway.domain.acting import requested_by
from gateway.domain.idempotency import validate_key
from gateway.domain.reservations import (
    HoldPlan,
    HoldRequest,
    Reservation,
    ReservationLine,
    ReservationStatus,
    needed_by_sku,
)
from gateway.errors import BadUserInput, IllegalTransition, NotFound
from gateway.ports import Clock, Reserver, UnitOfWork, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService, serves_channel
from gateway.services.commands import Command, Commands, OnChange
from gateway.services.holds import normalise_lines, plan_holds
from gateway.services.source_writes import commit_messages, undo_messages


@dataclass(frozen=True, slots=True)
class ReserveRequest:
    lines: tuple[ReservationLine, ...]
    location_id: str
    channel: Channel
    ttl_seconds: int | None = None
    customer_ref: str | None = None


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    default_ttl: timedelta = timedelta(minutes=15)
    max_ttl: timedelta = timedelta(days=7)
    erp_customer: str = "WooCommerce Web Customer"


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_ids.token_hex(10)}"


def ttl_for(request_ttl: int | None, policy: HoldPolicy) -> timedelta:
    if request_ttl is None:
        return policy.default_ttl
    if not 1 <= request_ttl <= policy.max_ttl.total_seconds():
        raise BadUserInput(
            f"ttlSeconds must be 1 to {int(policy.max_ttl.total_seconds())}, got {request_ttl}",
            field="ttlSeconds",
        )
    return timedelta(seconds=request_ttl)


def as_seen_at(reservation: Reservation, now: datetime) -> Reservation:
    # The sweeper may not have run yet; a hold past its time is expired for the reader.
    if reservation.status is ReservationStatus.ACTIVE and reservation.expires_at <= now:
        return replace(reservation, status=ReservationStatus.EXPIRED)
    return reservation


def require_active(found: Reservation, now: datetime, action: str) -> None:
    if found.status is ReservationStatus.ACTIVE and found.expires_at > now:
        return
    status = as_seen_at(found, now).status
    raise IllegalTransition(
        f"Cannot {action} reservation {found.id}: it is {status.value}", status=status.value
    )


ReservationChange = Callable[[UnitOfWork, Reservation, datetime], Awaitable[None]]


class ReservationService:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        commands: Commands,
        availability: AvailabilityService,
        clock: Clock,
        policy: HoldPolicy,
        on_change: OnChange,
        batched: Reserver | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._commands = commands
        # PostgreSQL decides the reserves one process receives together in one call.
        self._batched = batched
        self._availability = availability
        self._clock = clock
        self._policy = policy
        self._on_change = on_change

    # --- reading -----------------------------------------------------------------------

    async def get(self, reservation_id: str) -> Reservation:
        async with self._uow(read_only=True) as uow:
            return await self._load(uow, reservation_id)

    async def _load(self, uow: UnitOfWork, reservation_id: str) -> Reservation:
        found = await uow.reservations.get(reservation_id)
        if found is None:
            raise NotFound(f"No reservation {reservation_id!r}", field="id")
        return as_seen_at(found, self._clock.now())

    # --- reserve -----------------------------------------------------------------------

    async def reserve(self, request: ReserveRequest, key: str) -> Reservation:
        now = self._clock.now()
        lines = normalise_lines(request.lines)
        ttl = ttl_for(request.ttl_seconds, self._policy)
        validate_key(key)  # a bad key is refused before any backend is asked
        location = await self._availability.location(request.location_id)
        if not serves_channel(location, request.channel):
            raise BadUserInput(
                f"{location.name} does not serve channel {request.channel.value}",
                field="channel",
            )
        plans, figures = await self.plans_and_figures(lines, location)
        hold = HoldRequest(
            Reservation(
                id=new_id("res"),
                status=ReservationStatus.ACTIVE,
                location_id=location.id,
                channel=request.channel,
                customer_ref=request.customer_ref,
                lines=lines,
                created_at=now,
                expires_at=now + ttl,
                requested_by=requested_by(),
            ),
            plans,
            location,
            figures,
        )
        command = Command(
            "reserve",
            key,
            {
                "lines": [(line.sku, line.quantity) for line in lines],
                "location": request.location_id,
                "channel": request.channel.value,
                "ttl": request.ttl_seconds,
                "customer": request.customer_ref,
            },
            hold.reservation.id,
            self._load,
            skus=lambda _: needed_by_sku(plans),
        )
        # A retry is recognised when the key is claimed, together with the hold: checking
        # first would cost a transaction on every first attempt.
        if self._batched is not None:
            batched = self._batched
            return await self._commands.run_claimed(
                command, lambda claim: batched.reserve(claim, hold), lambda: hold.reservation
            )

        async def take(uow: UnitOfWork, now: datetime) -> Reservation:
            await uow.holds.take(hold, now=now)
            return hold.reservation

        return await self._commands.run(command, take)

    async def source_figures(
        self,
        plans: Sequence[HoldPlan],
        location: Location,
        *,
        kits: Mapping[str, Kit] | None = None,
    ) -> dict[str, NodeAvailability]:
        """The source's figures for the held SKUs at ``location``, without the gateway's
        ledger (the hold taker reads that under its lock); ``kits``: the kits among the held
        SKUs, when the caller has read them."""
        skus = sorted({p.sku for p in plans})
        by_node = await self._availability.by_node(
            skus, with_ledger=False, at=[location], kits=kits
        )
        return {sku: by_node[sku][location.id] for sku in skus if location.id in by_node[sku]}

    async def plans_and_figures(
        self, lines: Sequence[ReservationLine], location: Location
    ) -> tuple[tuple[HoldPlan, ...], dict[str, NodeAvailability]]:
        """The holds ``lines`` need at ``location`` and the source's figures for them. When
        no line is a kit, the SKUs held are the lines' own, already known to be no kits: the
        kits are read once."""
        kits = await self._availability.kits([line.sku for line in lines])
        plans = tuple(plan_holds(lines, kits))
        return plans, await self.source_figures(plans, location, kits=None if kits else {})

    async def plans_for(self, lines: Sequence[ReservationLine]) -> list[HoldPlan]:
        return plan_holds(lines, await self._availability.kits([line.sku for line in lines]))

    # --- change state --------------------------------------------------------------------

    async def extend(self, reservation_id: str, ttl_seconds: int, key: str) -> Reservation:
        ttl = ttl_for(ttl_seconds, self._policy)

        async def change(uow: UnitOfWork, found: Reservation, now: datetime) -> None:
            require_active(found, now, "extend")
            await uow.reservations.update(found.id, now, expires_at=now + ttl)

        return await self._transition(
            "extendReservation", reservation_id, key, {"ttl": ttl_seconds}, change
        )

    async def release(self, reservation_id: str, key: str) -> Reservation:
        async def change(uow: UnitOfWork, found: Reservation, now: datetime) -> None:
            if found.status is ReservationStatus.RELEASED:
                return
            if found.order_id is not None:
                raise IllegalTransition(
                    f"Reservation {found.id} belongs to order {found.order_id}: cancel the order",
                    status=found.status.value,
                )
            if as_seen_at(found, now).status is ReservationStatus.EXPIRED:
                raise IllegalTransition(f"Reservation {found.id} has expired", status="EXPIRED")
            if found.status is ReservationStatus.CONFIRMED:
                location, plans = await self._held_at(found)
                undo = undo_messages(
                    ordering_key=found.id,
                    reference=found.id,
                    location=location,
                    plans=plans,
                    now=now,
                )
                await uow.outbox.add(undo, now)
            await uow.reservations.update(found.id, now, status=ReservationStatus.RELEASED)

        return await self._transition("releaseReservation", reservation_id, key, {}, change)

    async def confirm(self, reservation_id: str, key: str) -> Reservation:
        async def change(uow: UnitOfWork, found: Reservation, now: datetime) -> None:
            if found.status is ReservationStatus.CONFIRMED:
                return
            require_active(found, now, "confirm")
            location, plans = await self._held_at(found)
            commit = commit_messages(
                ordering_key=found.id,
                reference=found.id,
                location=location,
                plans=plans,
                customer=self._policy.erp_customer,
                now=now,
            )
            await uow.outbox.add(commit, now)
            await uow.reservations.update(found.id, now, status=ReservationStatus.CONFIRMED)

        return await self._transition("confirmReservation", reservation_id, key, {}, change)

    async def _held_at(self, found: Reservation) -> tuple[Location, list[HoldPlan]]:
        """The node a reservation holds at, and what it holds there."""
        return await self._availability.location(found.location_id), await self.plans_for(
            found.lines
        )

    async def _transition(
        self,
        operation: str,
        reservation_id: str,
        key: str,
        arguments: Mapping[str, object],
        change: ReservationChange,
    ) -> Reservation:
        async def changed(uow: UnitOfWork, now: datetime) -> Reservation:
            found = await uow.reservations.get(reservation_id, for_update=True)
            if found is None:
                raise NotFound(f"No reservation {reservation_id!r}", field="id")
            await change(uow, found, now)
            return await self._load(uow, reservation_id)

        command = Command(
            operation,
            key,
            {"id": reservation_id, **arguments},
            reservation_id,
            self._load,
            skus=lambda r: [line.sku for line in r.lines],
        )
        return await self._commands.run(command, changed)

    # --- sweeper -------------------------------------------------------------------------

    async def expire_due(self, limit: int = 500) -> int:
        """Mark ACTIVE holds past their time EXPIRED. Safe to run in every process."""
        now = self._clock.now()
        async with self._uow() as uow:
            count, skus = await uow.reservations.expire_due(now, limit)
            await uow.commit()
        if count:
            await self._on_change(skus)
        return count
