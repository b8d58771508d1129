"""Replenishment hints: a hand-worked week, and for any demand and terms the suggestion
covers the gap to the reorder point in whole cases above the supplier's minimum, and more
safety is never less stock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.replenishment import (
    DemandStats,
    SupplyTerms,
    hint,
    order_quantity,
    safety_stock,
    z_for,
)

WEEK = [4, 6, 5, 5, 3, 7, 5]  # 35 units: mean 5, sample variance 10/6, sd 1.29
TERMS = SupplyTerms(lead_time_days=4, min_order_qty=24, case_size=12, review_days=7)


def test_a_hand_worked_week():
    # SS = 1.645 * sqrt(4 * 10/6) = 1.645 * 2.582 = 4.25 -> 5; ROP = 5 * 4 + 5 = 25.
    # 18 on the shelf is below it; order up to 25 + 5 * 7 = 60: 42 short, above the minimum
    # of 24, in cases of 12: 48. 18 units last 3.6 days.
    got = hint(WEEK, available=18, incoming=0, terms=TERMS, service_level=0.95)
    assert got.average_daily_demand == Decimal("5.00")
    assert got.demand_stdev == Decimal("1.29")
    assert (got.safety_stock, got.reorder_point, got.order_up_to) == (5, 25, 60)
    assert got.below_reorder_point and got.suggested_order == 48
    assert got.days_of_supply == Decimal("3.60")


def test_a_late_supplier_needs_more_safety():
    # With a lead time varying by a day: sqrt(4 * 10/6 + 25 * 1) = 5.63; x 1.645 = 9.26 -> 10.
    late = SupplyTerms(lead_time_days=4, lead_time_stdev_days=1.0)
    assert safety_stock(DemandStats.of(WEEK), late, 0.95) == 10


def test_what_is_already_coming_counts_and_nothing_selling_asks_for_nothing():
    covered = hint(WEEK, available=10, incoming=24, terms=TERMS, service_level=0.95)
    assert covered.position == 34 and not covered.below_reorder_point
    assert covered.suggested_order == 0
    idle = hint([0] * 28, available=0, incoming=0, terms=TERMS, service_level=0.95)
    assert idle.suggested_order == 0 and idle.days_of_supply is None


@pytest.mark.parametrize("level", [0.4, 1.0, 1.5])
def test_a_service_level_out_of_range_is_refused(level):
    with pytest.raises(ValueError):
        z_for(level)


terms = st.builds(
    SupplyTerms,
    lead_time_days=st.integers(0, 60),
    lead_time_stdev_days=st.floats(0, 10),
    min_order_qty=st.integers(0, 500),
    case_size=st.integers(1, 48),
    review_days=st.integers(1, 30),
)
days = st.lists(st.integers(0, 200), min_size=1, max_size=90)


@given(days, st.integers(-20, 2000), st.integers(0, 500), terms, st.floats(0.5, 0.999))
def test_any_suggestion_covers_the_gap_in_whole_cases_above_the_minimum(
    daily, available, incoming, supply, level
):
    got = hint(daily, available, incoming, supply, level)
    if got.suggested_order:
        assert got.below_reorder_point
        assert got.suggested_order % supply.case_size == 0
        assert got.suggested_order >= supply.min_order_qty
        assert got.position + got.suggested_order >= got.order_up_to > got.reorder_point
        # One case fewer would fall short of the order-up-to level or of the minimum.
        needed = max(supply.min_order_qty, got.order_up_to - got.position)
        assert got.suggested_order - supply.case_size < needed
    else:
        assert not got.below_reorder_point
    assert got.reorder_point >= got.safety_stock >= 0


@given(days, terms, st.floats(0.5, 0.99), st.floats(0.5, 0.99))
def test_more_service_is_never_less_safety_stock(daily, supply, one, other):
    low, high = sorted((one, other))
    demand = DemandStats.of(daily)
    assert safety_stock(demand, supply, low) <= safety_stock(demand, supply, high)


@given(st.integers(0, 500), terms)
def test_order_quantity_is_the_least_whole_cases_covering_the_shortfall_and_the_minimum(
    shortfall, supply
):
    quantity = order_quantity(shortfall, supply)
    if shortfall == 0:
        assert quantity == 0
        return
    wanted = max(shortfall, supply.min_order_qty)
    assert quantity >= wanted and quantity % supply.case_size == 0
    assert quantity - supply.case_size < wanted


@given(st.integers(0, 200), st.integers(1, 60))
def test_steady_demand_from_a_punctual_supplier_needs_no_safety_stock(units, days_count):
    demand = DemandStats.of([units] * days_count)
    assert safety_stock(demand, SupplyTerms(lead_time_days=7), 0.99) == 0
