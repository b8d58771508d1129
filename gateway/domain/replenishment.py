"""Replenishment hints: when a node should reorder a SKU, and how much.

The usual normal-approximation model, per SKU and node:

* demand: units sold per day over a window, oldest first (days without a sale count as 0);
  ``d`` its mean, ``sd`` its sample standard deviation;
* lead time ``L`` days from order to shelf, with standard deviation ``sL`` (0 when the
  supplier is punctual);
* safety stock for a cycle service level ``p`` (the chance of not running out while an
  order is on its way): ``SS = z(p) * sqrt(L * sd^2 + d^2 * sL^2)``, with ``z`` the standard
  normal quantile (1.645 for 95 %);
* reorder point ``ROP = d * L + SS``: reorder once the stock position (available plus what
  is already coming) is at or below it;
* an order brings the position up to ``ROP + d * R``, ``R`` the review period in days (how
  long an order should last), rounded up to whole cases and to at least the supplier's
  minimum;
* days of supply: what is available divided by ``d``.

Units are whole: safety stock, reorder point and order quantities are rounded up (a
fraction of a unit short is a unit short). Rates (mean and deviation of daily demand, days
of supply) are Decimals to two places. The arithmetic in between is floating point, as the
normal quantile is; nothing here is money.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SupplyTerms:
    """What the supplier and the store's routine allow (ERPNext Item fields where it has
    them: lead_time_days, min_order_qty, the purchase unit's conversion factor)."""

    lead_time_days: int
    lead_time_stdev_days: float = 0.0
    min_order_qty: int = 0
    case_size: int = 1
    review_days: int = 7

    def __post_init__(self) -> None:
        if self.lead_time_days < 0 or self.lead_time_stdev_days < 0:
            raise ValueError("a lead time is not negative")
        if self.case_size < 1 or self.review_days < 1 or self.min_order_qty < 0:
            # An order lasts a day at least: else a node at its reorder point would be told
            # to order nothing.
            raise ValueError("case size and review period at least 1, minimum not negative")


@dataclass(frozen=True, slots=True)
class DemandStats:
    mean: float
    stdev: float

    @classmethod
    def of(cls, daily: Sequence[int]) -> DemandStats:
        """Mean and sample standard deviation of units per day; none sold: zero."""
        if any(units < 0 for units in daily):
            raise ValueError("units sold per day are not negative")
        n = len(daily)
        if n == 0:
            return cls(0.0, 0.0)
        mean = sum(daily) / n
        if n == 1:
            return cls(mean, 0.0)
        variance = sum((units - mean) ** 2 for units in daily) / (n - 1)
        return cls(mean, math.sqrt(variance))


@dataclass(frozen=True, slots=True)
class Hint:
    average_daily_demand: Decimal
    demand_stdev: Decimal
    safety_stock: int
    reorder_point: int
    order_up_to: int  # the position an order brings it to: ROP plus the review period's demand
    position: int  # available plus incoming
    below_reorder_point: bool
    suggested_order: int  # 0 when the position is above the reorder point
    days_of_supply: Decimal | None  # None when nothing sells


def daily_units(sold: Iterable[tuple[datetime, int]], start: datetime, days: int) -> list[int]:
    """Units per day over ``days`` whole days from ``start`` (oldest first), from (when,
    units) pairs; what falls outside the window is left out."""
    buckets = [0] * days
    for moment, units in sold:
        day = (moment - start) // timedelta(days=1)
        if 0 <= day < days:
            buckets[day] += units
    return buckets


def z_for(service_level: float) -> float:
    """The standard normal quantile of a cycle service level in (0.5, 1)."""
    if not 0.5 <= service_level < 1:
        raise ValueError("a service level is between 0.5 and 1 (1 itself needs endless stock)")
    return NormalDist().inv_cdf(service_level)


def safety_stock(demand: DemandStats, terms: SupplyTerms, service_level: float) -> int:
    spread = math.sqrt(
        terms.lead_time_days * demand.stdev**2 + demand.mean**2 * terms.lead_time_stdev_days**2
    )
    return _units_up(z_for(service_level) * spread)


def order_quantity(shortfall: int, terms: SupplyTerms) -> int:
    """At least ``shortfall`` units, at least the supplier's minimum, in whole cases; none
    for no shortfall."""
    if shortfall <= 0:
        return 0
    wanted = max(shortfall, terms.min_order_qty)
    return -(-wanted // terms.case_size) * terms.case_size


def hint(
    daily: Sequence[int],
    available: int,
    incoming: int,
    terms: SupplyTerms,
    service_level: float,
) -> Hint:
    demand = DemandStats.of(daily)
    reserve = safety_stock(demand, terms, service_level)
    reorder_point = _units_up(demand.mean * terms.lead_time_days) + reserve
    position = available + incoming
    below = position <= reorder_point and demand.mean > 0
    order_up_to = reorder_point + _units_up(demand.mean * terms.review_days)
    return Hint(
        average_daily_demand=_rate(demand.mean),
        demand_stdev=_rate(demand.stdev),
        safety_stock=reserve,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        position=position,
        below_reorder_point=below,
        suggested_order=order_quantity(order_up_to - position, terms) if below else 0,
        days_of_supply=None if demand.mean == 0 else _rate(max(available, 0) / demand.mean),
    )


def _units_up(value: float) -> int:
    # Rounded up, but a value a float's error above a whole number is that number.
    return math.ceil(round(value, 9))


def _rate(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(TWO_PLACES, ROUND_HALF_UP)
