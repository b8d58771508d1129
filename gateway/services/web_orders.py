"""WooCommerce web orders in the one order view.

The importer reads orders changed since its last run and keeps one canonical order per web
order: new ones are recorded with their mapped status, known ones move forward when
WooCommerce reports progress (gateway.services.order_states). A WooCommerce status that
would move an order backwards is put on the timeline, not applied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from gateway.domain import Channel, Money, SourceSystem
from gateway.domain.documents import WebOrder
from gateway.domain.orders import Order, OrderEvent, OrderLine, OrderOrigin, SystemRecord
from gateway.persistence import orders as repo
from gateway.persistence.database import Database
from gateway.ports import Clock, WebOrdersPort
from gateway.services.order_states import advance, woocommerce_status

OnChange = Callable[[Sequence[str]], Awaitable[None]]
CENT = Decimal("0.01")


def web_order_id(web_id: int) -> str:
    return f"web_{web_id}"


def canonical_from_web(web: WebOrder, now: datetime) -> Order | None:
    status = woocommerce_status(web.status, Channel.ONLINE)
    if status is None:
        return None  # a checkout draft is not an order yet
    lines = tuple(
        OrderLine(
            sku=line.sku or f"woo-line-{line.id}",
            quantity=line.quantity,
            unit_price=Money(
                (line.total.amount / line.quantity).quantize(CENT), line.total.currency
            ),
            web_line_id=line.id,
        )
        for line in web.lines
        if line.quantity > 0
    )
    return Order(
        id=web_order_id(web.id),
        origin=OrderOrigin.STOREFRONT,
        channel=Channel.ONLINE,
        status=status,
        customer_email=web.email,
        customer_name=web.customer_name,
        total=web.total,
        lines=lines,
        created_at=web.created_at,
        updated_at=now,
        delivery=web.shipping_address,
        systems=(SystemRecord(SourceSystem.STOREFRONT, str(web.id), web.status),),
        events=(
            OrderEvent(
                web.created_at,
                "IMPORTED",
                SourceSystem.STOREFRONT,
                None,
                status,
                f"WooCommerce order #{web.number} ({web.status})",
            ),
        ),
    )


class WebOrderImporter:
    def __init__(self, db: Database, web: WebOrdersPort, clock: Clock, on_change: OnChange) -> None:
        self._db = db
        self._web = web
        self._clock = clock
        self._on_change = on_change
        self._seen_until: datetime | None = None

    async def sync(self) -> int:
        """Import what changed since the last run; returns how many orders were touched."""
        started = self._clock.now()
        changed = await self._web.web_orders(modified_after=self._seen_until)
        touched = 0
        for web in changed:
            touched += await self._upsert(web)
        # Overlap by a minute: WooCommerce's modified times have second resolution and
        # an order saved during our read must not slip between two runs.
        self._seen_until = started - timedelta(minutes=1)
        if touched:
            await self._on_change([])
        return touched

    async def _upsert(self, web: WebOrder) -> int:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            known = await repo.find_by_web_order(conn, web.id)
            if known is None:
                order = canonical_from_web(web, now)
                if order is None:
                    return 0
                await repo.insert_order(conn, order)
                return 1
            previous = next(
                (s.status for s in known.systems if s.system is SourceSystem.STOREFRONT), None
            )
            if previous == web.status:
                return 0
            reported = woocommerce_status(web.status, known.channel)
            target = advance(known.status, reported)
            if target is None:
                await repo.set_fields(conn, known.id, now, web_status=web.status)
                await repo.add_event(
                    conn,
                    known.id,
                    OrderEvent(
                        now,
                        "STATUS_REPORTED",
                        SourceSystem.STOREFRONT,
                        detail=f"WooCommerce says {web.status}; order stays {known.status.value}",
                    ),
                )
            else:
                await repo.move_status(
                    conn,
                    known.id,
                    known.status,
                    target,
                    at=now,
                    source=SourceSystem.STOREFRONT,
                    detail=f"WooCommerce status {web.status}",
                    web_status=web.status,
                )
            return 1
