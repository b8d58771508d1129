"""Reservations, their holds, the stock guards that serialise them, and the ledger read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from gateway.domain import Channel
from gateway.domain.orders import AWAITING_DECISION
from gateway.domain.reservations import (
    HoldPlan,
    LedgerEntry,
    LedgerKind,
    OrderHold,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from gateway.persistence.columns import UtcDateTime
from gateway.persistence.dialect import upsert_insert_for
from gateway.persistence.tables import (
    HoldRow,
    OrderRow,
    ReservationRow,
    ReturnLineRow,
    StockGuardRow,
    table,
)

reservations = table(ReservationRow)
holds = table(HoldRow)
orders = table(OrderRow)
guards = table(StockGuardRow)
return_lines = table(ReturnLineRow)


def _guard_upsert(dialect: str) -> Any:
    statement = upsert_insert_for(dialect, guards).values(
        sku=bindparam("sku"), location_id=bindparam("location_id"), version=1
    )
    return statement.on_conflict_do_update(
        index_elements=["sku", "location_id"], set_={"version": guards.c.version + 1}
    )


_GUARD_UPSERT = {name: _guard_upsert(name) for name in ("postgresql", "sqlite")}


async def lock_positions(conn: AsyncConnection, positions: Iterable[tuple[str, str]]) -> None:
    """Lock (sku, node) positions until the transaction ends, always in one order so two
    transactions wanting overlapping positions queue instead of deadlocking."""
    rows = [{"sku": s, "location_id": loc} for s, loc in sorted(set(positions))]
    if rows:
        await conn.execute(_GUARD_UPSERT[conn.dialect.name], rows)


def _skus_listed(column: ColumnElement[str]) -> ColumnElement[bool]:
    skus: BindParameter[list[str]] = bindparam("skus", expanding=True)
    return column.in_(skus)


def ledger_query(
    at_locations: bool = False,
    sku_among: Callable[[ColumnElement[str]], ColumnElement[bool]] = _skus_listed,
) -> Any:
    """Holds still promised and returns not yet in the source, as one statement.

    Bound: ``skus``, ``now``, ``applied_after`` (anything the source applied before it is in
    every reading still in use), and ``locations`` when ``at_locations``. ``sku_among``
    says how a row's SKU is matched with ``skus`` (an expanding IN list by default;
    gateway.persistence.ledger_reads binds the list as one value).
    """
    now = bindparam("now", type_=UtcDateTime())
    applied_after = bindparam("applied_after", type_=UtcDateTime())
    held = (
        select(
            holds.c.sku,
            holds.c.location_id,
            literal(LedgerKind.HOLD.value).label("kind"),
            holds.c.quantity,
            holds.c.applied_at,
        )
        .select_from(holds.join(reservations, reservations.c.id == holds.c.reservation_id))
        .where(
            sku_among(holds.c.sku),
            or_(
                reservations.c.status == ReservationStatus.CONFIRMED.value,
                and_(
                    reservations.c.status == ReservationStatus.ACTIVE.value,
                    reservations.c.expires_at > now,
                ),
            ),
            or_(holds.c.applied_at.is_(None), holds.c.applied_at > applied_after),
        )
    )
    # INSPECT and REFURBISH units are incoming at their node until someone decides.
    awaiting_decision = and_(
        return_lines.c.disposition.in_([d.value for d in AWAITING_DECISION]),
        return_lines.c.decided_at.is_(None),
    )
    returning = select(
        return_lines.c.sku,
        return_lines.c.location_id,
        case(
            (
                or_(return_lines.c.received_at.is_(None), awaiting_decision),
                literal(LedgerKind.INCOMING.value),
            ),
            else_=literal(LedgerKind.RESTOCK.value),
        ).label("kind"),
        return_lines.c.quantity,
        return_lines.c.applied_at,
    ).where(
        sku_among(return_lines.c.sku),
        or_(
            return_lines.c.received_at.is_(None),
            awaiting_decision,
            and_(
                return_lines.c.disposition == "RESTOCK",
                or_(
                    return_lines.c.applied_at.is_(None),
                    return_lines.c.applied_at > applied_after,
                ),
            ),
        ),
    )
    if at_locations:
        locations: BindParameter[list[str]] = bindparam("locations", expanding=True)
        held = held.where(holds.c.location_id.in_(locations))
        returning = returning.where(return_lines.c.location_id.in_(locations))
    return union_all(held, returning)


_LEDGER = {False: ledger_query(False), True: ledger_query(True)}


async def ledger_entries(
    conn: AsyncConnection,
    skus: Sequence[str],
    *,
    now: datetime,
    applied_after: datetime,
    location_ids: Sequence[str] | None = None,
) -> list[LedgerEntry]:
    """Movements the sources may not have recorded yet, at every node or at ``location_ids``."""
    if not skus:
        return []
    params: dict[str, Any] = {"skus": list(skus), "now": now, "applied_after": applied_after}
    if location_ids is not None:
        params["locations"] = list(location_ids)
    rows = await conn.execute(_LEDGER[location_ids is not None], params)
    return [
        LedgerEntry(r.sku, r.location_id, LedgerKind(r.kind), r.quantity, r.applied_at)
        for r in rows
    ]


async def insert_reservation(
    conn: AsyncConnection, reservation: Reservation, plans: Sequence[HoldPlan], now: datetime
) -> None:
    await conn.execute(
        insert(reservations).values(
            id=reservation.id,
            status=reservation.status,
            location_id=reservation.location_id,
            channel=reservation.channel,
            customer_ref=reservation.customer_ref,
            requested_by=reservation.requested_by,
            order_id=reservation.order_id,
            created_at=reservation.created_at,
            expires_at=reservation.expires_at,
            updated_at=now,
        )
    )
    await conn.execute(
        insert(holds),
        [
            {
                "reservation_id": reservation.id,
                "line_sku": p.line_sku,
                "line_quantity": p.line_quantity,
                "sku": p.sku,
                "location_id": reservation.location_id,
                "quantity": p.quantity,
                "applied_at": None,
            }
            for p in plans
        ],
    )


async def reservations_with_lines(conn: AsyncConnection, rows: Sequence[Any]) -> list[Reservation]:
    ids = [r.id for r in rows]
    lines: dict[str, dict[str, int]] = {i: {} for i in ids}
    query = (
        select(holds.c.reservation_id, holds.c.line_sku, holds.c.line_quantity)
        .where(holds.c.reservation_id.in_(ids))
        .order_by(holds.c.id)
    )
    for h in await conn.execute(query):
        # A kit line has one hold row per component; each repeats the line it serves. A
        # line shrunk to nothing (its units gone elsewhere, or dropped) holds nothing.
        if h.line_quantity > 0:
            lines[h.reservation_id][h.line_sku] = h.line_quantity
    return [
        Reservation(
            id=r.id,
            status=ReservationStatus(r.status),
            location_id=r.location_id,
            channel=Channel(r.channel),
            customer_ref=r.customer_ref,
            lines=tuple(ReservationLine(s, q) for s, q in lines[r.id].items()),
            created_at=r.created_at,
            expires_at=r.expires_at,
            order_id=r.order_id,
            requested_by=r.requested_by,
        )
        for r in rows
    ]


def _owned_by(owner: str) -> Any:
    """The reservations of ``owner``: the reservation itself, or an order's."""
    return select(reservations.c.id).where(
        or_(reservations.c.id == owner, reservations.c.order_id == owner)
    )


