"""Returns and their lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Money
from gateway.domain.orders import (
    AWAITING_DECISION,
    Disposition,
    ItemCondition,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from gateway.persistence.orders import orders
from gateway.persistence.tables import ReturnLineRow, ReturnRow, table

returns = table(ReturnRow)
return_lines = table(ReturnLineRow)


class SqlReturns:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def incoming_not_restocked(self, location_id: str, skus: Sequence[str]) -> dict[str, int]:
        """Per SKU, units of returns counted as incoming at the node (not received yet, or
        awaiting a decision) that will not go back on its shelf: their disposition is not
        RESTOCK (or not yet decided to be)."""
        if not skus:
            return {}
        awaiting = and_(
            return_lines.c.disposition.in_([d.value for d in AWAITING_DECISION]),
            return_lines.c.decided_at.is_(None),
        )
        rows = await self._conn.execute(
            select(return_lines.c.sku, func.sum(return_lines.c.quantity))
            .where(
                return_lines.c.location_id == location_id,
                return_lines.c.sku.in_(list(skus)),
                return_lines.c.disposition != Disposition.RESTOCK.value,
                or_(return_lines.c.received_at.is_(None), awaiting),
            )
            .group_by(return_lines.c.sku)
        )
        return {str(sku): int(units) for sku, units in rows}

    async def units_returned(self, location_id: str, start: datetime, end: datetime) -> int:
        total = await self._conn.scalar(
            select(func.coalesce(func.sum(return_lines.c.quantity), 0))
            .select_from(return_lines.join(returns, returns.c.id == return_lines.c.return_id))
            .where(
                return_lines.c.location_id == location_id,
                returns.c.created_at >= start,
                returns.c.created_at < end,
            )
        )
        return int(total or 0)

    async def add(self, request: ReturnRequest) -> None:
        await self._conn.execute(
            insert(returns).values(
                id=request.id,
                order_id=request.order_id,
                status=request.status,
                refund_minor=request.refund_total.to_minor(),
                created_at=request.created_at,
                updated_at=request.updated_at,
            )
        )
        await self._conn.execute(
            insert(return_lines),
            [
                {
                    "return_id": request.id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "reason": line.reason,
                    "condition": line.condition,
                    "disposition": line.disposition,
                    "location_id": line.location_id,
                    "refund_minor": line.refund.to_minor(),
                }
                for line in request.lines
            ],
        )

    async def get(
        self, return_id: str, *, currency: str | None = None, for_update: bool = False
    ) -> ReturnRequest | None:
        query = select(returns).where(returns.c.id == return_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return None if row is None else (await _assemble(self._conn, [row], currency))[0]

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, list[ReturnRequest]]:
        rows = list(
            await self._conn.execute(
                select(returns)
                .where(returns.c.order_id.in_(list(order_ids)))
                .order_by(returns.c.created_at, returns.c.id)
            )
        )
        found: dict[str, list[ReturnRequest]] = {order_id: [] for order_id in order_ids}
        for request in await _assemble(self._conn, rows, None):
            found[request.order_id].append(request)
        return found

    async def line_ids(self, return_id: str) -> list[int]:
        query = (
            select(return_lines.c.id)
            .where(return_lines.c.return_id == return_id)
            .order_by(return_lines.c.id)
        )
        return [r.id for r in await self._conn.execute(query)]

    async def update(
        self,
        return_id: str,
        at: datetime,
        *,
        status: ReturnStatus | None = None,
        oms_return_id: str | None = None,
        web_refund_id: int | None = None,
    ) -> None:
        values: dict[str, Any] = {"updated_at": at}
        if status is not None:
            values["status"] = status
        if oms_return_id is not None:
            values["oms_return_id"] = oms_return_id
        if web_refund_id is not None:
            values["web_refund_id"] = web_refund_id
        await self._conn.execute(update(returns).where(returns.c.id == return_id).values(**values))

    async def mark_received(self, return_id: str, at: datetime) -> None:
        await self._conn.execute(
            update(return_lines).where(return_lines.c.return_id == return_id).values(received_at=at)
        )

    async def received_by_sku(self, order_id: str) -> dict[str, int]:
        # Returns only requested, not yet back, are left out.
        query = (
            select(return_lines.c.sku, func.sum(return_lines.c.quantity))
            .select_from(return_lines.join(returns, returns.c.id == return_lines.c.return_id))
            .where(returns.c.order_id == order_id, return_lines.c.received_at.is_not(None))
            .group_by(return_lines.c.sku)
        )
        return {sku: int(quantity) for sku, quantity in await self._conn.execute(query)}

    async def decide(self, line_id: int, disposition: Disposition, at: datetime) -> None:
        await self._conn.execute(
            update(return_lines)
            .where(return_lines.c.id == line_id)
            .values(disposition=disposition, decided_at=at)
        )

    async def mark_lines_applied(self, line_ids: Sequence[int], at: datetime) -> None:
        await self._conn.execute(
            update(return_lines)
            .where(return_lines.c.id.in_(list(line_ids)), return_lines.c.applied_at.is_(None))
            .values(applied_at=at)
        )


async def _assemble(
    conn: AsyncConnection, rows: Sequence[Any], currency: str | None
) -> list[ReturnRequest]:
    if not rows:
        return []
    order_ids = list({r.order_id for r in rows})
    currencies: dict[str, str] = {}
    if currency is None:
        currencies = {
            c.id: c.currency
            for c in await conn.execute(
                select(orders.c.id, orders.c.currency).where(orders.c.id.in_(order_ids))
            )
        }
    lines_of: dict[str, list[Any]] = {r.id: [] for r in rows}
    for line in await conn.execute(
        select(return_lines)
        .where(return_lines.c.return_id.in_(list(lines_of)))
        .order_by(return_lines.c.id)
    ):
        lines_of[line.return_id].append(line)
    result: list[ReturnRequest] = []
    for r in rows:
        cur = currency or currencies[r.order_id]
        result.append(
            ReturnRequest(
                id=r.id,
                order_id=r.order_id,
                status=ReturnStatus(r.status),
                lines=tuple(
                    ReturnLine(
                        sku=line.sku,
                        quantity=line.quantity,
                        reason=ReturnReason(line.reason),
                        condition=ItemCondition(line.condition),
                        disposition=Disposition(line.disposition),
                        location_id=line.location_id,
                        refund=Money.from_minor(line.refund_minor, cur),
                        line_id=line.id,
                        received_at=line.received_at,
                        decided_at=line.decided_at,
                    )
                    for line in lines_of[r.id]
                ),
                refund_total=Money.from_minor(r.refund_minor, cur),
                created_at=r.created_at,
                updated_at=r.updated_at,
                oms_return_id=r.oms_return_id,
                web_refund_id=r.web_refund_id,
            )
        )
    return result
