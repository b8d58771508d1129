"""The store KPIs a team reviews weekly, each a plain function of figures the gateway has,
with its definition here and nowhere else.

Every ratio is a Decimal rounded half up to four places (a share: 0.0512 is 5.12 %), or
None when its denominator is zero: "no sales" is not "0 % returned". Times are in hours.

* stockout rate: the share of SKU-days a node had nothing to promise;
* sell-through: units sold over units sold plus units left (what of what was there sold);
* days of supply: units on hand over the average units sold per day;
* shrink rate: the value of stock lost (counted below the book figure) over sales value;
* GMROI: gross margin over the average cost of the inventory held;
* inventory accuracy: the share of counted SKUs whose count was within tolerance of the
  book figure (tolerance in units: 0 means exact);
* return rate: units returned over units sold;
* order cycle time: the mean hours from an order placed to shipped or ready for pickup;
* on-time pickup readiness: the share of pickup orders ready by the time promised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class KpiDefinition:
    label: str
    unit: Literal["share", "days", "hours", "ratio"]
    definition: str


@dataclass(frozen=True, slots=True)
class DailyFigure:
    """One day at a node: what its source recorded sold, and the SKUs it carries that
    closed the day with nothing on hand."""

    day: date
    units_sold: int
    skus_out_of_stock: int


# Said once: the schema's field descriptions and the weekly page both read these.
DEFINITIONS: dict[str, KpiDefinition] = {
    "stockout_rate": KpiDefinition(
        "Stockout rate",
        "share",
        "The share of SKU-days (SKUs carried x days) that closed with nothing on hand.",
    ),
    "sell_through": KpiDefinition(
        "Sell-through",
        "share",
        "Units sold over units sold plus units on hand at the period's close.",
    ),
    "days_of_supply": KpiDefinition(
        "Days of supply",
        "days",
        "Units on hand at the close over the period's average units sold per day.",
    ),
    "shrink_rate": KpiDefinition(
        "Shrink",
        "share",
        "The value the period's cycle counts found short, at cost (gains do not offset it), "
        "over sales value (at the channel's price).",
    ),
    "gmroi": KpiDefinition(
        "GMROI",
        "ratio",
        "Gross margin (sales value less the cost of the units sold) over the average "
        "inventory at cost (each day's closing units at cost, averaged).",
    ),
    "inventory_accuracy": KpiDefinition(
        "Inventory accuracy",
        "share",
        "The share of the period's counted lines within CYCLE_COUNTS__ACCURACY_TOLERANCE_UNITS "
        "of the book at the count's time.",
    ),
    "return_rate": KpiDefinition(
        "Return rate",
        "share",
        "Units of the returns requested in the period coming back to the node over units sold "
        "there.",
    ),
    "order_cycle_hours": KpiDefinition(
        "Order cycle time",
        "hours",
        "The mean hours from an order placed in the period (one the node fills or holds for "
        "pickup) to shipped or ready for pickup.",
    ),
    "on_time_pickup": KpiDefinition(
        "On-time pickup readiness",
        "share",
        "The share of the node's pickup orders placed in the period and due by now that were "
        "ready within PICKING__PICKUP_READY_HOURS of being placed (one not ready by then is late).",
    ),
}


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(FOUR_PLACES, ROUND_HALF_UP)


def stockout_rate(days_out: int, sku_days: int) -> Decimal | None:
    """``days_out`` of the ``sku_days`` (SKUs x days looked at) had nothing to promise."""
    _not_negative(days_out, sku_days)
    if days_out > sku_days:
        raise ValueError("more days out of stock than days looked at")
    return ratio(days_out, sku_days)


def sell_through(units_sold: int, units_left: int) -> Decimal | None:
    _not_negative(units_sold, units_left)
    return ratio(units_sold, units_sold + units_left)


def days_of_supply(on_hand: int, units_sold: int, days: int) -> Decimal | None:
    """How many days what is on hand lasts at the period's average daily sales."""
    _not_negative(on_hand, units_sold, days)
    if units_sold == 0 or days == 0:
        return None
    return ratio(Decimal(on_hand) * days, units_sold)


def shrink_rate(shrink_value: Decimal, sales_value: Decimal) -> Decimal | None:
    """``shrink_value``: what the units counted short were worth at cost (gains do not
    offset it: a unit found is not a unit that was not lost)."""
    _not_negative(shrink_value, sales_value)
    return ratio(shrink_value, sales_value)


def gmroi(
    sales_value: Decimal, cost_of_sales: Decimal, average_inventory_cost: Decimal
) -> Decimal | None:
    """Gross margin (sales less their cost) earned per unit of money held in inventory."""
    _not_negative(sales_value, cost_of_sales, average_inventory_cost)
    return ratio(sales_value - cost_of_sales, average_inventory_cost)


def inventory_accuracy(counts: Iterable[tuple[int, int]], tolerance: int = 0) -> Decimal | None:
    """(counted, book) per counted SKU; the share within ``tolerance`` units of the book."""
    if tolerance < 0:
        raise ValueError("a tolerance is not negative")
    pairs = list(counts)
    within = sum(1 for counted, book in pairs if abs(counted - book) <= tolerance)
    return ratio(within, len(pairs))


def return_rate(units_returned: int, units_sold: int) -> Decimal | None:
    _not_negative(units_returned, units_sold)
    return ratio(units_returned, units_sold)


def order_cycle_hours(orders: Sequence[tuple[datetime, datetime]]) -> Decimal | None:
    """(placed, shipped or ready) per order done: the mean hours between, to two places."""
    if not orders:
        return None
    spans = [done - placed for placed, done in orders]
    if any(span < timedelta(0) for span in spans):
        raise ValueError("an order done before it was placed")
    total = sum(spans, timedelta(0))
    hours = Decimal(total.total_seconds()) / 3600 / len(spans)
    return hours.quantize(Decimal("0.01"), ROUND_HALF_UP)


def on_time_pickup(
    pickups: Iterable[tuple[datetime | None, datetime]], now: datetime
) -> Decimal | None:
    """(ready at, promised by) per pickup order due by ``now``: the share ready in time.
    One not ready yet counts as late once its promised time has passed; one whose promised
    time is still ahead is not counted."""
    due = [(ready, promised) for ready, promised in pickups if promised <= now]
    on_time = sum(1 for ready, promised in due if ready is not None and ready <= promised)
    return ratio(on_time, len(due))


def figures_at(
    current: int, movements: Iterable[tuple[datetime, int]], moments: Sequence[datetime]
) -> list[int]:
    """A source's figure at each of ``moments``: today's less every movement (when, units:
    in +, out -) it recorded after that moment."""
    moved = sorted(movements)
    return [current - sum(units for at, units in moved if at > moment) for moment in moments]


def average_inventory_cost(
    daily_figures: Mapping[str, Sequence[int]], unit_cost: Mapping[str, Decimal]
) -> Decimal:
    """The mean over the days of what was on hand at cost (a negative figure holds
    nothing); SKUs of no known cost count nothing."""
    days = {len(figures) for figures in daily_figures.values()}
    if not days or days == {0}:
        return Decimal(0)
    if len(days) > 1:
        raise ValueError("every SKU needs a figure for each day")
    (count,) = days
    held = sum(
        (
            Decimal(max(figure, 0)) * unit_cost[sku]
            for sku, figures in daily_figures.items()
            if sku in unit_cost
            for figure in figures
        ),
        Decimal(0),
    )
    return held / count


def _not_negative(*figures: Decimal | int) -> None:
    if any(figure < 0 for figure in figures):
        raise ValueError("a count or an amount is not negative")