class SqlReservations:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, reservation_id: str, *, for_update: bool = False) -> Reservation | None:
        query = select(reservations).where(reservations.c.id == reservation_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        return (await reservations_with_lines(self._conn, [row]))[0]

    async def confirmed_of_order(self, order_id: str) -> list[Reservation]:
        rows = list(
            await self._conn.execute(
                select(reservations).where(
                    reservations.c.order_id == order_id,
                    reservations.c.status == ReservationStatus.CONFIRMED,
                )
            )
        )
        return await reservations_with_lines(self._conn, rows)

    async def shrink_hold(self, reservation_id: str, sku: str, location_id: str, by: int) -> None:
        # A plain SKU's hold is its line: the line shrinks with it, so what the reservation
        # is later said to hold (a cancellation gives that back at the source) is what is
        # left. A kit's line stays: one component short does not say how many kits remain.
        await self._conn.execute(
            update(holds)
            .where(
                holds.c.reservation_id == reservation_id,
                holds.c.sku == sku,
                holds.c.location_id == location_id,
            )
            .values(
                quantity=holds.c.quantity - by,
                line_quantity=case(
                    (holds.c.line_sku == sku, holds.c.line_quantity - by),
                    else_=holds.c.line_quantity,
                ),
            )
        )

    async def order_holds(self, order_statuses: Sequence[str]) -> list[OrderHold]:
        rows = await self._conn.execute(
            select(
                reservations.c.order_id,
                reservations.c.id,
                holds.c.sku,
                holds.c.location_id,
                holds.c.quantity,
                reservations.c.created_at,
                holds.c.applied_at,
            )
            .select_from(
                holds.join(reservations, reservations.c.id == holds.c.reservation_id).join(
                    orders, orders.c.id == reservations.c.order_id
                )
            )
            .where(
                reservations.c.status == ReservationStatus.CONFIRMED,
                orders.c.status.in_(list(order_statuses)),
            )
        )
        return [OrderHold(r[0], r[1], r[2], r[3], int(r[4]), r[5], r[6] is not None) for r in rows]

    async def update(
        self,
        reservation_id: str,
        now: datetime,
        *,
        status: ReservationStatus | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"updated_at": now}
        if status is not None:
            values["status"] = status
        if expires_at is not None:
            values["expires_at"] = expires_at
        await self._conn.execute(
            update(reservations).where(reservations.c.id == reservation_id).values(**values)
        )

    async def release_order(self, order_id: str, now: datetime) -> None:
        await self._conn.execute(
            update(reservations)
            .where(reservations.c.order_id == order_id)
            .values(status=ReservationStatus.RELEASED, updated_at=now)
        )

    async def expire_due(self, now: datetime, limit: int) -> tuple[int, list[str]]:
        due = select(reservations.c.id).where(
            reservations.c.status == ReservationStatus.ACTIVE,
            reservations.c.expires_at <= now,
        )
        if self._conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = [r.id for r in await self._conn.execute(due.limit(limit))]
        if not ids:
            return 0, []
        await self._conn.execute(
            update(reservations)
            .where(reservations.c.id.in_(ids))
            .values(status=ReservationStatus.EXPIRED, updated_at=now)
        )
        skus = [
            r.sku
            for r in await self._conn.execute(
                select(holds.c.sku).where(holds.c.reservation_id.in_(ids)).distinct()
            )
        ]
        return len(ids), skus

    async def settle_holds(
        self, owner: str, location_id: str, now: datetime, sku: str | None = None
    ) -> list[str]:
        query = (
            update(holds)
            .where(
                holds.c.reservation_id.in_(_owned_by(owner)),
                holds.c.location_id == location_id,
                holds.c.applied_at.is_(None),
            )
            .values(applied_at=now)
            .returning(holds.c.sku)
        )
        if sku is not None:
            query = query.where(holds.c.sku == sku)
        return [r.sku for r in await self._conn.execute(query)]

    async def held_skus(self, owner: str) -> list[str]:
        query = select(holds.c.sku).where(holds.c.reservation_id.in_(_owned_by(owner))).distinct()
        return sorted(r.sku for r in await self._conn.execute(query))

    async def units_changed_since(self, skus: Sequence[str], since: datetime) -> dict[str, int]:
        if not skus:
            return {}
        rows = await self._conn.execute(
            select(holds.c.sku, func.sum(holds.c.quantity))
            .select_from(holds.join(reservations, reservations.c.id == holds.c.reservation_id))
            .where(holds.c.sku.in_(list(skus)), reservations.c.updated_at >= since)
            .group_by(holds.c.sku)
        )
        changed = {sku: int(units) for sku, units in rows}
        # A hold its source recorded since then counts again: until the gateway has
        # committed that it was applied, a reading that already has the sale and the ledger
        # that still subtracts the hold count the same units twice.
        applied = await self._conn.execute(
            select(holds.c.sku, func.sum(holds.c.quantity))
            .where(holds.c.sku.in_(list(skus)), holds.c.applied_at >= since)
            .group_by(holds.c.sku)
        )
        for sku, units in applied:
            changed[sku] = changed.get(sku, 0) + int(units)
        return changed

    async def live_owners(self, owners: Sequence[str]) -> set[str]:
        if not owners:
            return set()
        wanted = list(owners)
        rows = await self._conn.execute(
            select(reservations.c.id, reservations.c.order_id).where(
                reservations.c.status == ReservationStatus.CONFIRMED,
                or_(reservations.c.id.in_(wanted), reservations.c.order_id.in_(wanted)),
            )
        )
        live = set()
        for row in rows:
            live.add(row.id)
            if row.order_id is not None:
                live.add(row.order_id)
        return live & set(wanted)
