"""A node's KPIs over a period of whole UTC days (gateway.domain.kpis defines each).

What each is computed from:

* the node's source (Square at a store, ERPNext at a warehouse): its figure now, what it
  recorded moving since the period began (so each day's closing figure is today's less the
  movements after that day), and what it recorded leaving as sold (Square's sales,
  ERPNext's deliveries);
* the ERP's item master: cost (stock and shrink at cost); the channel's price (sales value):
  a store's Square price, else the ERP's list price;
* the gateway's own records: the counts recorded at the node (shrink, accuracy), the
  returns coming back to it, and the orders it filled or held for pickup (cycle time,
  on-time readiness).

A SKU counts as carried when the source has a figure for it at the node or recorded a
movement of it there. A day is out of stock for a SKU when it closed with nothing on hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from gateway.config import CycleCountSettings, KpiSettings, PickingSettings
from gateway.domain import ItemMaster, Location, SourceSystem
from gateway.domain import kpis as kpi
from gateway.domain.kpis import DailyFigure
from gateway.domain.orders import Order, OrderStatus
from gateway.errors import BadUserInput
from gateway.ports import Clock, ErpPort, PosPort, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService
from gateway.services.catalog import CatalogService
from gateway.services.replenishment import ReplenishmentService

PAGE = 100
DONE = (OrderStatus.SHIPPED, OrderStatus.READY_FOR_PICKUP)
Moves = dict[str, list[tuple[datetime, int]]]  # per SKU: (when, units in + or out -)


@dataclass(frozen=True, slots=True)
class NodeKpis:
    location_id: str
    first_day: date
    last_day: date
    currency: str
    skus_carried: int
    units_sold: int
    units_on_hand: int  # at the period's close
    sales_value: Decimal  # at the channel's price
    shrink_value: Decimal  # at cost
    stockout_rate: Decimal | None
    sell_through: Decimal | None
    days_of_supply: Decimal | None
    shrink_rate: Decimal | None
    gmroi: Decimal | None
    inventory_accuracy: Decimal | None
    return_rate: Decimal | None
    order_cycle_hours: Decimal | None
    on_time_pickup: Decimal | None
    days: tuple[DailyFigure, ...]


class KpiService:
    def __init__(
        self,
        catalog: CatalogService,
        erp: ErpPort,
        pos: PosPort,
        availability: AvailabilityService,
        replenishment: ReplenishmentService,
        uow: UnitOfWorkFactory,
        clock: Clock,
        settings: KpiSettings,
        counting: CycleCountSettings,
        picking: PickingSettings,
    ) -> None:
        self._catalog = catalog
        self._erp = erp
        self._pos = pos
        self._availability = availability
        self._replenishment = replenishment
        self._uow = uow
        self._clock = clock
        self._settings = settings
        self._counting = counting
        self._picking = picking

    async def figures(self, location_id: str, first: date, last: date) -> NodeKpis:
        now = self._clock.now()
        if last < first:
            raise BadUserInput("the period ends before it begins", field="to")
        if (last - first).days + 1 > self._settings.max_days:
            raise BadUserInput(
                f"a period is at most {self._settings.max_days} days (KPIS__MAX_DAYS)",
                field="to",
            )
        start = datetime.combine(first, time(), UTC)
        if start >= now:
            raise BadUserInput("the period has not begun", field="from")
        end = min(datetime.combine(last + timedelta(days=1), time(), UTC), now)
        node = await self._availability.location(location_id)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        days = [d for d in days if datetime.combine(d, time(), UTC) < end]
        closes = [min(datetime.combine(d + timedelta(days=1), time(), UTC), end) for d in days]

        skus = await self._skus()
        items = await self._erp.items_by_sku(skus)
        current, moved, sold = await self._source(node, skus, start)
        carried = sorted({*current, *moved})
        closing = {
            sku: kpi.figures_at(current.get(sku, 0), moved.get(sku, ()), closes) for sku in carried
        }
        sales = {
            sku: [(at, units) for at, units in sold.get(sku, ()) if start < at <= end]
            for sku in carried
        }
        units_sold = sum(units for made in sales.values() for _, units in made)
        on_hand = sum(max(figures[-1], 0) for figures in closing.values() if figures)
        cost = {sku: c for sku in carried if (c := _cost(items, sku)) is not None}
        price = await self._prices(node, carried, items)
        sales_value = sum(
            (
                Decimal(units) * (price[sku] or 0)
                for sku, made in sales.items()
                for _, units in made
            ),
            Decimal(0),
        )
        cost_of_sales = sum(
            (Decimal(units) * cost.get(sku, 0) for sku, made in sales.items() for _, units in made),
            Decimal(0),
        )
        per_day = [
            DailyFigure(
                day,
                sum(u for made in sales.values() for at, u in made if _day_of(at, closes) == i),
                sum(1 for figures in closing.values() if figures[i] <= 0),
            )
            for i, day in enumerate(days)
        ]

        async with self._uow(read_only=True) as uow:
            counts = await uow.counts.between(node.id, start, end)
            returned = await uow.returns.units_returned(node.id, start, end)
            orders = await uow.orders.of_node(node.id, start, end)
        counted = [
            (line.counted, line.reckoning.book_at_count)
            for count in counts
            for line in count.lines
            if line.reckoning.book_at_count is not None
        ]
        shrink = sum(
            (-line.value for c in counts for line in c.lines if line.value and line.value < 0),
            Decimal(0),
        )
        return NodeKpis(
            location_id=node.id,
            first_day=first,
            last_day=last,
            currency=_currency(items),
            skus_carried=len(carried),
            units_sold=units_sold,
            units_on_hand=on_hand,
            sales_value=sales_value,
            shrink_value=shrink,
            stockout_rate=kpi.stockout_rate(
                sum(d.skus_out_of_stock for d in per_day), len(carried) * len(days)
            ),
            sell_through=kpi.sell_through(units_sold, on_hand),
            days_of_supply=kpi.days_of_supply(on_hand, units_sold, len(days)),
            shrink_rate=kpi.shrink_rate(shrink, sales_value),
            gmroi=kpi.gmroi(sales_value, cost_of_sales, kpi.average_inventory_cost(closing, cost)),
            inventory_accuracy=kpi.inventory_accuracy(
                counted, self._counting.accuracy_tolerance_units
            ),
            return_rate=kpi.return_rate(returned, units_sold),
            order_cycle_hours=kpi.order_cycle_hours(_cycles(orders)),
            on_time_pickup=kpi.on_time_pickup(
                _pickups(orders, node.id, self._picking.pickup_ready_hours), now
            ),
            days=tuple(per_day),
        )

    async def _prices(
        self, node: Location, skus: list[str], items: dict[str, ItemMaster]
    ) -> dict[str, Decimal | None]:
        """What each SKU sells for there: a store's Square price, else the ERP's list price."""
        variations = (
            await self._pos.variations_by_sku(skus) if node.source is SourceSystem.POS else {}
        )
        prices: dict[str, Decimal | None] = {}
        for sku in skus:
            variation = variations.get(sku)
            at_store = None if variation is None else variation.price_at(node.source_ref)
            prices[sku] = at_store.amount if at_store is not None else _price(items, sku)
        return prices

    async def _skus(self) -> list[str]:
        """Every SKU of the catalogue but kits (their components are what is stocked)."""
        skus: list[str] = []
        offset = 0
        while True:
            listed = await self._catalog.page(offset=offset, limit=PAGE, search=None, category=None)
            kits = await self._availability.kits(listed.skus)
            skus += [sku for sku in listed.skus if sku not in kits]
            offset = listed.next_offset
            if not listed.has_next_page:
                return skus

    async def _source(
        self, node: Location, skus: list[str], since: datetime
    ) -> tuple[dict[str, int], Moves, Moves]:
        """The source's figure of each SKU now, its movements since, and its sales since."""
        refs = [node.source_ref]
        if node.source is SourceSystem.POS:
            readings, movements = await asyncio.gather(
                self._pos.stock(skus, refs), self._pos.stock_movements(skus, refs, since)
            )
        else:
            readings, movements = await asyncio.gather(
                self._erp.stock(skus), self._erp.stock_movements(skus, refs, since)
            )
        sold = await self._replenishment.sold(node, skus, since)
        current = {
            r.sku: r.on_hand - r.reserved if node.source is SourceSystem.POS else r.on_hand
            for r in readings
            if r.location_ref.casefold() == node.source_ref.casefold()
        }
        moved: Moves = {}
        for movement in movements:
            moved.setdefault(movement.sku, []).append((movement.at, movement.units))
        return current, moved, sold


