"""Bringing an order's canonical status up to what the OMS and the ERP report, and the
sweep that cancels click-and-collect orders nobody collected.

Reads the order's Shopify fulfillment orders and its ERPNext Sales Order
(gateway.services.orders.reports), maps their statuses (gateway.services.orders.states) and
moves the order forward where a legal path leads there, owing the other systems what the
move owes (gateway.services.orders.lifecycle); a report that would move it backwards only
updates that system's own status. Tracking numbers the OMS holds are copied onto the order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.domain.orders import (
    Order,
    OrderStatus,
)
from gateway.errors import NotFound
from gateway.ports import Clock, UnitOfWork, UnitOfWorkFactory
from gateway.services.commands import Command, Commands, OnChange
from gateway.services.orders.book import load_order, order_skus
from gateway.services.orders.lifecycle import OrderLifecycle
from gateway.services.orders.reports import OrderReports
from gateway.services.orders.states import advance


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
        reports: OrderReports | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._commands = commands
        self._lifecycle = lifecycle
        self._clock = clock
        self._on_change = on_change
        self._wake = wake_worker
        self._reports = reports or OrderReports()

    async def sync(self, order_id: str, key: str) -> Order:
        """Move the order forward to what the OMS and the ERP report; the systems that
        did not report it are told."""
        async with self._uow() as uow:
            current = await load_order(uow, order_id)
        reading = await self._reports.read(current)

        async def change(uow: UnitOfWork, now: datetime) -> Order:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound(f"No order {order_id!r}", field="id")
            for report in reading.reports:
                target = advance(order.status, report.reported)
                if target is None:
                    continue
                detail = f"{report.source.value} reports {report.raw}"
                await self._lifecycle.follow_in(uow, order, now, target, report.source, detail)
                order = await load_order(uow, order_id)
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
