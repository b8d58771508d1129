"""WooCommerce web orders in the one order view.

The importer reads orders changed since its last run and keeps one canonical order per web
order: a new one still to be sent is allocated like a gateway order
(gateway.services.orders.web_placement), one already done with is recorded with its mapped
status; known ones move forward when WooCommerce reports progress
(gateway.services.orders.states), a cancellation there cancels them everywhere. A
WooCommerce status that would move an order backwards is put on the timeline, not applied.

Money. A canonical line's unit price is what the customer paid per unit including tax,
``(total + total_tax) / quantity`` to the cent; the WooCommerce line itself (total, tax,
tax per rate) is stored beside it, so a refund is worked out from the exact line figures,
never from the rounded unit price:

* ``refund_share``: returned units are worth the line's paid amount prorated by quantity,
  ROUND_HALF_UP to the cent, taken cumulatively (units b+1..b+q are worth
  ``round(paid * (b+q) / Q) - round(paid * b / Q)``). Returning the whole line at once gives
  exactly ``total + total_tax``, and however a line is returned in parts, the parts add up
  to exactly that too.
* ``web_refund_line``: splits such an amount into what WooCommerce wants per line, the part
  before tax (``refund_total``) and the tax (``refund_tax`` per rate id). The tax is the
  line's tax in the same proportion, ROUND_HALF_UP, and exactly ``total_tax`` for the whole
  line; the amount before tax is the rest, so the two always add up to the refund.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from gateway.domain import Channel, Money, SourceSystem
from gateway.domain.documents import WebOrder, WebOrderLine, WebRefundLine, WebTax
from gateway.domain.orders import (
    Order,
    OrderChanges,
    OrderEvent,
    OrderLine,
    OrderOrigin,
    OrderStatus,
    ReturnLine,
    SystemRecord,
)
from gateway.domain.outbox import DeliveryStatus, RefundWebOrder, UpdateWebOrder
from gateway.governance.order_watch import OrderWatch
from gateway.ports import (
    Clock,
    OrderAlreadyRecorded,
    UnitOfWork,
    UnitOfWorkFactory,
    WebOrdersPort,
)
from gateway.services.commands import OnChange
from gateway.services.orders.states import advance, woocommerce_status
from gateway.services.orders.web_placement import NO_SKU_PREFIX, TO_ALLOCATE, WebOrderPlacement

CENT = Decimal("0.01")


def web_order_id(web_id: int) -> str:
    return f"web_{web_id}"


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


def prorate(amount: Decimal, units: int, of: int) -> Decimal:
    """``amount * units / of`` to the cent (ROUND_HALF_UP); all of it when units == of."""
    if units == of:
        return amount
    return cents(amount * units / of)


def refund_share(line: WebOrderLine, before: int, quantity: int) -> Money:
    """What ``quantity`` units of ``line`` are worth, including tax, when ``before`` of its
    units were already returned (see the module docstring)."""
    if quantity <= 0 or before < 0 or before + quantity > line.quantity:
        raise ValueError(
            f"{quantity} unit(s) after {before} do not fit line {line.id} of {line.quantity}"
        )
    paid = line.paid.amount
    share = prorate(paid, before + quantity, line.quantity) - prorate(paid, before, line.quantity)
    return Money(share, line.total.currency)


def web_refund_line(line: WebOrderLine, quantity: int, refund: Money) -> WebRefundLine:
    """``refund`` (including tax) for ``quantity`` units of ``line``, split into the part
    before tax and the tax per rate id."""
    paid = line.paid.amount
    if refund.amount == paid:
        tax = line.tax.amount  # the whole line: exactly its total_tax
    elif paid == 0:
        tax = Decimal(0)
    else:
        tax = cents(line.tax.amount * refund.amount / paid)
    currency = refund.currency
    return WebRefundLine(
        line_id=line.id,
        quantity=quantity,
        amount=Money(refund.amount - tax, currency),
        tax=Money(tax, currency),
        taxes=split_by_rate(tax, line.taxes, currency),
    )


def split_by_rate(tax: Decimal, rates: Sequence[WebTax], currency: str) -> tuple[WebTax, ...]:
    """``tax`` spread over the line's rates in proportion to what each rate charged, to the
    cent; the last rate takes what rounding left, so the parts add up to ``tax``."""
    weight = sum((rate.amount.amount for rate in rates), Decimal(0))
    if not rates or weight == 0:
        return ()
    parts: list[WebTax] = []
    left = tax
    for rate in rates[:-1]:
        part = cents(tax * rate.amount.amount / weight)
        parts.append(WebTax(rate.rate_id, Money(part, currency)))
        left -= part
    parts.append(WebTax(rates[-1].rate_id, Money(left, currency)))
    return tuple(parts)


def web_refund_lines(
    order: Order, lines: Sequence[ReturnLine], figures: Mapping[int, WebOrderLine]
) -> tuple[WebRefundLine, ...]:
    """The refund's lines: each returned SKU against its web order line, its refund split
    into the part before tax and the tax per rate id when the line's figures are known
    (otherwise the whole refund goes as the line's amount, with no tax part)."""
    web_line: dict[str, int | None] = {}
    for line in order.lines:
        web_line.setdefault(line.sku, line.web_line_id)
    refund_lines: list[WebRefundLine] = []
    for x in lines:
        line_id = web_line.get(x.sku)
        if line_id is None:
            continue
        web = figures.get(line_id)
        if web is None:
            refund_lines.append(WebRefundLine(line_id, x.quantity, x.refund))
        else:
            refund_lines.append(web_refund_line(web, x.quantity, x.refund))
    return tuple(refund_lines)


def canonical_from_web(web: WebOrder, now: datetime) -> Order | None:
    """The canonical order of a web order; its lines' WooCommerce figures are stored beside
    it (``UnitOfWork.orders.add(..., web_lines=web.lines)``) for exact refunds."""
    pickup = web.pickup_location is not None
    channel = Channel.PICKUP if pickup else Channel.ONLINE
    status = woocommerce_status(web.status, channel)
    if status is None:
        return None  # a checkout draft is not an order yet
    lines = tuple(
        OrderLine(
            sku=line.sku or f"{NO_SKU_PREFIX}{line.id}",
            quantity=line.quantity,
            unit_price=Money(cents(line.paid.amount / line.quantity), line.total.currency),
            web_line_id=line.id,
        )
        for line in web.lines
        if line.quantity > 0
    )
    return Order(
        id=web_order_id(web.id),
        origin=OrderOrigin.STOREFRONT,
        channel=channel,
        status=status,
        customer_email=web.email,
        customer_name=web.customer_name,
        total=web.total,
        lines=lines,
        created_at=web.created_at,
        updated_at=now,
        delivery=None if pickup else web.shipping_address,
        systems=(
            SystemRecord(
                SourceSystem.STOREFRONT, str(web.id), web.status, modified_at=web.modified_at
            ),
        ),
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
    """Keeps one canonical order per web order: a new one still to be sent is allocated
    (gateway.services.orders.web_placement), one already done with is recorded as it is;
    a known one whose WooCommerce status would move it is checked against every system
    that holds it (gateway.governance.order_watch): a move applies and the others are told,
    a contradiction is owned as an ORDER_STATE_MISMATCH."""

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        web: WebOrdersPort,
        clock: Clock,
        on_change: OnChange,
        placement: WebOrderPlacement,
        watch: OrderWatch,
    ) -> None:
        self._uow = unit_of_work
        self._web = web
        self._clock = clock
        self._on_change = on_change
        self._placement = placement
        self._watch = watch
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

    async def sync_one(self, web_order_id: int) -> int:
        """Import or follow one order now (a webhook named it); 0 when it is not there."""
        web = await self._web.web_order(web_order_id)
        if web is None:
            return 0
        touched = await self._upsert(web)
        if touched:
            await self._on_change([])
        return touched

    async def _upsert(self, web: WebOrder) -> int:
        now = self._clock.now()
        async with self._uow() as uow:
            known = await uow.orders.find_by_web_order(web.id)
        if known is None:
            order = canonical_from_web(web, now)
            if order is None:
                return 0
            if order.status in TO_ALLOCATE:
                await self._placement.place(web, order)
                return 1
            try:
                async with self._uow() as uow:
                    await uow.orders.add(order, web_lines=web.lines)
                    await uow.commit()
            except OrderAlreadyRecorded:
                # Another import of it (a webhook's beside the poll, or another gateway
                # process) recorded it between the look-up and the insert: follow that one.
                async with self._uow() as uow:
                    known = await uow.orders.find_by_web_order(web.id)
                return 0 if known is None else await self._follow(known.id, web)
            return 1
        return await self._follow(known.id, web)

    async def _follow(self, order_id: str, web: WebOrder) -> int:
        """Move a known order to what WooCommerce now says of it, where it may go."""
        async with self._uow() as uow:
            now = self._clock.now()
            known = await uow.orders.get(order_id, for_update=True)
            if known is None:
                return 0
            recorded = next((s for s in known.systems if s.system is SourceSystem.STOREFRONT), None)
            previous = None if recorded is None else recorded.status
            if previous == web.status:
                return 0
            written = await _statuses_written(uow, known.id)
            if _read_before(recorded, web) or _older_than_own_write(previous, web.status, written):
                # Read before the state already recorded (a webhook's read racing the
                # gateway's own refund, say): recording it would move the copy backwards.
                return 0
            reported = woocommerce_status(web.status, known.channel)
            # Only the gateway allocates: WooCommerce's "processing" says it was paid, not
            # where its units are. A status the gateway wrote there itself is its own echo
            # (it writes "completed" on shipment, which WooCommerce alone would mean as
            # delivered).
            echo = web.status in written
            target = (
                None
                if reported is OrderStatus.ALLOCATED or echo
                else advance(known.status, reported)
            )
            web_status = OrderChanges(
                systems=(
                    SystemRecord(
                        SourceSystem.STOREFRONT, None, web.status, modified_at=web.modified_at
                    ),
                )
            )
            await uow.orders.update(known.id, now, web_status)
            if target is None:
                await uow.orders.add_event(
                    known.id,
                    OrderEvent(
                        now,
                        "STATUS_REPORTED",
                        SourceSystem.STOREFRONT,
                        detail=f"WooCommerce says {web.status}; order stays {known.status.value}",
                    ),
                )
            await uow.commit()
        if target is not None:
            # A move WooCommerce reports is checked against what every other system says
            # (a cancel there is not applied to an order the warehouse shipped).
            await self._watch.check(order_id)
        return 1


async def _statuses_written(uow: UnitOfWork, order_id: str) -> list[str]:
    """The storefront statuses the gateway wrote (or owes) for this order, oldest first; a
    refund it wrote counts as "refunded" (what WooCommerce shows once all is refunded)."""
    written: list[str] = []
    for delivery in await uow.outbox.for_key(order_id):
        match delivery.message:
            case UpdateWebOrder(status=str(status)):
                written.append(status)
            case RefundWebOrder() if delivery.status is DeliveryStatus.DELIVERED:
                written.append("refunded")
    return written


def _read_before(recorded: SystemRecord | None, web: WebOrder) -> bool:
    """The read is older than the state recorded, both on WooCommerce's clock (its
    date_modified has second resolution, so a read in the same second is not judged)."""
    return (
        recorded is not None
        and recorded.modified_at is not None
        and web.modified_at < recorded.modified_at
    )


def _older_than_own_write(recorded: str | None, reported: str, written: Sequence[str]) -> bool:
    """A reported status the gateway wrote before the one now recorded, which it also
    wrote: a snapshot taken before the later write. (A person setting the earlier status
    again by hand in WooCommerce looks the same; it moves nothing, being an echo.)"""
    if recorded is None or recorded not in written or reported not in written:
        return False
    last = {status: i for i, status in enumerate(written)}
    return last[reported] < last[recorded]
