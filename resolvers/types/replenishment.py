from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from gateway.services.replenishment import ReplenishmentHint as Hint
from resolvers.types.common import PageInfo
from resolvers.types.location import Location


@strawberry.type(
    description="When a node should reorder a SKU and how much: average daily demand d and "
    "its deviation sd over the window, lead time L, safety stock SS = z(serviceLevel) * "
    "sqrt(L * sd^2 + d^2 * sdL^2), reorder point d * L + SS; below it (available plus "
    "incoming at or under it), an order up to ROP + d * reviewDays in whole cases, at least "
    "the supplier's minimum. Units round up."
)
class ReplenishmentHint:
    sku: str
    location: Location
    window_start: datetime = strawberry.field(description="The first day of the demand window.")
    daily_demand: list[int] = strawberry.field(
        description="Units sold per day over the window, oldest first, as the node's source "
        "recorded them leaving: Square's sales at a store, ERPNext's deliveries at a warehouse."
    )
    average_daily_demand: Decimal
    demand_std_dev: Decimal = strawberry.field(description="Sample standard deviation.")
    supplier: str | None = strawberry.field(description="The ERP item's first supplier.")
    lead_time_days: int
    case_size: int
    min_order_qty: int
    review_days: int = strawberry.field(description="How many days an order should last.")
    service_level: float = strawberry.field(
        description="The chance of not running out while an order is on its way."
    )
    safety_stock: int
    reorder_point: int
    order_up_to: int
    available: int = strawberry.field(description="Available to promise at the node now.")
    incoming: int = strawberry.field(
        description="On order from vendors, and returns on their way to be restocked."
    )
    position: int = strawberry.field(description="available + incoming.")
    below_reorder_point: bool
    suggested_order: int = strawberry.field(description="0 when no order is needed.")
    days_of_supply: Decimal | None = strawberry.field(
        description="available / average daily demand; null when nothing sells."
    )

    @classmethod
    def from_domain(cls, got: Hint) -> ReplenishmentHint:
        model, terms = got.hint, got.terms
        return cls(
            sku=got.sku,
            location=Location.from_domain(got.location),
            window_start=got.window_start,
            daily_demand=list(got.daily_demand),
            average_daily_demand=model.average_daily_demand,
            demand_std_dev=model.demand_stdev,
            supplier=got.supplier,
            lead_time_days=terms.lead_time_days,
            case_size=terms.case_size,
            min_order_qty=terms.min_order_qty,
            review_days=terms.review_days,
            service_level=got.service_level,
            safety_stock=model.safety_stock,
            reorder_point=model.reorder_point,
            order_up_to=model.order_up_to,
            available=got.available,
            incoming=got.incoming,
            position=model.position,
            below_reorder_point=model.below_reorder_point,
            suggested_order=model.suggested_order,
            days_of_supply=model.days_of_supply,
        )


@strawberry.type
class ReplenishmentEdge:
    cursor: str
    node: ReplenishmentHint


@strawberry.type
class ReplenishmentConnection:
    edges: list[ReplenishmentEdge]
    page_info: PageInfo


@strawberry.input
class ReplenishmentFilter:
    below_reorder_point: bool | None = strawberry.field(
        default=None, description="Only SKUs at or below (true) or above (false) it."
    )
    category: str | None = None
    supplier: str | None = None
