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

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

FOUR_PLACES = Decimal("0.0001")


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


def _not_negative(*figures: Decimal | int) -> None:
    if any(figure < 0 for figure in figures):
        raise ValueError("a count or an amount is not negative")
