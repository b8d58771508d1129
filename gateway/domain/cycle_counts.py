"""Cycle counts: which SKUs a node counts on a day, and what a count taken in the past means
now.

**ABC classes.** SKUs ranked by the value they move in a year (units x cost), largest first:
those making up the first 80 % of the value are A, the next 15 % B, the rest C (the share
boundaries are configurable). A SKU that moves nothing is C.

**The plan.** Each class is counted on a cycle (A every 30 days, B every 90, C every 365, or
as configured): its SKUs, in a fixed order, are spread evenly over the days of the cycle, so
each is counted exactly once per cycle and every day's list is short (at most one more than
the class's size over its cycle length).

**A count in the past.** A count says what was on the shelf at ``counted_at``. The book
figure to compare it with is the source's figure as it was then: today's figure less every
movement recorded since (sales and receipts after the count are not the count's business).
The variance is counted less that. Correcting the source keeps those later movements: the
new figure is today's plus the variance, never the counted figure itself. A count the
source recorded after this one stands: the older count changes nothing (SUPERSEDED).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from gateway.domain.catalog import Money

# Every cycle starts on this day (a Monday): the plan of a day depends on nothing else.
EPOCH = date(2026, 1, 5)


class AbcClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"


DEFAULT_CYCLE_DAYS: Mapping[AbcClass, int] = {AbcClass.A: 30, AbcClass.B: 90, AbcClass.C: 365}


def abc_classes(
    yearly_value: Mapping[str, Decimal],
    a_share: Decimal = Decimal("0.80"),
    b_share: Decimal = Decimal("0.95"),
) -> dict[str, AbcClass]:
    """A while the value ranked before a SKU is under ``a_share`` of the total, B while
    under ``b_share``, else C; ties in value ranked by SKU."""
    if not Decimal(0) < a_share <= b_share <= Decimal(1):
        raise ValueError("shares must satisfy 0 < A <= B <= 1")
    if any(value < 0 for value in yearly_value.values()):
        raise ValueError("a yearly value is not negative")
    total = sum(yearly_value.values(), Decimal(0))
    ranked = sorted(yearly_value, key=lambda sku: (-yearly_value[sku], sku))
    classes: dict[str, AbcClass] = {}
    before = Decimal(0)
    for sku in ranked:
        value = yearly_value[sku]
        if value == 0 or total == 0:
            classes[sku] = AbcClass.C
        elif before < a_share * total:
            classes[sku] = AbcClass.A
        elif before < b_share * total:
            classes[sku] = AbcClass.B
        else:
            classes[sku] = AbcClass.C
        before += value
    return classes


def count_plan(
    classes: Mapping[str, AbcClass],
    day: date,
    cycle_days: Mapping[AbcClass, int] = DEFAULT_CYCLE_DAYS,
) -> list[str]:
    """The SKUs to count on ``day``: in each class, SKU i of n (in SKU order) falls on day
    ``i * cycle // n`` of the class's cycle."""
    due: list[str] = []
    for abc in AbcClass:
        cycle = cycle_days[abc]
        if cycle < 1:
            raise ValueError("a cycle lasts a day at least")
        members = sorted(sku for sku, c in classes.items() if c is abc)
        today = (day - EPOCH).days % cycle
        due += [sku for i, sku in enumerate(members) if i * cycle // len(members) == today]
    return due


def book_at_count(current: int, movements_since: Iterable[int]) -> int:
    """The source's figure at the count: today's less every movement recorded after it
    (a sale is -units, a receipt +units)."""
    return current - sum(movements_since)


def corrected(current: int, counted: int, book_at: int) -> int:
    """The figure the source should hold now: today's moved by the count's variance, so the
    movements recorded after the count stay."""
    return current + (counted - book_at)


@dataclass(frozen=True, slots=True)
class StockMovement:
    """One movement a node's source recorded: ``units`` in (+) or out (-); ``counted``, when
    the movement was a count (Square PHYSICAL_COUNT, ERPNext Stock Reconciliation), the
    figure it set."""

    sku: str
    location_ref: str
    at: datetime
    units: int
    counted: int | None = None


class CountOutcome(StrEnum):
    MATCHED = "MATCHED"  # the count agrees with the book at its time: nothing to write
    CORRECTED = "CORRECTED"  # the source is moved by the variance
    SUPERSEDED = "SUPERSEDED"  # the source recorded a later count, which stands


@dataclass(frozen=True, slots=True)
class Reckoning:
    outcome: CountOutcome
    book_at_count: int | None  # None when superseded: a later count hides it
    variance: int | None  # counted less the book (below zero: shrink; above: a gain)
    corrected_to: int | None  # the source's figure once the correction lands


def reckon(counted: int, current: int, since: Sequence[StockMovement]) -> Reckoning:
    """A count of ``counted`` units, against the source's ``current`` figure and the
    movements it recorded after the count."""
    if counted < 0:
        raise ValueError("a count is not negative")
    if any(movement.counted is not None for movement in since):
        return Reckoning(CountOutcome.SUPERSEDED, None, None, None)
    book = book_at_count(current, (movement.units for movement in since))
    variance = counted - book
    outcome = CountOutcome.MATCHED if variance == 0 else CountOutcome.CORRECTED
    return Reckoning(outcome, book, variance, corrected(current, counted, book))


def worth(variance: int, unit_cost: Decimal | None) -> Decimal | None:
    """The variance at cost (negative: value lost); None when the cost is not known."""
    return None if unit_cost is None else unit_cost * variance


def needs_owner(variance: int, value: Decimal | None, units_over: int, value_over: Decimal) -> bool:
    """A variance worth a discrepancy: more units than ``units_over`` either way, or more
    value at cost than ``value_over``."""
    return abs(variance) > units_over or (value is not None and abs(value) > value_over)


@dataclass(frozen=True, slots=True)
class CountedLine:
    sku: str
    counted: int
    reckoning: Reckoning
    unit_cost: Money | None  # the ERP's cost when counted
    discrepancy_id: str | None = None  # the COUNT_VARIANCE it opened or updated

    @property
    def value(self) -> Decimal | None:
        """The variance at cost (negative: value lost)."""
        variance = self.reckoning.variance
        if variance is None or self.unit_cost is None:
            return None
        return worth(variance, self.unit_cost.amount)


@dataclass(frozen=True, slots=True)
class RecordedCount:
    """A cycle count as recorded: who counted what at a node, when, and what it meant."""

    id: str
    location_id: str
    counted_at: datetime
    counted_by: str
    recorded_at: datetime
    lines: tuple[CountedLine, ...]
