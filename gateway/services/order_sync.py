"""Bringing an order's canonical status up to what the OMS and the ERP report.

Reads the order's Shopify fulfillment orders and its ERPNext Sales Order, maps their
statuses (gateway.services.order_states) and moves the order forward where a legal path
leads there; a report that would move it backwards only updates that system's own status.
Tracking numbers the OMS holds are copied onto the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.domain import SourceSystem
from gateway.domain.documents import Tracking
from gateway.domain.orders import Order, OrderStatus
from gateway.ports import ErpOrdersPort, OmsPort
from gateway.services.order_states import erpnext_status, shopify_status


@dataclass(frozen=True, slots=True)
class StatusReport:
    source: SourceSystem
    reported: OrderStatus | None
    raw: str


@dataclass(frozen=True, slots=True)
class SyncReading:
    reports: tuple[StatusReport, ...]
    fields: dict[str, object] = field(default_factory=dict)
    tracking: tuple[Tracking, ...] = ()


async def read_backends(
    order: Order, oms: OmsPort | None, erp: ErpOrdersPort | None
) -> SyncReading:
    ids = {s.system: s.id for s in order.systems}
    reports: list[StatusReport] = []
    fields: dict[str, object] = {}
    tracking: tuple[Tracking, ...] = ()
    if oms is not None and ids.get(SourceSystem.OMS):
        found = await oms.order(str(ids[SourceSystem.OMS]))
        if found is not None:
            statuses = [fo.status for fo in found.fulfillment_orders]
            raw = ",".join(sorted(set(statuses))) or "NONE"
            reports.append(StatusReport(SourceSystem.OMS, shopify_status(statuses), raw))
            fields["oms_status"] = raw
            tracking = tuple(t for fo in found.fulfillment_orders for t in fo.tracking)
    if erp is not None and ids.get(SourceSystem.ERP):
        sales_order = await erp.sales_order(str(ids[SourceSystem.ERP]))
        if sales_order is not None:
            reports.append(
                StatusReport(
                    SourceSystem.ERP, erpnext_status(sales_order.status), sales_order.status
                )
            )
            fields["erp_status"] = sales_order.status
    return SyncReading(tuple(reports), fields, tracking)
