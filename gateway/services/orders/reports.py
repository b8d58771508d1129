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
        """The OMS's and the ERP's reports, and the storefront's when ``web``."""
        ids = {s.system: s.id for s in order.systems}
        reports: list[StatusReport] = []
        systems: list[SystemRecord] = []
        tracking: tuple[Tracking, ...] | None = None
        if self.oms is not None and ids.get(SourceSystem.OMS):
            found = await self.oms.order(str(ids[SourceSystem.OMS]))
            if found is not None:
                statuses = [fo.status for fo in found.fulfillment_orders]
                raw = ",".join(sorted(set(statuses))) or "NONE"
                reports.append(StatusReport(SourceSystem.OMS, shopify_status(statuses), raw))
                systems.append(SystemRecord(SourceSystem.OMS, None, raw))
                tracking = tuple(t for fo in found.fulfillment_orders for t in fo.tracking) or None
        if self.erp is not None and ids.get(SourceSystem.ERP):
            sales_order = await self.erp.sales_order(str(ids[SourceSystem.ERP]))
            if sales_order is not None:
                status = sales_order.status
                reports.append(StatusReport(SourceSystem.ERP, erpnext_status(status), status))
                systems.append(SystemRecord(SourceSystem.ERP, None, status))
        if web and self.web is not None and ids.get(SourceSystem.STOREFRONT):
            web_order = await self.web.web_order(int(str(ids[SourceSystem.STOREFRONT])))
            if web_order is not None:
                status = web_order.status
                mapped = woocommerce_status(status, order.channel)
                reports.append(StatusReport(SourceSystem.STOREFRONT, mapped, status))
                systems.append(SystemRecord(SourceSystem.STOREFRONT, None, status))
        return SyncReading(tuple(reports), OrderChanges(tuple(systems), tracking))