def _cost(items: dict[str, ItemMaster], sku: str) -> Decimal | None:
    item = items.get(sku)
    return None if item is None or item.cost is None else item.cost.amount


def _price(items: dict[str, ItemMaster], sku: str) -> Decimal | None:
    item = items.get(sku)
    return None if item is None or item.list_price is None else item.list_price.amount


def _currency(items: dict[str, ItemMaster]) -> str:
    for item in items.values():
        if item.list_price is not None:
            return item.list_price.currency
    return "EUR"


def _day_of(at: datetime, closes: Sequence[datetime]) -> int:
    """The index of the day a moment falls in (the first whose close is not before it)."""
    return next((i for i, close in enumerate(closes) if at <= close), len(closes) - 1)


def _cycles(orders: Sequence[Order]) -> list[tuple[datetime, datetime]]:
    """(placed, first shipped or ready) of the orders that got there."""
    done = []
    for order in orders:
        reached = [e.at for e in order.events if e.to_status in DONE]
        if reached:
            done.append((order.created_at, min(reached)))
    return done


def _pickups(
    orders: Sequence[Order], location_id: str, ready_hours: float
) -> list[tuple[datetime | None, datetime]]:
    """(ready at, promised by) of the node's pickup orders not cancelled before ready."""
    promised_after = timedelta(hours=ready_hours)
    pickups = []
    for order in orders:
        if order.pickup_location_id != location_id:
            continue
        ready = [e.at for e in order.events if e.to_status is OrderStatus.READY_FOR_PICKUP]
        if not ready and order.status is OrderStatus.CANCELLED:
            continue
        pickups.append((min(ready) if ready else None, order.created_at + promised_after))
    return pickups
