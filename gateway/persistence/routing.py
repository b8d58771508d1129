"""Routing decisions, and the two figures the router reads from the gateway's own orders:
units already routed to a node in its current pick day, and recent demand per node."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain.orders import OrderStatus, StoredDecision
from gateway.persistence.orders import order_lines as _lines
from gateway.persistence.orders import orders as _orders
from gateway.persistence.tables import RoutingDecisionRow, table

decisions = table(RoutingDecisionRow)


class SqlRoutingDecisions:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, decision: StoredDecision) -> None:
        await self._conn.execute(
            insert(decisions).values(
                order_id=decision.order_id,
                decided_at=decision.decided_at,
                strategy=decision.strategy,
                snapshot_version=decision.snapshot_version,
                request=decision.request,
                plan=decision.plan,
            )
        )

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, StoredDecision]:
        query = select(decisions).where(decisions.c.order_id.in_(list(order_ids)))
        return {
            row.order_id: StoredDecision(
                row.order_id,
                row.decided_at,
                row.strategy,
                row.snapshot_version,
                row.request,
                row.plan,
            )
            for row in await self._conn.execute(query)
        }

    async def units_routed_since(self, since: Mapping[str, datetime]) -> dict[str, int]:
        """Per node, the units of live orders routed to it since its pick day began (nodes
        sharing a start are counted in one query)."""
        by_start: dict[datetime, list[str]] = defaultdict(list)
        for location_id, start in since.items():
            by_start[start].append(location_id)
        routed: dict[str, int] = {}
        for start, location_ids in sorted(by_start.items()):
            rows = await self._conn.execute(
                select(_lines.c.location_id, func.sum(_lines.c.quantity))
                .join(_orders, _orders.c.id == _lines.c.order_id)
                .where(
                    _orders.c.created_at >= start,
                    _orders.c.status != OrderStatus.CANCELLED,
                    _lines.c.location_id.in_(sorted(location_ids)),
                )
                .group_by(_lines.c.location_id)
            )
            routed.update({location_id: int(units) for location_id, units in rows})
        return routed

    async def units_sold_since(
        self, skus: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], int]:
        """Per (SKU, node), the units of live orders since ``since``: the recent demand."""
        rows = await self._conn.execute(
            select(_lines.c.sku, _lines.c.location_id, func.sum(_lines.c.quantity))
            .join(_orders, _orders.c.id == _lines.c.order_id)
            .where(
                _orders.c.created_at >= since,
                _orders.c.status != OrderStatus.CANCELLED,
                _lines.c.sku.in_(sorted(skus)),
                _lines.c.location_id.is_not(None),
            )
            .group_by(_lines.c.sku, _lines.c.location_id)
        )
        return {(sku, location_id): int(units) for sku, location_id, units in rows}
