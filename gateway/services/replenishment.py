"""Replenishment hints per SKU and node: the demand the node saw, what it has and has
coming, and the supply terms, through the model in gateway.domain.replenishment.

Demand is units sold per day over the REPLENISHMENT__WINDOW_DAYS whole days before today
(UTC), as the node's source of truth recorded them, so the gateway's own orders count once,
when they leave: at a store, Square's IN_STOCK -> SOLD adjustments; at a warehouse, the
ERPNext Stock Ledger's Delivery Note entries. What the node has is its
available-to-promise as the gateway answers it; what it has coming, the units on order from
vendors and the returns on their way whose disposition is RESTOCK (a return to inspect,
refurbish or write off is not stock to plan on). Supply terms come
from the ERP's Item where it gives them (lead time, minimum order quantity, the purchase
unit's case, its supplier), from configuration (REPLENISHMENT__*) elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from gateway.config import ReplenishmentSettings
from gateway.domain import ItemSupply, Location, SourceSystem
from gateway.domain.replenishment import Hint, SupplyTerms, daily_units, hint
from gateway.ports import Clock, ErpPort, PosPort, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService
from gateway.services.catalog import CatalogService


@dataclass(frozen=True, slots=True)
class ReplenishmentHint:
    sku: str
    location: Location
    window_start: datetime
    daily_demand: tuple[int, ...]  # units sold per day, oldest first
    terms: SupplyTerms
    supplier: str | None
    service_level: float
    available: int
    incoming: int
    hint: Hint


@dataclass(frozen=True, slots=True)
class HintPage:
    hints: list[tuple[int, ReplenishmentHint]]  # each with the offset to resume after it
    end_offset: int
    has_next_page: bool


# A listing request reads the catalogue this many entries at a time, and no more than
# SCAN_LIMIT in all.
SCAN_BATCH = 100
SCAN_LIMIT = 1_000


class ReplenishmentService:
    def __init__(
        self,
        catalog: CatalogService,
        erp: ErpPort,
        availability: AvailabilityService,
        pos: PosPort,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        settings: ReplenishmentSettings,
    ) -> None:
        self._catalog = catalog
        self._erp = erp
        self._availability = availability
        self._pos = pos
        self._uow = unit_of_work
        self._clock = clock
        self._settings = settings

    async def hints(self, location_id: str, skus: Sequence[str]) -> dict[str, ReplenishmentHint]:
        """The hint of each SKU the ERP knows and the node has a figure for."""
        location = await self._availability.location(location_id)
        known = await self._erp.items_by_sku(list(dict.fromkeys(skus)))
        wanted = [sku for sku in dict.fromkeys(skus) if sku in known]
        if not wanted:
            return {}
        settings = self._settings
        start = self._window_start()
        sold, rows, supplies, not_for_shelf = await asyncio.gather(
            self.sold(location, wanted, start),
            self._availability.by_node(wanted, location_ids=[location.id]),
            self._erp.supply(wanted),
            self._returns_not_restocked(location.id, wanted),
        )
        hints: dict[str, ReplenishmentHint] = {}
        for sku in wanted:
            row = rows.get(sku, {}).get(location.id)
            if row is None:
                continue
            supply = supplies.get(sku, ItemSupply())
            terms = self._terms(supply)
            daily = daily_units(sold.get(sku, ()), start, settings.window_days)
            available = row.available_to_promise
            # Coming: on order from vendors, and returns that go back on the shelf.
            incoming = max(0, row.incoming - not_for_shelf.get(sku, 0))
            hints[sku] = ReplenishmentHint(
                sku,
                location,
                start,
                tuple(daily),
                terms,
                supply.supplier,
                settings.service_level,
                available,
                incoming,
                hint(daily, available, incoming, terms, settings.service_level),
            )
        return hints

    async def moved_value(self, location_id: str, skus: Sequence[str]) -> dict[str, Decimal]:
        """Per SKU the ERP knows (kits left out): the value of the units the node's source
        recorded leaving over the window, at the ERP's cost (nothing known: 0)."""
        location = await self._availability.location(location_id)
        known, kits = await asyncio.gather(
            self._erp.items_by_sku(list(dict.fromkeys(skus))), self._availability.kits(skus)
        )
        wanted = [sku for sku in dict.fromkeys(skus) if sku in known and sku not in kits]
        if not wanted:
            return {}
        sold = await self.sold(location, wanted, self._window_start())
        moved: dict[str, Decimal] = {}
        for sku in wanted:
            cost = known[sku].cost
            units = sum(units for _, units in sold.get(sku, ()))
            moved[sku] = Decimal(units) * (cost.amount if cost is not None else Decimal(0))
        return moved

    def _window_start(self) -> datetime:
        today = datetime.combine(self._clock.now().astimezone(UTC).date(), time(), UTC)
        return today - timedelta(days=self._settings.window_days)

    async def _returns_not_restocked(self, location_id: str, skus: list[str]) -> dict[str, int]:
        async with self._uow(read_only=True) as uow:
            return await uow.returns.incoming_not_restocked(location_id, skus)

    def _terms(self, supply: ItemSupply) -> SupplyTerms:
        """The ERP's terms where its Item gives them, the configured ones elsewhere."""
        settings = self._settings
        return SupplyTerms(
            lead_time_days=supply.lead_time_days or settings.lead_time_days,
            lead_time_stdev_days=settings.lead_time_stdev_days,
            min_order_qty=supply.min_order_qty or settings.min_order_qty,
            case_size=supply.case_size or settings.case_size,
            review_days=settings.review_days,
        )

    async def page(
        self,
        location_id: str,
        *,
        offset: int,
        first: int,
        below_reorder_point: bool | None = None,
        category: str | None = None,
        supplier: str | None = None,
    ) -> HintPage:
        """Hints in catalogue order from ``offset``, those the filters keep, up to ``first``.
        A request reads at most SCAN_LIMIT catalogue entries (a hundred at a time: one POS
        call each); a page the filters thin out ends there, with a cursor to go on from."""
        found: list[tuple[int, ReplenishmentHint]] = []
        scanned = 0
        while scanned < SCAN_LIMIT:
            listed = await self._catalog.page(
                offset=offset, limit=SCAN_BATCH, search=None, category=category
            )
            kits = await self._availability.kits(listed.skus)
            hints = await self.hints(location_id, [s for s in listed.skus if s not in kits])
            for position, sku in enumerate(listed.skus, start=listed.start_offset + 1):
                got = hints.get(sku)
                if got is None:
                    continue
                if _kept(got, below_reorder_point, supplier):
                    found.append((position, got))
                if len(found) == first:
                    more = position < listed.next_offset or listed.has_next_page
                    return HintPage(found, position, more)
            scanned += len(listed.skus)
            offset = listed.next_offset
            if not listed.has_next_page:
                return HintPage(found, offset, False)
        return HintPage(found, offset, True)

    async def sold(
        self, location: Location, skus: list[str], since: datetime
    ) -> dict[str, list[tuple[datetime, int]]]:
        """Per SKU, (when, units) of what the node's source recorded leaving since then:
        Square's sales at a store, ERPNext's deliveries at a warehouse."""
        if location.source is SourceSystem.POS:
            recorded = await self._pos.sales(skus, [location.source_ref], since)
        else:
            recorded = await self._erp.deliveries(skus, [location.source_ref], since)
        sold: dict[str, list[tuple[datetime, int]]] = {}
        for sale in recorded:
            sold.setdefault(sale.sku, []).append((sale.occurred_at, sale.quantity))
        return sold


def _kept(got: ReplenishmentHint, below: bool | None, supplier: str | None) -> bool:
    return (below is None or got.hint.below_reorder_point is below) and (
        supplier is None or got.supplier == supplier
    )
