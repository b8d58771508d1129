"""The store KPIs on hand-worked figures, their edges (nothing to divide by is no figure,
not zero), and their bounds for any input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import kpis

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_hand_worked_week_at_a_store():
    # 40 SKUs over 7 days: 14 SKU-days with nothing to promise -> 14 / 280 = 5 %.
    assert kpis.stockout_rate(14, 40 * 7) == Decimal("0.0500")
    # 120 sold, 80 left: 120 / 200 = 60 % sold through.
    assert kpis.sell_through(120, 80) == Decimal("0.6000")
    # 80 on hand at 120 a week (17.14 a day): 80 * 7 / 120 = 4.6667 days.
    assert kpis.days_of_supply(80, 120, 7) == Decimal("4.6667")
    # 36.50 lost at cost on 4,210.00 of sales: 0.87 %.
    assert kpis.shrink_rate(Decimal("36.50"), Decimal("4210.00")) == Decimal("0.0087")
    # Sales 4,210.00 that cost 1,754.20: margin 2,455.80 on 6,140.00 held on average: 0.40.
    assert kpis.gmroi(Decimal("4210.00"), Decimal("1754.20"), Decimal("6140.00")) == Decimal(
        "0.4000"
    )
    # Five SKUs counted: two exact, one one off, two further: exact 2/5, within 1 unit 3/5.
    counts = [(10, 10), (4, 4), (7, 8), (0, 3), (12, 9)]
    assert kpis.inventory_accuracy(counts) == Decimal("0.4000")
    assert kpis.inventory_accuracy(counts, tolerance=1) == Decimal("0.6000")
    # 6 of 120 units came back: 5 %.
    assert kpis.return_rate(6, 120) == Decimal("0.0500")


def test_order_cycle_time_is_the_mean_hours_from_placed_to_done():
    orders = [
        (MONDAY, MONDAY + timedelta(hours=3)),
        (MONDAY, MONDAY + timedelta(hours=26)),
        (MONDAY, MONDAY + timedelta(hours=4, minutes=30)),
    ]
    # (3 + 26 + 4.5) / 3 = 11.1667 -> 11.17 hours.
    assert kpis.order_cycle_hours(orders) == Decimal("11.17")
    assert kpis.order_cycle_hours([]) is None
    with pytest.raises(ValueError):
        kpis.order_cycle_hours([(MONDAY, MONDAY - timedelta(minutes=1))])


def test_on_time_pickup_counts_what_was_due_and_a_late_unready_one_as_late():
    now = MONDAY + timedelta(days=1)
    pickups = [
        (MONDAY + timedelta(hours=1), MONDAY + timedelta(hours=2)),  # ready in time
        (MONDAY + timedelta(hours=3), MONDAY + timedelta(hours=2)),  # ready late
        (None, MONDAY + timedelta(hours=5)),  # never ready, promise passed: late
        (None, now + timedelta(hours=2)),  # promised later: not counted yet
    ]
    assert kpis.on_time_pickup(pickups, now) == Decimal("0.3333")
    assert kpis.on_time_pickup([(None, now + timedelta(hours=1))], now) is None


def test_nothing_to_divide_by_is_no_figure_not_zero():
    assert kpis.return_rate(0, 0) is None
    assert kpis.sell_through(0, 0) is None
    assert kpis.days_of_supply(50, 0, 7) is None
    assert kpis.inventory_accuracy([]) is None
    assert kpis.gmroi(Decimal(0), Decimal(0), Decimal(0)) is None


def test_impossible_figures_are_refused():
    with pytest.raises(ValueError):
        kpis.stockout_rate(10, 5)
    with pytest.raises(ValueError):
        kpis.return_rate(-1, 10)
    with pytest.raises(ValueError):
        kpis.inventory_accuracy([(1, 1)], tolerance=-1)


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_shares_stay_between_none_and_one(part, rest):
    for share in (kpis.sell_through(part, rest), kpis.stockout_rate(part, part + rest)):
        assert share is None or Decimal(0) <= share <= Decimal(1)


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=30), st.integers(0, 5))
def test_accuracy_never_falls_as_the_tolerance_widens(counts, tolerance):
    narrow = kpis.inventory_accuracy(counts, tolerance)
    wide = kpis.inventory_accuracy(counts, tolerance + 1)
    assert (narrow is None) == (wide is None) == (not counts)
    if narrow is not None and wide is not None:
        assert narrow <= wide


def test_each_day_closes_on_today_s_figure_less_what_moved_after_it():
    closes = [MONDAY + timedelta(days=n, hours=15) for n in range(3)]  # 09:00 + 15 h = 24:00
    moved = [
        (MONDAY + timedelta(hours=8), -2),  # Monday
        (MONDAY + timedelta(days=1, hours=3), +5),  # Tuesday
        (MONDAY + timedelta(days=3), -1),  # after the last close
    ]
    # 10 now: Wednesday closed at 11, Tuesday at 11, Monday at 6.
    assert kpis.figures_at(10, moved, closes) == [6, 11, 11]


@given(st.integers(-50, 500), st.lists(st.tuples(st.integers(0, 10), st.integers(-9, 9))))
def test_a_close_after_every_movement_is_today_s_figure(current, moves):
    moved = [(MONDAY + timedelta(hours=h), units) for h, units in moves]
    before_all = MONDAY - timedelta(days=1)
    assert kpis.figures_at(current, moved, [MONDAY + timedelta(days=1)]) == [current]
    assert kpis.figures_at(current, moved, [before_all]) == [current - sum(u for _, u in moves)]


def test_the_average_inventory_at_cost_holds_nothing_for_a_negative_figure():
    daily = {"SHOE": [5, 5, 4], "SOCK": [7, -2, 0], "GIFT": [3, 3, 3]}  # GIFT: no known cost
    cost = {"SHOE": Decimal("52.40"), "SOCK": Decimal("5.10")}
    # (262.00 + 35.70) + 262.00 + 209.60 = 769.30 over 3 days.
    assert kpis.average_inventory_cost(daily, cost) == Decimal("769.30") / 3
    assert kpis.average_inventory_cost({}, cost) == 0
    with pytest.raises(ValueError):
        kpis.average_inventory_cost({"SHOE": [1], "SOCK": [1, 2]}, cost)
