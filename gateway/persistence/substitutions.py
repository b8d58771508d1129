"""Short picks' substitutions, as offered and answered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain.picking import Substitution, SubstitutionStatus
from gateway.persistence.tables import SubstitutionRow, table

substitutions = table(SubstitutionRow)


class SqlSubstitutions:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, offer: Substitution) -> None:
        await self._conn.execute(
            insert(substitutions).values(
                id=offer.id,
                order_id=offer.order_id,
                location_id=offer.location_id,
                sku=offer.sku,
                missing=offer.missing,
                offered=list(offer.offered),
                status=offer.status.value,
                offered_at=offer.offered_at,
                chosen=offer.chosen,
                answered_at=offer.answered_at,
                answered_by=offer.answered_by,
            )
        )

    async def get(self, substitution_id: str, *, for_update: bool = False) -> Substitution | None:
        query = select(substitutions).where(substitutions.c.id == substitution_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return None if row is None else _substitution(row)

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, list[Substitution]]:
        found: dict[str, list[Substitution]] = {order_id: [] for order_id in order_ids}
        if not order_ids:
            return found
        rows = await self._conn.execute(
            select(substitutions)
            .where(substitutions.c.order_id.in_(list(order_ids)))
            .order_by(substitutions.c.offered_at, substitutions.c.id)
        )
        for row in rows:
            found[row.order_id].append(_substitution(row))
        return found

    async def save(self, offer: Substitution) -> None:
        await self._conn.execute(
            update(substitutions)
            .where(substitutions.c.id == offer.id)
            .values(
                status=offer.status.value,
                chosen=offer.chosen,
                answered_at=offer.answered_at,
                answered_by=offer.answered_by,
            )
        )


def _substitution(row: Any) -> Substitution:
    return Substitution(
        id=row.id,
        order_id=row.order_id,
        location_id=row.location_id,
        sku=row.sku,
        missing=row.missing,
        offered=tuple(row.offered),
        status=SubstitutionStatus(row.status),
        offered_at=row.offered_at,
        chosen=row.chosen,
        answered_at=row.answered_at,
        answered_by=row.answered_by,
    )
