"""Bringing an order's canonical status up to what the OMS and the ERP report, and the
sweep that cancels click-and-collect orders nobody collected.

Reads the order's Shopify fulfillment orders and its ERPNext Sales Order, maps their
statuses (gateway.services.orders.states) and moves the order forward where a legal path
leads there; a report that would move it backwards only updates that system's own status.
Tracking numbers the OMS holds are copied onto the order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.domain import SourceSystem
from gateway.domain.documents import Tracking
from gateway.domain.orders import (
    NO_CHANGES,
    Order,
    OrderChanges,
    OrderEvent,
    OrderStatus,
    SystemRecord,
)
from gateway.errors import NotFound
from gateway.ports import Clock, ErpOrdersPort, OmsPort, UnitOfWork, UnitOfWorkFactory
from gateway.services.commands import Command, Commands, OnChange
from gateway.services.orders.book import load_order, order_skus
from gateway.services.orders.lifecycle import OrderLifecycle
from gateway.services.orders.states import advance, erpnext_status, shopify_status


@dataclass(frozen=True, slots=True)
class StatusReport:
    source: SourceSystem
    reported: OrderStatus | None
    raw: str


@dataclass(frozen=True, slots=True)
class SyncReading:
    reports: tuple[StatusReport, ...]
    changes: OrderChanges = NO_CHANGES  # each system's status, the OMS's tracking


async def read_backends(
    order: Order, oms: OmsPort | None, erp: ErpOrdersPort | None
) -> SyncReading:
    ids = {s.system: s.id for s in order.systems}
    reports: list[StatusReport] = []
    systems: list[SystemRecord] = []
    tracking: tuple[Tracking, ...] | None = None
    if oms is not None and ids.get(SourceSystem.OMS):
        found = await oms.order(str(ids[SourceSystem.OMS]))
        if found is not None:
            statuses = [fo.status for fo in found.fulfillment_orders]
            raw = ",".join(sorted(set(statuses))) or "NONE"
            reports.append(StatusReport(SourceSystem.OMS, shopify_status(statuses), raw))
            systems.append(SystemRecord(SourceSystem.OMS, None, raw))
            tracking = tuple(t for fo in found.fulfillment_orders for t in fo.tracking) or None
    if erp is not None and ids.get(SourceSystem.ERP):
        sales_order = await erp.sales_order(str(ids[SourceSystem.ERP]))
        if sales_order is not None:
            reports.append(
                StatusReport(
                    SourceSystem.ERP, erpnext_status(sales_order.status), sales_order.status
                )
            )
            systems.append(SystemRecord(SourceSystem.ERP, None, sales_order.status))
    return SyncReading(tuple(reports), OrderChanges(tuple(systems), tracking))


class OrderSync:
    """Orders following what the backends report, and the no-show sweep."""

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        commands: Commands,
        lifecycle: OrderLifecycle,
        clock: Clock,
        on_change: OnChange,
        wake_worker: Callable[[], None],
        oms: OmsPort | None = None,
        erp: ErpOrdersPort | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._commands = commands
        self._lifecycle = lifecycle
        self._clock = clock
        self._on_change = on_change
        self._wake = wake_worker
        self._oms = oms
        self._erp = erp

    async def sync(self, order_id: str, key: str) -> Order:
        """Move the order forward to what the OMS and the ERP report."""
        async with self._uow() as uow:
            current = await load_order(uow, order_id)
        reading = await read_backends(current, self._oms, self._erp)

        async def change(uow: UnitOfWork, now: datetime) -> Order:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound(f"No order {order_id!r}", field="id")
            status = order.status
            for report in reading.reports:
                target = advance(status, report.reported)
                if target is None:
                    continue
                detail = f"{report.source.value} reports {report.raw}"
                event = OrderEvent(now, "STATUS_CHANGED", report.source, status, target, detail)
                await uow.orders.move_status(order.id, event, NO_CHANGES)
                status = target
            await uow.orders.update(order.id, now, reading.changes)
            return await load_order(uow, order_id)

        command = Command("syncOrder", key, {"id": order_id}, order_id, load_order, order_skus)
        return await self._commands.run(command, change)

    async def cancel_no_shows(self, limit: int = 100) -> int:
        """Pickup orders not collected within their window: cancelled, stock given back."""
        now = self._clock.now()
        count = 0
        async with self._uow() as uow:
            due = await uow.orders.due_no_shows(now, limit)
        for order_id in due:
            async with self._uow() as uow:
                order = await uow.orders.get(order_id, for_update=True)
                if order is None or order.status is not OrderStatus.READY_FOR_PICKUP:
                    continue
                await self._lifecycle.cancel_in(
                    uow, order, now, "NO_SHOW", "not collected within the pickup window"
                )
                await uow.commit()
                count += 1
            await self._on_change(order_skus(order))
        if count:
            self._wake()
        return count
