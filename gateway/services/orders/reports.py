"""What each system that holds an order says of it now, read live: the OMS's fulfillment
orders, each ERP Sales Order, the storefront's order status; mapped onto canonical statuses
(gateway.services.orders.states).

Used to follow the backends (``syncOrder``) and to refuse what the facts forbid: an order
any system reports as shipped is not cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain import SourceSystem
from gateway.domain.documents import Tracking
from gateway.domain.orders import (
    NO_CHANGES,
    Order,
    OrderChanges,
    OrderStatus,
    SystemRecord,
)
from gateway.ports import ErpOrdersPort, OmsPort, WebOrdersPort
from gateway.services.orders.states import (
    PROGRESS,
    erpnext_status,
    shopify_status,
    woocommerce_status,
)

S = OrderStatus
# What a system reports once the goods have left (or come back): no cancel after these.
LEFT = frozenset({S.SHIPPED, S.DELIVERED, S.COLLECTED, S.PARTIALLY_RETURNED, S.RETURNED})


@dataclass(frozen=True, slots=True)
class StatusReport:
    source: SourceSystem
    reported: OrderStatus | None
    raw: str


@dataclass(frozen=True, slots=True)
class SyncReading:
    reports: tuple[StatusReport, ...]
    changes: OrderChanges = NO_CHANGES  # each system's status, the OMS's tracking

    def left(self) -> tuple[StatusReport, ...]:
        """The reports that say the goods have left."""
        return tuple(r for r in self.reports if r.reported in LEFT)


@dataclass(frozen=True, slots=True)
class OrderReports:
    oms: OmsPort | None = None
    erp: ErpOrdersPort | None = None
    web: WebOrdersPort | None = None

    async def read(self, order: Order, *, web: bool = False) -> SyncReading:
        """The OMS's and the ERP's reports, and the storefront's when ``web``. Each record
        is read: a split order's Sales Orders report together, as far along as the least
        advanced of them."""
        reports: list[StatusReport] = []
        systems: list[SystemRecord] = []
        tracking: tuple[Tracking, ...] | None = None
        if self.oms is not None:
            for oms_id in _ids(order, SourceSystem.OMS):
                found = await self.oms.order(oms_id)
                if found is None:
                    continue
                statuses = [fo.status for fo in found.fulfillment_orders]
                raw = ",".join(sorted(set(statuses))) or "NONE"
                reports.append(StatusReport(SourceSystem.OMS, shopify_status(statuses), raw))
                systems.append(SystemRecord(SourceSystem.OMS, oms_id, raw))
                tracking = tuple(t for fo in found.fulfillment_orders for t in fo.tracking) or None
        if self.erp is not None:
            said: list[tuple[str, OrderStatus | None]] = []
            for name in _ids(order, SourceSystem.ERP):
                sales_order = await self.erp.sales_order(name)
                if sales_order is None:
                    continue
                status = sales_order.status
                said.append((f"{name} {status}", erpnext_status(status, order.channel)))
                systems.append(SystemRecord(SourceSystem.ERP, name, status))
            if said:
                raw = ", ".join(text for text, _ in said)
                reports.append(StatusReport(SourceSystem.ERP, _together(said), raw))
        if web and self.web is not None:
            for web_id in _ids(order, SourceSystem.STOREFRONT):
                web_order = await self.web.web_order(int(web_id))
                if web_order is None:
                    continue
                status = web_order.status
                mapped = woocommerce_status(status, order.channel)
                reports.append(StatusReport(SourceSystem.STOREFRONT, mapped, status))
                systems.append(SystemRecord(SourceSystem.STOREFRONT, web_id, status))
        return SyncReading(tuple(reports), OrderChanges(tuple(systems), tracking))


def _ids(order: Order, system: SourceSystem) -> list[str]:
    return [s.id for s in order.systems if s.system is system and s.id]


def _together(said: list[tuple[str, OrderStatus | None]]) -> OrderStatus | None:
    """Several records of one system: cancelled when all are, else the least advanced of
    the live ones (None when one says nothing)."""
    statuses = [status for _, status in said]
    if any(status is None for status in statuses):
        return None
    live = [s for s in statuses if s is not None and s is not S.CANCELLED]
    if not live:
        return S.CANCELLED
    return min(live, key=lambda s: PROGRESS[s])
