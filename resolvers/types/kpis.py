"""A node's KPIs over a period, each with its definition (gateway.domain.kpis)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import strawberry

from gateway.domain import Money as DomainMoney
from gateway.domain.kpis import DEFINITIONS, DailyFigure
from gateway.services import kpis as service
from resolvers.types.common import Money


@strawberry.type(description="One day of the period at the node.")
class KpiDay:
    day: datetime.date
    units_sold: int = strawberry.field(description="What the node's source recorded sold.")
    skus_out_of_stock: int = strawberry.field(
        description="SKUs the node carries that closed the day with nothing on hand."
    )

    @classmethod
    def from_domain(cls, day: DailyFigure) -> KpiDay:
        return cls(day=day.day, units_sold=day.units_sold, skus_out_of_stock=day.skus_out_of_stock)


def _kpi(key: str) -> Any:
    """A KPI's field, described by its definition."""
    kpi = DEFINITIONS[key]
    return strawberry.field(description=f"{kpi.label}: {kpi.definition}")


RATIO = "A Decimal to four places (0.0512 is 5.12 %); null when its denominator is zero."


@strawberry.type(
    description="A node's KPIs over whole UTC days, from its source's figures and movements "
    "(Square at a store, ERPNext at a warehouse), the ERP's cost, the channel's price, and the "
    "gateway's own counts, returns and orders. " + RATIO
)
class NodeKpis:
    location_id: strawberry.ID
    from_: datetime.date = strawberry.field(name="from")
    to: datetime.date
    skus_carried: int = strawberry.field(
        description="SKUs the source has a figure for at the node or moved there in the period."
    )
    units_sold: int
    units_on_hand: int = strawberry.field(description="At the period's close.")
    sales_value: Money = strawberry.field(
        description="Units sold at the channel's price: a store's Square price, else the ERP's "
        "list price."
    )
    shrink_value: Money = strawberry.field(
        description="Units counted short in the period's cycle counts, at cost (gains do not "
        "offset it)."
    )
    stockout_rate: Decimal | None = _kpi("stockout_rate")
    sell_through: Decimal | None = _kpi("sell_through")
    days_of_supply: Decimal | None = _kpi("days_of_supply")
    shrink_rate: Decimal | None = _kpi("shrink_rate")
    gmroi: Decimal | None = _kpi("gmroi")
    inventory_accuracy: Decimal | None = _kpi("inventory_accuracy")
    return_rate: Decimal | None = _kpi("return_rate")
    order_cycle_hours: Decimal | None = _kpi("order_cycle_hours")
    on_time_pickup: Decimal | None = _kpi("on_time_pickup")
    days: list[KpiDay]

    @classmethod
    def from_domain(cls, figures: service.NodeKpis) -> NodeKpis:
        currency = figures.currency
        return cls(
            location_id=strawberry.ID(figures.location_id),
            from_=figures.first_day,
            to=figures.last_day,
            skus_carried=figures.skus_carried,
            units_sold=figures.units_sold,
            units_on_hand=figures.units_on_hand,
            sales_value=Money.of(DomainMoney(figures.sales_value, currency)),
            shrink_value=Money.of(DomainMoney(figures.shrink_value, currency)),
            stockout_rate=figures.stockout_rate,
            sell_through=figures.sell_through,
            days_of_supply=figures.days_of_supply,
            shrink_rate=figures.shrink_rate,
            gmroi=figures.gmroi,
            inventory_accuracy=figures.inventory_accuracy,
            return_rate=figures.return_rate,
            order_cycle_hours=figures.order_cycle_hours,
            on_time_pickup=figures.on_time_pickup,
            days=[KpiDay.from_domain(day) for day in figures.days],
        )
