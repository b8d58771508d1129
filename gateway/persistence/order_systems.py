"""Every record of an order in every backend: one row per (order, system, id there).

A change naming a record's id inserts it or updates it; one without an id (a system whose
records all moved together, e.g. every fulfillment order closed) updates each record of
that system. ``synced_at`` is when the gateway last heard of the record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import SourceSystem
from gateway.domain.orders import SystemRecord
from gateway.persistence.tables import OrderSystemRow, table

records = table(OrderSystemRow)

# How Order.systems lists them: the gateway's own first, then the order's journey.
_ORDER = {
    SourceSystem.GATEWAY: 0,
    SourceSystem.STOREFRONT: 1,
    SourceSystem.ERP: 2,
    SourceSystem.POS: 3,
    SourceSystem.OMS: 4,
}


async def record_systems(
    conn: AsyncConnection, order_id: str, systems: Sequence[SystemRecord], at: datetime
) -> None:
    for record in systems:
        if record.system is SourceSystem.GATEWAY:
            continue
        values: dict[str, Any] = {"synced_at": record.synced_at or at}
        if record.status is not None:
            values["status"] = record.status
        if record.location_id is not None:
            values["location_id"] = record.location_id
        if record.modified_at is not None:
            values["source_modified_at"] = record.modified_at
        mine = (records.c.order_id == order_id) & (records.c.system == record.system)
        if record.id is None:
            await conn.execute(update(records).where(mine).values(**values))
            continue
        same = mine & (records.c.record_id == record.id)
        changed = await conn.execute(update(records).where(same).values(**values))
        if changed.rowcount == 0:
            await conn.execute(
                insert(records).values(
                    order_id=order_id, system=record.system, record_id=record.id, **values
                )
            )


async def systems_of(
    conn: AsyncConnection, order_ids: Sequence[str]
) -> dict[str, list[SystemRecord]]:
    found: dict[str, list[SystemRecord]] = defaultdict(list)
    for r in await conn.execute(select(records).where(records.c.order_id.in_(list(order_ids)))):
        found[r.order_id].append(
            SystemRecord(
                SourceSystem(r.system),
                r.record_id,
                r.status,
                r.location_id,
                r.synced_at,
                r.source_modified_at,
            )
        )
    for listed in found.values():
        listed.sort(key=lambda s: (_ORDER[s.system], s.location_id or "", s.id or ""))
    return found
