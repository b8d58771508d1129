"""The check for units promised, then sold at the till (rule: gateway.governance.short_holds).

Every store holding units for orders not yet handed over (and whose writes are done) is
read afresh (Square's counts, not the cache) for the SKUs it holds. A delivery order the
shelf can no longer cover is re-routed where another node can ship the missing units
(gateway.governance.short_hold_reroute); any other (a pickup order: the customer chose
that store) gets a SHORT_HOLD exception (owner store-ops by default, with its deadline), a
line on its timeline and, when the gateway mails customers, one mail saying what
happened. The exception updates while the shelf stays short and closes by itself once it
is not (stock arrived, the order was collected or cancelled).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.config import TruthSettings
from gateway.domain import SourceSystem
from gateway.domain.orders import OrderEvent, OrderStatus
from gateway.domain.outbox import SETTLED, OutboxMessage
from gateway.domain.reservations import OrderHold
from gateway.domain.truth import DiscrepancyKey, DiscrepancyKind, Figure
from gateway.domain.truth import DiscrepancyStatus as S
from gateway.governance.exceptions import order_exception
from gateway.governance.short_hold_reroute import ShortHoldReroute
from gateway.governance.short_holds import Shortfall, short_holds
from gateway.notifications.messages import mail_message, promise_changed
from gateway.ports import Clock, PosPort, UnitOfWork, UnitOfWorkFactory
from gateway.ports.storage import DiscrepancyFilter
from gateway.services.availability import AvailabilityService
from gateway.truth import queue
from gateway.truth.reconciler import new_discrepancy_id

KIND = DiscrepancyKind.SHORT_HOLD
POS = SourceSystem.POS
NOT_HANDED_OVER = (OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.READY_FOR_PICKUP)
RULE = "units held for an order must still be on the store's shelf"


@dataclass
class ShortHoldReport:
    stores: int = 0
    short: int = 0
    rerouted: int = 0
    opened: int = 0
    closed: int = 0


class ShortHoldWatch:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        availability: AvailabilityService,
        pos: PosPort,
        clock: Clock,
        policy: TruthSettings,
        *,
        reroute: ShortHoldReroute | None = None,
        mails_customers: bool = False,
    ) -> None:
        self._reroute = reroute
        self._uow = unit_of_work
        self._availability = availability
        self._pos = pos
        self._clock = clock
        self._policy = policy
        self._mails = mails_customers

    async def check(self) -> ShortHoldReport:
        report = ShortHoldReport()
        async with self._uow() as uow:
            held = await uow.reservations.order_holds([s.value for s in NOT_HANDED_OVER])
            # An order whose writes are still on their way is judged once they are done
            # (its sale may not be recorded yet, or its units already given back).
            busy = {
                order_id
                for order_id in {h.order_id for h in held}
                if any(d.status not in SETTLED for d in await uow.outbox.for_key(order_id))
            }
        held = [h for h in held if h.order_id not in busy]
        at_store: dict[str, list[OrderHold]] = defaultdict(list)
        for hold in held:
            location = await self._availability.location(hold.location_id)
            if location.source is POS:
                at_store[location.source_ref].append(hold)
        shortfalls: list[Shortfall] = []
        for store_ref, holds in at_store.items():
            report.stores += 1
            readings = await self._pos.stock(sorted({h.sku for h in holds}), [store_ref])
            shelf = {r.sku: r.on_hand - r.reserved for r in readings}
            by_sku: dict[str, list[OrderHold]] = defaultdict(list)
            for hold in holds:
                by_sku[hold.sku].append(hold)
            for sku, sku_holds in by_sku.items():
                shortfalls += short_holds(shelf.get(sku, 0), sku_holds)
        report.short = len(shortfalls)
        if self._reroute is not None:
            shortfalls = await self._moved_elsewhere(shortfalls, held, report)
        async with self._uow() as uow:
            opened, closed = await self._settle(uow, shortfalls, at_store, busy)
            await uow.commit()
        report.opened, report.closed = opened, closed
        return report

    async def _moved_elsewhere(
        self, shortfalls: Sequence[Shortfall], held: Sequence[OrderHold], report: ShortHoldReport
    ) -> list[Shortfall]:
        """The shortfalls re-routing could not take away."""
        assert self._reroute is not None
        hold_of = {(h.order_id, h.sku, h.location_id): h for h in held}
        left: list[Shortfall] = []
        for short in shortfalls:
            async with self._uow() as uow:
                order = await uow.orders.get(short.order_id)
            hold = hold_of[(short.order_id, short.sku, short.location_id)]
            moved = None if order is None else await self._reroute.reroute(order, short, hold)
            if moved is None:
                left.append(short)
            else:
                report.rerouted += 1
        return left

    async def _settle(
        self,
        uow: UnitOfWork,
        shortfalls: Sequence[Shortfall],
        at_store: dict[str, list[OrderHold]],
        busy: set[str],
    ) -> tuple[int, int]:
        """Open, update or close each checked order's SHORT_HOLD; returns how many were
        opened (or reopened) and closed."""
        now = self._clock.now()
        checked = {
            DiscrepancyKey(KIND, h.sku, h.location_id, POS, h.order_id)
            for hs in at_store.values()
            for h in hs
        }
        # An order collected or cancelled since holds nothing there now: its record closes.
        still_open, _ = await uow.discrepancies.page(
            DiscrepancyFilter(status=[S.OPEN, S.ACKNOWLEDGED], kind=KIND), first=500, after=None
        )
        # An order still owed writes is left as it is until they are done.
        checked |= {r.key for r in still_open if r.key.order_id not in busy}
        findings = [
            order_exception(
                KIND,
                s.order_id,
                system=POS,
                expected=Figure(SourceSystem.GATEWAY, f"{s.held} held for the order", now),
                found=Figure(POS, f"{s.missing} no longer on the shelf (sold at the till)", now),
                rule=RULE,
                policy=self._policy,
                sku=s.sku,
                location_id=s.location_id,
                delta=-s.missing,
            )
            for s in shortfalls
        ]
        order_ids = sorted({key.order_id for key in checked})
        records = {
            key: record
            for key, record in (await uow.discrepancies.of_orders(order_ids)).items()
            if key.kind is KIND
        }
        settled = queue.settle(findings, checked, records, now, self._policy, new_discrepancy_id)
        await uow.discrepancies.add(settled.new)
        await uow.discrepancies.save(settled.changed)
        told: list[OutboxMessage] = []
        by_key = {
            DiscrepancyKey(KIND, s.sku, s.location_id, POS, s.order_id): s for s in shortfalls
        }
        # Only a shortage just found (opened or reopened) is news for the customer.
        fresh = [r for r in (*settled.new, *settled.changed) if r.opened_at == now]
        for record in fresh:
            short = by_key[record.key]
            what = (
                f"{short.missing} of the {short.held} x {short.sku} held for your order at "
                f"{(await self._availability.location(short.location_id)).name} were sold "
                "in the store before you could collect them. Our store team is on it and will "
                "contact you about a replacement or a refund."
            )
            await uow.orders.add_event(
                short.order_id,
                OrderEvent(now, "SHORT_HOLD", POS, detail=f"{what} (owner {record.owner})"),
            )
            order = await uow.orders.get(short.order_id)
            if self._mails and order is not None and order.customer_email:
                opened = int(record.opened_at.timestamp())
                event = f"short:{short.sku}@{short.location_id}:{opened}"
                told.append(mail_message(order.id, promise_changed(order, event, what)))
        await uow.outbox.add(told, now)
        closed = sum(1 for r in settled.changed if not r.status.is_open)
        return len(fresh), closed
