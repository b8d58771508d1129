"""Canonical orders: rows, lines, the timeline, and the support console's filters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Channel, Money, SourceSystem
from gateway.domain.documents import PostalAddress, Tracking, WebOrderLine, WebTax
from gateway.domain.events import Change, OrderChanged
from gateway.domain.orders import (
    Order,
    OrderChanges,
    OrderEvent,
    OrderFilter,
    OrderLine,
    OrderOrigin,
    OrderStatus,
    SystemRecord,
)
from gateway.persistence.order_systems import record_systems, systems_of
from gateway.persistence.tables import (
    OrderEventRow,
    OrderLineRow,
    OrderRow,
    ReturnLineRow,
    ReturnRow,
    table,
)
from gateway.ports.storage import OrderAlreadyRecorded

orders = table(OrderRow)
order_lines = table(OrderLineRow)
order_events = table(OrderEventRow)
returns = table(ReturnRow)
return_lines = table(ReturnLineRow)

ADDRESS = TypeAdapter(PostalAddress)
TRACKING = TypeAdapter(list[Tracking])


def _web_columns(line: WebOrderLine | None) -> dict[str, Any]:
    if line is None:
        return {"web_total_minor": None, "web_tax_minor": None, "web_taxes": None}
    return {
        "web_total_minor": line.total.to_minor(),
        "web_tax_minor": line.tax.to_minor(),
        "web_taxes": [{"id": t.rate_id, "total": str(t.amount.amount)} for t in line.taxes],
    }


def _columns(changes: OrderChanges) -> dict[str, Any]:
    """The columns ``changes`` sets."""
    values: dict[str, Any] = {}
    for system in changes.systems:
        if system.system not in _SYSTEM_COLUMNS:
            continue  # kept in order_system_record alone (the POS's sales)
        id_column, status_column = _SYSTEM_COLUMNS[system.system]
        if system.id is not None and id_column is not None:
            values[id_column] = system.id
        if system.status is not None:
            values[status_column] = system.status
    if changes.tracking is not None:
        values["tracking"] = TRACKING.dump_python(list(changes.tracking), mode="json")
    if changes.pickup_deadline is not None:
        values["pickup_deadline"] = changes.pickup_deadline
    return values


# Each system's own id and status columns (a web order's id is set when it is imported).
_SYSTEM_COLUMNS: dict[SourceSystem, tuple[str | None, str]] = {
    SourceSystem.STOREFRONT: (None, "web_status"),
    SourceSystem.OMS: ("oms_order_id", "oms_status"),
    SourceSystem.ERP: ("erp_sales_order", "erp_status"),
}


class SqlOrders:
    def __init__(self, conn: AsyncConnection, news: list[Change] | None = None) -> None:
        self._conn = conn
        # What subscribers are told once the unit of work commits (gateway.events.bus).
        self._news = [] if news is None else news

    def _changed(self, order_id: str) -> None:
        self._news.append(OrderChanged(order_id))

    async def add(self, order: Order, *, web_lines: Sequence[WebOrderLine] = ()) -> None:
        self._changed(order.id)
        systems = {s.system: s for s in order.systems}
        web_figures = {line.id: line for line in web_lines}
        web = systems.get(SourceSystem.STOREFRONT)
        try:
            await self._insert_order(order, web)
        except IntegrityError as error:  # its id or web order id, recorded by another writer
            raise OrderAlreadyRecorded(order.id) from error
        await self._conn.execute(
            insert(order_lines),
            [
                {
                    "order_id": order.id,
                    "position": i,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price_minor": line.unit_price.to_minor(),
                    "location_id": line.location_id,
                    "web_line_id": line.web_line_id,
                    **_web_columns(
                        None if line.web_line_id is None else web_figures.get(line.web_line_id)
                    ),
                }
                for i, line in enumerate(order.lines)
            ],
        )
        for event in order.events:
            await self.add_event(order.id, event)
        await record_systems(self._conn, order.id, order.systems, order.updated_at)

    async def _insert_order(self, order: Order, web: SystemRecord | None) -> None:
        await self._conn.execute(
            insert(orders).values(
                id=order.id,
                origin=order.origin,
                channel=order.channel,
                status=order.status,
                customer_email=order.customer_email,
                customer_name=order.customer_name,
                currency=order.total.currency,
                total_minor=order.total.to_minor(),
                delivery=None
                if order.delivery is None
                else ADDRESS.dump_python(order.delivery, mode="json"),
                pickup_location_id=order.pickup_location_id,
                pickup_deadline=order.pickup_deadline,
                allow_transfer=order.allow_transfer,
                web_order_id=int(web.id) if web and web.id else None,
                web_status=web.status if web else None,
                created_at=order.created_at,
                updated_at=order.updated_at,
            )
        )

    async def web_lines(self, order_id: str) -> dict[int, WebOrderLine]:
        order = select(orders.c.currency).where(orders.c.id == order_id).scalar_subquery()
        query = select(order_lines, order.label("currency")).where(
            order_lines.c.order_id == order_id,
            order_lines.c.web_line_id.is_not(None),
            order_lines.c.web_total_minor.is_not(None),
            order_lines.c.web_tax_minor.is_not(None),
        )
        found: dict[int, WebOrderLine] = {}
        # Lines imported before their web figures were kept are left out.
        for row in await self._conn.execute(query):
            currency = row.currency
            found[row.web_line_id] = WebOrderLine(
                id=row.web_line_id,
                sku=row.sku,
                quantity=row.quantity,
                total=Money.from_minor(row.web_total_minor, currency),
                tax=Money.from_minor(row.web_tax_minor, currency),
                taxes=tuple(
                    WebTax(int(str(t["id"])), Money(Decimal(str(t["total"])), currency))
                    for t in row.web_taxes or ()
                ),
            )
        return found

    async def add_event(self, order_id: str, event: OrderEvent) -> None:
        self._changed(order_id)
        await self._conn.execute(
            insert(order_events).values(
                order_id=order_id,
                at=event.at,
                kind=event.kind,
                source=event.source,
                from_status=event.from_status,
                to_status=event.to_status,
                detail=event.detail,
            )
        )

    async def heard_from(
        self, order_id: str, systems: Sequence[SystemRecord], at: datetime
    ) -> None:
        await record_systems(self._conn, order_id, systems, at)

    async def move_units(
        self, order_id: str, sku: str, from_location: str, to_location: str, quantity: int
    ) -> None:
        mine = (order_lines.c.order_id == order_id) & (order_lines.c.sku == sku)
        line = (
            await self._conn.execute(
                select(order_lines).where(mine, order_lines.c.location_id == from_location)
            )
        ).first()
        if line is None:
            return
        self._changed(order_id)
        if line.quantity <= quantity:
            await self._conn.execute(
                update(order_lines)
                .where(order_lines.c.id == line.id)
                .values(location_id=to_location)
            )
            return
        await self._conn.execute(
            update(order_lines)
            .where(order_lines.c.id == line.id)
            .values(quantity=line.quantity - quantity)
        )
        last = await self._conn.execute(
            select(func.max(order_lines.c.position)).where(order_lines.c.order_id == order_id)
        )
        await self._conn.execute(
            insert(order_lines).values(
                order_id=order_id,
                position=int(last.scalar() or 0) + 1,
                sku=sku,
                quantity=quantity,
                unit_price_minor=line.unit_price_minor,
                location_id=to_location,
                web_line_id=line.web_line_id,
            )
        )

    async def change_units(
        self, order_id: str, location_id: str, changes: Sequence[tuple[str, int]], unit_price: Money
    ) -> None:
        """Each SKU's units at the node moved by its delta: a fall comes off its line there
        (the line goes at zero), a rise is a new line at ``unit_price``; the total follows."""
        self._changed(order_id)
        delta_minor = 0
        for sku, delta in changes:
            if delta < 0:
                line = (
                    await self._conn.execute(
                        select(order_lines).where(
                            order_lines.c.order_id == order_id,
                            order_lines.c.sku == sku,
                            order_lines.c.location_id == location_id,
                        )
                    )
                ).first()
                if line is None:
                    continue
                taken = min(-delta, line.quantity)
                delta_minor -= taken * line.unit_price_minor
                if taken == line.quantity:
                    await self._conn.execute(delete(order_lines).where(order_lines.c.id == line.id))
                else:
                    await self._conn.execute(
                        update(order_lines)
                        .where(order_lines.c.id == line.id)
                        .values(quantity=line.quantity - taken)
                    )
            elif delta > 0:
                last = await self._conn.execute(
                    select(func.max(order_lines.c.position)).where(
                        order_lines.c.order_id == order_id
                    )
                )
                await self._conn.execute(
                    insert(order_lines).values(
                        order_id=order_id,
                        position=int(last.scalar() or 0) + 1,
                        sku=sku,
                        quantity=delta,
                        unit_price_minor=unit_price.to_minor(),
                        location_id=location_id,
                    )
                )
                delta_minor += delta * unit_price.to_minor()
        await self._conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(total_minor=orders.c.total_minor + delta_minor)
        )

    async def open_at_node(self, location_id: str, statuses: Sequence[OrderStatus]) -> list[Order]:
        """Orders in these statuses held for pickup at the node or with a line it fills."""
        at_node = select(order_lines.c.order_id).where(order_lines.c.location_id == location_id)
        query = (
            select(orders)
            .where(
                orders.c.status.in_([s.value for s in statuses]),
                or_(orders.c.pickup_location_id == location_id, orders.c.id.in_(at_node)),
            )
            .order_by(orders.c.created_at, orders.c.id)
        )
        found = (await self._conn.execute(query)).all()
        return await _assemble(self._conn, found, with_events=False) if found else []

    async def move_status(self, order_id: str, event: OrderEvent, changes: OrderChanges) -> None:
        await self._conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(status=event.to_status, updated_at=event.at, **_columns(changes))
        )
        await record_systems(self._conn, order_id, changes.systems, event.at)
        await self.add_event(order_id, event)

    async def update(self, order_id: str, at: datetime, changes: OrderChanges) -> None:
        self._changed(order_id)
        await self._conn.execute(
            update(orders).where(orders.c.id == order_id).values(updated_at=at, **_columns(changes))
        )
        await record_systems(self._conn, order_id, changes.systems, at)

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        query = select(orders).where(orders.c.id == order_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        return (await _assemble(self._conn, [row], with_events=True))[0]

    async def exists(self, order_id: str) -> bool:
        query = select(orders.c.id).where(orders.c.id == order_id)
        return (await self._conn.execute(query)).first() is not None

    async def find_by_oms_order(self, oms_order_id: str) -> str | None:
        query = select(orders.c.id).where(orders.c.oms_order_id == oms_order_id).limit(1)
        row = (await self._conn.execute(query)).first()
        return None if row is None else str(row.id)

    async def find_by_web_order(self, web_order_id: int) -> Order | None:
        query = select(orders).where(orders.c.web_order_id == web_order_id)
        row = (await self._conn.execute(query)).first()
        return None if row is None else (await _assemble(self._conn, [row], with_events=True))[0]

    async def of_node(self, location_id: str, start: datetime, end: datetime) -> list[Order]:
        at_node = select(order_lines.c.order_id).where(order_lines.c.location_id == location_id)
        query = (
            select(orders)
            .where(
                orders.c.created_at >= start,
                orders.c.created_at < end,
                or_(orders.c.pickup_location_id == location_id, orders.c.id.in_(at_node)),
            )
            .order_by(orders.c.created_at, orders.c.id)
        )
        found = (await self._conn.execute(query)).all()
        return await _assemble(self._conn, found, with_events=True) if found else []

    async def page(
        self, where: OrderFilter, *, first: int, after: tuple[datetime, str] | None
    ) -> tuple[list[Order], bool]:
        query = select(orders)
        if where.customer_email:
            query = query.where(func.lower(orders.c.customer_email) == where.customer_email.lower())
        if where.status:
            query = query.where(orders.c.status == where.status)
        if where.channel:
            query = query.where(orders.c.channel == where.channel)
        if where.created_after:
            query = query.where(orders.c.created_at > where.created_after)
        if after is not None:
            created, last_id = after
            query = query.where(
                or_(
                    orders.c.created_at < created,
                    and_(orders.c.created_at == created, orders.c.id < last_id),
                )
            )
        query = query.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(first + 1)
        rows = list(await self._conn.execute(query))
        page = await _assemble(self._conn, rows[:first], with_events=True)
        return page, len(rows) > first

    async def to_watch(self, since: datetime, after_id: str, limit: int) -> list[str]:
        query = (
            select(orders.c.id)
            .where(
                orders.c.status != OrderStatus.RETURNED,
                orders.c.created_at >= since,
                orders.c.id > after_id,
            )
            .order_by(orders.c.id)
            .limit(limit)
        )
        return [r.id for r in await self._conn.execute(query)]

    async def due_no_shows(self, now: datetime, limit: int) -> list[str]:
        query = (
            select(orders.c.id)
            .where(
                orders.c.status == OrderStatus.READY_FOR_PICKUP,
                orders.c.pickup_deadline <= now,
            )
            .limit(limit)
        )
        return [r.id for r in await self._conn.execute(query)]


async def _assemble(
    conn: AsyncConnection, rows: Sequence[Any], *, with_events: bool
) -> list[Order]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    lines: dict[str, list[Any]] = defaultdict(list)
    for line in await conn.execute(
        select(order_lines).where(order_lines.c.order_id.in_(ids)).order_by(order_lines.c.position)
    ):
        lines[line.order_id].append(line)
    returned: dict[tuple[str, str], int] = defaultdict(int)
    for r in await conn.execute(
        select(returns.c.order_id, return_lines.c.sku, func.sum(return_lines.c.quantity))
        .select_from(return_lines.join(returns, returns.c.id == return_lines.c.return_id))
        .where(returns.c.order_id.in_(ids))
        .group_by(returns.c.order_id, return_lines.c.sku)
    ):
        returned[(r[0], r[1])] = int(r[2])
    systems = await systems_of(conn, ids)
    events: dict[str, list[OrderEvent]] = defaultdict(list)
    if with_events:
        for e in await conn.execute(
            select(order_events)
            .where(order_events.c.order_id.in_(ids))
            .order_by(order_events.c.at, order_events.c.id)
        ):
            events[e.order_id].append(
                OrderEvent(
                    at=e.at,
                    kind=e.kind,
                    source=SourceSystem(e.source),
                    from_status=OrderStatus(e.from_status) if e.from_status else None,
                    to_status=OrderStatus(e.to_status) if e.to_status else None,
                    detail=e.detail,
                )
            )
    result: list[Order] = []
    for r in rows:
        remaining_returned = dict(returned)
        order_lines_out: list[OrderLine] = []
        for line in lines[r.id]:
            # A SKU on several lines: returns fill the first lines first.
            key = (r.id, line.sku)
            back = min(line.quantity, remaining_returned.get(key, 0))
            remaining_returned[key] = remaining_returned.get(key, 0) - back
            order_lines_out.append(
                OrderLine(
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=Money.from_minor(line.unit_price_minor, r.currency),
                    location_id=line.location_id,
                    returned_quantity=back,
                    web_line_id=line.web_line_id,
                )
            )
        result.append(
            Order(
                id=r.id,
                origin=OrderOrigin(r.origin),
                channel=Channel(r.channel),
                status=OrderStatus(r.status),
                customer_email=r.customer_email,
                customer_name=r.customer_name,
                total=Money.from_minor(r.total_minor, r.currency),
                lines=tuple(order_lines_out),
                created_at=r.created_at,
                updated_at=r.updated_at,
                delivery=None if r.delivery is None else ADDRESS.validate_python(r.delivery),
                pickup_location_id=r.pickup_location_id,
                pickup_deadline=r.pickup_deadline,
                allow_transfer=bool(r.allow_transfer),
                systems=(SystemRecord(SourceSystem.GATEWAY, r.id, r.status), *systems[r.id]),
                tracking=tuple(TRACKING.validate_python(r.tracking or [])),
                events=tuple(events[r.id]),
            )
        )
    return result
