"""Holds on stock: reserve, extend, confirm, release, and the sweeper that expires them.

Every mutation is idempotent on its key (gateway.persistence.idempotency). A hold lowers
availability for every reader as soon as its transaction commits, because availability
reads the ledger from the database on every request; ``on_change`` then drops derived
caches (the whole-response micro-cache) so nobody is served an answer from before it.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Channel, Location, NodeAvailability
from gateway.domain.reservations import (
    HoldPlan,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from gateway.errors import BadUserInput, IdempotencyKeyReused, IllegalTransition, NotFound
from gateway.persistence import idempotency, pg_holds
from gateway.persistence.database import Database
from gateway.persistence.hold_batcher import HoldBatcher
from gateway.persistence.outbox import enqueue
from gateway.persistence.reservations import (
    get_reservation,
    holds,
    insert_reservation,
    reservations,
)
from gateway.ports import Clock
from gateway.services.availability import AvailabilityService, serves_channel
from gateway.services.holds import (
    needed_by_sku,
    normalise_lines,
    per_sku,
    plan_holds,
    take_holds,
)
from gateway.services.source_writes import commit_messages, undo_messages

OnChange = Callable[[Sequence[str]], Awaitable[None]]


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
    # Readings older than this are never used (stock cache TTL plus slack), so a movement
    # the source applied before it is in every reading and leaves the ledger.
    ledger_horizon: timedelta = timedelta(minutes=5)
    erp_customer: str = "WooCommerce Web Customer"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def ttl_for(request_ttl: int | None, policy: HoldPolicy) -> timedelta:
    if request_ttl is None:
        return policy.default_ttl
    if not 1 <= request_ttl <= policy.max_ttl.total_seconds():
        raise BadUserInput(
            f"ttlSeconds must be 1 to {int(policy.max_ttl.total_seconds())}, got {request_ttl}",
            field="ttlSeconds",
        )
    return timedelta(seconds=request_ttl)


class ReservationService:
    def __init__(
        self,
        db: Database,
        availability: AvailabilityService,
        clock: Clock,
        policy: HoldPolicy,
        on_change: OnChange,
        batcher: HoldBatcher | None = None,
    ) -> None:
        self._db = db
        self._batcher = batcher
        self._availability = availability
        self._clock = clock
        self._policy = policy
        self._on_change = on_change

    # --- reading -----------------------------------------------------------------------

    async def get(self, reservation_id: str) -> Reservation:
        async with self._db.transaction() as conn:
            found = await get_reservation(conn, reservation_id)
        if found is None:
            raise NotFound(f"No reservation {reservation_id!r}", field="id")
        return self._as_seen_now(found)

    def _as_seen_now(self, reservation: Reservation) -> Reservation:
        # The sweeper may not have run yet; a hold past its time is expired for the reader.
        if (
            reservation.status is ReservationStatus.ACTIVE
            and reservation.expires_at <= self._clock.now()
        ):
            return replace(reservation, status=ReservationStatus.EXPIRED)
        return reservation

    # --- reserve -----------------------------------------------------------------------

    async def reserve(self, request: ReserveRequest, key: str) -> Reservation:
        now = self._clock.now()
        lines = normalise_lines(request.lines)
        ttl = ttl_for(request.ttl_seconds, self._policy)
        fingerprint = idempotency.request_hash(
            "reserve",
            {
                "lines": [(line.sku, line.quantity) for line in lines],
                "location": request.location_id,
                "channel": request.channel.value,
                "ttl": request.ttl_seconds,
                "customer": request.customer_ref,
            },
        )
        idempotency.validate_key(key)
        # A retry is recognised inside the transaction below (the key's record is written
        # first there); checking before would cost a transaction on every first attempt.
        location = await self._availability.location(request.location_id)
        if not serves_channel(location, request.channel):
            raise BadUserInput(
                f"{location.name} does not serve channel {request.channel.value}",
                field="channel",
            )
        plans = plan_holds(lines, await self._availability.kits([line.sku for line in lines]))
        source = await self.source_figures(plans, location)
        reservation = Reservation(
            id=new_id("res"),
            status=ReservationStatus.ACTIVE,
            location_id=location.id,
            channel=request.channel,
            customer_ref=request.customer_ref,
            lines=lines,
            created_at=now,
            expires_at=now + ttl,
        )
        if self._batcher is not None:
            replayed = await self._reserve_in_database(
                reservation, plans, location, source, now, (key, "reserve", fingerprint)
            )
            if replayed is not None:
                return replayed
        else:
            async with self._db.transaction() as conn:
                replay = await idempotency.claim(
                    conn,
                    key=key,
                    operation="reserve",
                    fingerprint=fingerprint,
                    resource_id=reservation.id,
                    now=now,
                )
                if replay is not None:
                    found = await get_reservation(conn, replay.resource_id)
                    assert found is not None
                    return self._as_seen_now(found)
                await self.hold(conn, reservation, plans, location, source, now)
        await self._on_change(list(needed_by_sku(plans)))
        return reservation

    async def _reserve_in_database(
        self,
        reservation: Reservation,
        plans: Sequence[HoldPlan],
        location: Location,
        source: Mapping[str, NodeAvailability],
        now: datetime,
        claim: tuple[str, str, str],
    ) -> Reservation | None:
        """PostgreSQL: claim, lock, check and write in one database call, together with the
        other reserves of this process that arrive meanwhile (HoldBatcher). Returns the
        first request's reservation when this one is a retry."""
        assert self._batcher is not None
        first = await self._batcher.take(reservation, plans, location, source, claim=claim)
        if first is None:
            return None
        if (first.operation, first.request_hash) != claim[1:]:
            raise IdempotencyKeyReused(
                f"idempotencyKey {claim[0]!r} was already used for a different request",
                operation=first.operation,
            )
        async with self._db.transaction() as conn:
            found = await get_reservation(conn, first.resource_id)
        assert found is not None
        return self._as_seen_now(found)

    async def source_figures(
        self, plans: Sequence[HoldPlan], location: Location
    ) -> dict[str, NodeAvailability]:
        skus = sorted({p.sku for p in plans})
        by_node = await self._availability.by_node(
            skus, with_ledger=False, location_ids=[location.id]
        )
        return {sku: by_node[sku][location.id] for sku in skus if location.id in by_node[sku]}

    async def hold(
        self,
        conn: AsyncConnection,
        reservation: Reservation,
        plans: Sequence[HoldPlan],
        location: Location,
        source: Mapping[str, NodeAvailability],
        now: datetime,
    ) -> None:
        """Take the holds and write the reservation, in the caller's transaction."""
        if conn.dialect.name == "postgresql":
            await pg_holds.take_holds(
                conn,
                reservation,
                plans,
                location,
                source,
                now=now,
                applied_after=now - self._policy.ledger_horizon,
            )
            return
        await take_holds(
            conn,
            plans,
            location,
            source,
            now=now,
            applied_after=now - self._policy.ledger_horizon,
        )
        await insert_reservation(conn, reservation, plans, now)

    async def plans_for(self, lines: Sequence[ReservationLine]) -> list[HoldPlan]:
        return plan_holds(lines, await self._availability.kits([line.sku for line in lines]))

    # --- change state --------------------------------------------------------------------

    async def extend(self, reservation_id: str, ttl_seconds: int, key: str) -> Reservation:
        ttl = ttl_for(ttl_seconds, self._policy)

        async def change(conn: AsyncConnection, found: Reservation, now: datetime) -> None:
            self._require_active(found, now, "extend")
            await self._set(conn, found.id, now, expires_at=now + ttl)

        return await self._transition(reservation_id, key, "extend", {"ttl": ttl_seconds}, change)

    async def release(self, reservation_id: str, key: str) -> Reservation:
        async def change(conn: AsyncConnection, found: Reservation, now: datetime) -> None:
            if found.status is ReservationStatus.RELEASED:
                return
            if found.order_id is not None:
                raise IllegalTransition(
                    f"Reservation {found.id} belongs to order {found.order_id}: cancel the order",
                    status=found.status.value,
                )
            if found.status is ReservationStatus.ACTIVE and found.expires_at <= now:
                raise IllegalTransition(f"Reservation {found.id} has expired", status="EXPIRED")
            if found.status is ReservationStatus.EXPIRED:
                raise IllegalTransition(f"Reservation {found.id} has expired", status="EXPIRED")
            if found.status is ReservationStatus.CONFIRMED:
                await self._undo_commitment(conn, found, now)
            await self._set(conn, found.id, now, status=ReservationStatus.RELEASED)

        return await self._transition(reservation_id, key, "release", {}, change)

    async def confirm(self, reservation_id: str, key: str) -> Reservation:
        async def change(conn: AsyncConnection, found: Reservation, now: datetime) -> None:
            if found.status is ReservationStatus.CONFIRMED:
                return
            self._require_active(found, now, "confirm")
            location = await self._availability.location(found.location_id)
            plans = await self.plans_for(found.lines)
            await enqueue(
                conn,
                commit_messages(
                    ordering_key=found.id,
                    reference=found.id,
                    location=location,
                    plans=per_sku(plans),
                    customer=self._policy.erp_customer,
                    now=now,
                ),
                now,
            )
            await self._set(conn, found.id, now, status=ReservationStatus.CONFIRMED)

        return await self._transition(reservation_id, key, "confirm", {}, change)

    async def _undo_commitment(
        self, conn: AsyncConnection, found: Reservation, now: datetime
    ) -> None:
        location = await self._availability.location(found.location_id)
        plans = await self.plans_for(found.lines)
        await enqueue(
            conn,
            undo_messages(
                ordering_key=found.id,
                reference=found.id,
                location=location,
                plans=per_sku(plans),
                now=now,
            ),
            now,
        )

    def _require_active(self, found: Reservation, now: datetime, action: str) -> None:
        if found.status is ReservationStatus.ACTIVE and found.expires_at > now:
            return
        status = (
            ReservationStatus.EXPIRED if found.status is ReservationStatus.ACTIVE else found.status
        )
        raise IllegalTransition(
            f"Cannot {action} reservation {found.id}: it is {status.value}",
            status=status.value,
        )

    async def _transition(
        self,
        reservation_id: str,
        key: str,
        operation: str,
        arguments: dict[str, object],
        change: Callable[[AsyncConnection, Reservation, datetime], Awaitable[None]],
    ) -> Reservation:
        now = self._clock.now()
        fingerprint = idempotency.request_hash(operation, {"id": reservation_id, **arguments})
        async with self._db.transaction() as conn:
            replay = await idempotency.claim(
                conn,
                key=key,
                operation=f"reservation.{operation}",
                fingerprint=fingerprint,
                resource_id=reservation_id,
                now=now,
            )
            found = await get_reservation(conn, reservation_id, for_update=True)
            if found is None:
                raise NotFound(f"No reservation {reservation_id!r}", field="id")
            if replay is None:
                await change(conn, found, now)
                found = await get_reservation(conn, reservation_id)
                assert found is not None
        await self._on_change([line.sku for line in found.lines])
        return self._as_seen_now(found)

    async def _set(
        self, conn: AsyncConnection, reservation_id: str, now: datetime, **values: object
    ) -> None:
        await conn.execute(
            update(reservations)
            .where(reservations.c.id == reservation_id)
            .values(updated_at=now, **values)
        )

    # --- sweeper -------------------------------------------------------------------------

    async def expire_due(self, limit: int = 500) -> int:
        """Mark ACTIVE holds past their time EXPIRED. Safe to run in every process."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            due = select(reservations.c.id).where(
                reservations.c.status == ReservationStatus.ACTIVE,
                reservations.c.expires_at <= now,
            )
            if conn.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = [r.id for r in await conn.execute(due.limit(limit))]
            if not ids:
                return 0
            await conn.execute(
                update(reservations)
                .where(reservations.c.id.in_(ids))
                .values(status=ReservationStatus.EXPIRED, updated_at=now)
            )
            skus = [
                r.sku
                for r in await conn.execute(
                    select(holds.c.sku).where(holds.c.reservation_id.in_(ids)).distinct()
                )
            ]
        await self._on_change(skus)
        return len(ids)
