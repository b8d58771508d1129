"""Which SKUs a node counts on a day (gateway.domain.cycle_counts).

The ABC ranking is by the value each SKU moved at the node over the replenishment window
(units its source recorded leaving x the ERP's cost): a ranking, so a window's value ranks
as a year's would for steady demand. The catalogue is read a hundred items at a time; kits
are not counted (their components are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.config import CycleCountSettings
from gateway.domain.cycle_counts import AbcClass, abc_classes, count_plan
from gateway.services.catalog import CatalogService
from gateway.services.replenishment import ReplenishmentService

PAGE = 100


@dataclass(frozen=True, slots=True)
class PlannedCount:
    sku: str
    abc: AbcClass
    moved_value: Decimal  # over the window, at cost


class CycleCountPlanner:
    def __init__(
        self,
        catalog: CatalogService,
        replenishment: ReplenishmentService,
        settings: CycleCountSettings,
    ) -> None:
        self._catalog = catalog
        self._replenishment = replenishment
        self._settings = settings

    async def plan(self, location_id: str, day: date) -> list[PlannedCount]:
        values: dict[str, Decimal] = {}
        offset = 0
        while True:
            listed = await self._catalog.page(offset=offset, limit=PAGE, search=None, category=None)
            values.update(await self._replenishment.moved_value(location_id, listed.skus))
            offset = listed.next_offset
            if not listed.has_next_page:
                break
        settings = self._settings
        classes = abc_classes(
            values, Decimal(str(settings.a_share)), Decimal(str(settings.b_share))
        )
        cycles = {
            AbcClass.A: settings.a_days,
            AbcClass.B: settings.b_days,
            AbcClass.C: settings.c_days,
        }
        return [
            PlannedCount(sku, classes[sku], values[sku]) for sku in count_plan(classes, day, cycles)
        ]
