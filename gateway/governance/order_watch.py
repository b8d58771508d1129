"""The order-state check: every order placed lately, compared with what each system that
holds it says (gateway.services.orders.reports), judged (gateway.governance.order_states),
and acted on in one transaction per order:

* a forward move a system reports is applied and the others are told (as ``syncOrder``);
  a system contradicting it is not overwritten;
* a contradiction opens (or updates) the order's ORDER_STATE_MISMATCH exception for that
  system, on the queue with owner and deadline, and the timeline says so; it closes by
  itself once the system agrees;
* each record's status and last sync are kept (``Order.systems``).

A system that cannot be read is left for the next round. Orders are taken by id in pages,
each read outside any transaction, then locked and checked again before anything changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.config import TruthSettings
from gateway.domain import SourceSystem
from gateway.domain.orders import Order, OrderEvent
from gateway.domain.outbox import SETTLED, UpdateWebOrder
from gateway.domain.truth import DiscrepancyKey, DiscrepancyKind, Figure
from gateway.errors import BackendError
from gateway.governance.exceptions import order_exception
from gateway.governance.order_states import Verdict, judge
from gateway.ports import Clock, UnitOfWork, UnitOfWorkFactory
from gateway.services.commands import OnChange
from gateway.services.orders.book import order_skus
from gateway.services.orders.lifecycle import OrderLifecycle
from gateway.services.orders.reports import OrderReports, SyncReading
from gateway.services.outbox.blocking import as_seen
from gateway.truth import queue
from gateway.truth.reconciler import new_discrepancy_id

KIND = DiscrepancyKind.ORDER_STATE_MISMATCH
RULE = "every system holding an order agrees with its status, or is on its way there"
log = logging.getLogger(__name__)


@dataclass
class WatchReport:
    checked: int = 0
    moved: int = 0
    opened: int = 0
    closed: int = 0
    unreadable: list[str] = field(default_factory=list)


def _news(order: Order, reading: SyncReading) -> bool:
    """Whether a system's own status (or the tracking) differs from what the order says."""
    known = {(s.system, s.id): s.status for s in order.systems}
    statuses = any(
        s.status is not None and known.get((s.system, s.id)) != s.status
        for s in reading.changes.systems
    )
    tracking = reading.changes.tracking is not None and reading.changes.tracking != order.tracking
    return statuses or tracking


class OrderWatch:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        reports: OrderReports,
        lifecycle: OrderLifecycle,
        clock: Clock,
        policy: TruthSettings,
        on_change: OnChange,
        wake_worker: Callable[[], None],
        *,
        window: timedelta = timedelta(days=30),
        page_size: int = 100,
    ) -> None:
        self._uow = unit_of_work
        self._reports = reports
        self._lifecycle = lifecycle
        self._clock = clock
        self._policy = policy
        self._on_change = on_change
        self._wake = wake_worker
        self._window = window
        self._page = page_size

    async def run(self) -> WatchReport:
        """Check every order placed within the window."""
        report = WatchReport()
        since = self._clock.now() - self._window
        after = ""
        while True:
            async with self._uow() as uow:
                ids = await uow.orders.to_watch(since, after, self._page)
            for order_id in ids:
                await self.check(order_id, report)
            if len(ids) < self._page:
                break
            after = ids[-1]
        if report.moved:
            self._wake()
        return report

    async def check(self, order_id: str, report: WatchReport | None = None) -> WatchReport:
        report = report if report is not None else WatchReport()
        async with self._uow() as uow:
            seen = await uow.orders.get(order_id)
        if seen is None:
            return report
        try:
            reading = await self._reports.read(seen, web=True)
        except BackendError as error:
            log.info("order-state check of %s: %s", order_id, error)
            report.unreadable.append(order_id)
            return report
        moved = False
        async with self._uow() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or order.status is not seen.status:
                return report  # it moved meanwhile: the next round looks again
            now = self._clock.now()
            verdict = await self._judge(uow, order, reading)
            if verdict.target is not None and verdict.forward is not None:
                forward = verdict.forward
                await self._lifecycle.follow_in(
                    uow,
                    order,
                    now,
                    verdict.target,
                    forward.source,
                    f"{forward.source.value} reports {forward.raw} (order-state check)",
                    not_told=[m.system for m in verdict.mismatches],
                )
                moved = True
            if moved or _news(order, reading):
                await uow.orders.update(order_id, now, reading.changes)
            else:  # only when the gateway last heard of each record
                await uow.orders.heard_from(order_id, reading.changes.systems, now)
            opened, closed = await self._settle(uow, order, verdict, now)
            await uow.commit()
        report.checked += 1
        report.moved += int(moved)
        report.opened += opened
        report.closed += closed
        if moved:
            await self._on_change(order_skus(order))
            self._wake()
        return report

    async def _judge(self, uow: UnitOfWork, order: Order, reading: SyncReading) -> Verdict:
        deliveries = as_seen(await uow.outbox.for_key(order.id))
        settling = {d.message.target for d in deliveries if d.status not in SETTLED}
        written = {
            d.message.status
            for d in deliveries
            if isinstance(d.message, UpdateWebOrder) and d.message.status is not None
        }
        return judge(
            order.status,
            reading.reports,
            settling=settling,
            echoes={SourceSystem.STOREFRONT: written},
        )

    async def _settle(
        self, uow: UnitOfWork, order: Order, verdict: Verdict, now: datetime
    ) -> tuple[int, int]:
        findings = [
            order_exception(
                KIND,
                order.id,
                system=m.system,
                expected=Figure(SourceSystem.GATEWAY, order.status.value, order.updated_at),
                found=Figure(m.system, f"{m.says}: {m.why}", now),
                rule=RULE,
                policy=self._policy,
            )
            for m in verdict.mismatches
        ]
        checked = [
            DiscrepancyKey(KIND, "", "", system, order.id)
            for system in (*verdict.agreeing, *(m.system for m in verdict.mismatches))
        ]
        records = {
            key: record
            for key, record in (await uow.discrepancies.of_orders([order.id])).items()
            if key.kind is KIND
        }
        settled = queue.settle(findings, checked, records, now, self._policy, new_discrepancy_id)
        await uow.discrepancies.add(settled.new)
        await uow.discrepancies.save(settled.changed)
        fresh = [r for r in (*settled.new, *settled.changed) if r.history[-1].at == now]
        for record in fresh:
            if record.status.is_open:
                await uow.orders.add_event(
                    order.id,
                    OrderEvent(
                        now,
                        "ORDER_STATE_MISMATCH",
                        record.key.system,
                        detail=f"{record.copy.value} (owner {record.owner})",
                    ),
                )
        closed = sum(1 for r in settled.changed if not r.status.is_open)
        return len(settled.new), closed
