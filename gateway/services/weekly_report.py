"""What a store's weekly page shows, gathered (gateway.reports.weekly renders it).

The KPIs are the week's (Monday to Sunday, UTC; a week not over yet counts up to now). The
reorder suggestions and the open discrepancies are as they stand when the page is made: the
SKUs below their reorder point, fewest days of supply first, and the node's discrepancies
still open, soonest due first.
"""

from __future__ import annotations

from dataclasses import fields

from gateway.domain import kpis as kpi
from gateway.domain.truth import DiscrepancyStatus
from gateway.ports import Clock, ErpPort, UnitOfWorkFactory
from gateway.ports.storage import DiscrepancyFilter, QueueCursor
from gateway.reports import (
    KpiFigure,
    OpenDiscrepancy,
    ReorderLine,
    WeeklyReport,
    iso_week,
)
from gateway.services.availability import AvailabilityService
from gateway.services.kpis import KpiService, NodeKpis
from gateway.services.replenishment import ReplenishmentHint, ReplenishmentService

TOP_REORDERS = 10
PAGES = 10  # of the replenishment listing, each reading up to its scan limit
OPEN = [DiscrepancyStatus.OPEN, DiscrepancyStatus.ACKNOWLEDGED]


class WeeklyReports:
    def __init__(
        self,
        kpis: KpiService,
        replenishment: ReplenishmentService,
        availability: AvailabilityService,
        erp: ErpPort,
        uow: UnitOfWorkFactory,
        clock: Clock,
    ) -> None:
        self._kpis = kpis
        self._replenishment = replenishment
        self._availability = availability
        self._erp = erp
        self._uow = uow
        self._clock = clock

    async def of(self, location_id: str, week: str) -> WeeklyReport:
        monday, sunday = iso_week(week)
        node = await self._availability.location(location_id)
        figures = await self._kpis.figures(node.id, monday, sunday)
        reorders = await self._reorders(node.id)
        items = await self._erp.items_by_sku([hint.sku for hint in reorders])
        return WeeklyReport(
            location_id=node.id,
            location_name=node.name,
            week=f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}",
            first_day=monday,
            last_day=sunday,
            generated_at=self._clock.now(),
            kpis=kpi_figures(figures),
            days=figures.days,
            reorder=tuple(
                ReorderLine(
                    hint.sku,
                    items[hint.sku].name if hint.sku in items else hint.sku,
                    hint.available,
                    hint.hint.reorder_point,
                    hint.hint.suggested_order,
                    hint.hint.days_of_supply,
                )
                for hint in reorders
            ),
            discrepancies=await self._open_discrepancies(node.id),
        )

    async def _reorders(self, location_id: str) -> list[ReplenishmentHint]:
        """The node's SKUs below their reorder point, fewest days of supply first."""
        below: list[ReplenishmentHint] = []
        offset = 0
        for _ in range(PAGES):
            page = await self._replenishment.page(
                location_id, offset=offset, first=100, below_reorder_point=True
            )
            below += [hint for _, hint in page.hints]
            offset = page.end_offset
            if not page.has_next_page:
                break
        below.sort(key=lambda h: (h.hint.days_of_supply is None, h.hint.days_of_supply, h.sku))
        return below[:TOP_REORDERS]

    async def _open_discrepancies(self, location_id: str) -> tuple[OpenDiscrepancy, ...]:
        found: list[OpenDiscrepancy] = []
        after: QueueCursor | None = None
        async with self._uow(read_only=True) as uow:
            while True:
                page, more = await uow.discrepancies.page(
                    DiscrepancyFilter(status=OPEN), first=200, after=after
                )
                found += [
                    OpenDiscrepancy(
                        record.key.sku,
                        f"{record.key.kind.value}: {record.copy.value} against "
                        f"{record.truth.value} (owner {record.owner})",
                        record.opened_at,
                    )
                    for record in page
                    if record.key.location_id == location_id
                ]
                if not more or not page:
                    return tuple(found)
                after = (page[-1].due_at, page[-1].id)


def kpi_figures(figures: NodeKpis) -> tuple[KpiFigure, ...]:
    """Each KPI with its definition, in the order the domain defines them."""
    names = {field.name for field in fields(figures)}
    return tuple(
        KpiFigure(key, defined.label, getattr(figures, key), defined.unit, defined.definition)
        for key, defined in kpi.DEFINITIONS.items()
        if key in names
    )
