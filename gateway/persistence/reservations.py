"""Reservations, their holds, the stock guards that serialise them, and the ledger read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, insert, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Channel
from gateway.domain.reservations import (
    HoldPlan,
    LedgerEntry,
    LedgerKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from gateway.persistence.columns import UtcDateTime
from gateway.persistence.dialect import upsert_insert_for
from gateway.persistence.tables import HoldRow, ReservationRow, ReturnLineRow, StockGuardRow

reservations = ReservationRow.__table__
holds = HoldRow.__table__
guards = StockGuardRow.__table__
return_lines = ReturnLineRow.__table__


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


def _ledger_query(at_locations: bool) -> Any:
    """Holds still promised and returns not yet in the source, as one statement.

    Bound: ``skus``, ``now``, ``applied_after`` (anything the source applied before it is in
    every reading still in use), and ``locations`` when ``at_locations``.
    """
    skus = bindparam("skus", expanding=True)
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
            holds.c.sku.in_(skus),
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
    returning = select(
        return_lines.c.sku,
        return_lines.c.location_id,
        case(
            (
                or_(
                    return_lines.c.received_at.is_(None),
                    return_lines.c.disposition == "INSPECT",
                ),
                literal(LedgerKind.INCOMING.value),
            ),
            else_=literal(LedgerKind.RESTOCK.value),
        ).label("kind"),
        return_lines.c.quantity,
        return_lines.c.applied_at,
    ).where(
        return_lines.c.sku.in_(skus),
        or_(
            return_lines.c.received_at.is_(None),
            return_lines.c.disposition == "INSPECT",
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
        locations = bindparam("locations", expanding=True)
        held = held.where(holds.c.location_id.in_(locations))
        returning = returning.where(return_lines.c.location_id.in_(locations))
    return union_all(held, returning)


_LEDGER = {False: _ledger_query(False), True: _ledger_query(True)}


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


async def get_reservation(
    conn: AsyncConnection, reservation_id: str, *, for_update: bool = False
) -> Reservation | None:
    query = select(reservations).where(reservations.c.id == reservation_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    found = await reservations_with_lines(conn, [row])
    return found[0]


async def reservations_with_lines(conn: AsyncConnection, rows: Sequence[Any]) -> list[Reservation]:
    ids = [r.id for r in rows]
    lines: dict[str, dict[str, int]] = {i: {} for i in ids}
    query = (
        select(holds.c.reservation_id, holds.c.line_sku, holds.c.line_quantity)
        .where(holds.c.reservation_id.in_(ids))
        .order_by(holds.c.id)
    )
    for h in await conn.execute(query):
        # A kit line has one hold row per component; each repeats the line it serves.
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
        )
        for r in rows
    ]
