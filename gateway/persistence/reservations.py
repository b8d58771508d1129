"""Reservations, their holds, the stock guards that serialise them, and the ledger read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, insert, or_, select
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
from gateway.persistence.dialect import upsert_insert
from gateway.persistence.tables import HoldRow, ReservationRow, ReturnLineRow, StockGuardRow

reservations = ReservationRow.__table__
holds = HoldRow.__table__
guards = StockGuardRow.__table__
return_lines = ReturnLineRow.__table__


async def lock_positions(conn: AsyncConnection, positions: Iterable[tuple[str, str]]) -> None:
    """Lock (sku, node) positions until the transaction ends, always in one order so two
    transactions wanting overlapping positions queue instead of deadlocking."""
    rows = [{"sku": s, "location_id": loc, "version": 1} for s, loc in sorted(set(positions))]
    if not rows:
        return
    statement = upsert_insert(conn, guards).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["sku", "location_id"], set_={"version": guards.c.version + 1}
    )
    await conn.execute(statement)


def _outstanding_holds(now: datetime, applied_after: datetime):  # type: ignore[no-untyped-def]
    return and_(
        or_(
            reservations.c.status == ReservationStatus.CONFIRMED,
            and_(
                reservations.c.status == ReservationStatus.ACTIVE,
                reservations.c.expires_at > now,
            ),
        ),
        or_(holds.c.applied_at.is_(None), holds.c.applied_at > applied_after),
    )


async def ledger_entries(
    conn: AsyncConnection,
    skus: Sequence[str],
    *,
    now: datetime,
    applied_after: datetime,
    location_ids: Sequence[str] | None = None,
) -> list[LedgerEntry]:
    """Movements the sources may not have recorded yet. Anything the source applied
    before ``applied_after`` is in every reading still in use, so it is left out."""
    if not skus:
        return []
    hold_query = (
        select(holds.c.sku, holds.c.location_id, holds.c.quantity, holds.c.applied_at)
        .select_from(holds.join(reservations, reservations.c.id == holds.c.reservation_id))
        .where(holds.c.sku.in_(skus), _outstanding_holds(now, applied_after))
    )
    if location_ids is not None:
        hold_query = hold_query.where(holds.c.location_id.in_(location_ids))
    entries = [
        LedgerEntry(r.sku, r.location_id, LedgerKind.HOLD, r.quantity, r.applied_at)
        for r in await conn.execute(hold_query)
    ]
    return_query = select(
        return_lines.c.sku,
        return_lines.c.location_id,
        return_lines.c.quantity,
        return_lines.c.disposition,
        return_lines.c.received_at,
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
    if location_ids is not None:
        return_query = return_query.where(return_lines.c.location_id.in_(location_ids))
    for r in await conn.execute(return_query):
        if r.received_at is None or r.disposition == "INSPECT":
            kind = LedgerKind.INCOMING
        else:
            kind = LedgerKind.RESTOCK
        entries.append(LedgerEntry(r.sku, r.location_id, kind, r.quantity, r.applied_at))
    return entries


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


async def reservations_with_lines(
    conn: AsyncConnection, rows: Sequence[object]
) -> list[Reservation]:
    ids = [r.id for r in rows]  # type: ignore[attr-defined]
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
            id=r.id,  # type: ignore[attr-defined]
            status=ReservationStatus(r.status),  # type: ignore[attr-defined]
            location_id=r.location_id,  # type: ignore[attr-defined]
            channel=Channel(r.channel),  # type: ignore[attr-defined]
            customer_ref=r.customer_ref,  # type: ignore[attr-defined]
            lines=tuple(ReservationLine(s, q) for s, q in lines[r.id].items()),  # type: ignore[attr-defined]
            created_at=r.created_at,  # type: ignore[attr-defined]
            expires_at=r.expires_at,  # type: ignore[attr-defined]
            order_id=r.order_id,  # type: ignore[attr-defined]
        )
        for r in rows
    ]
