"""Cycle counts: ABC classes on a hand-worked catalogue; over any cycle every SKU is
counted exactly once, on short daily lists; a count taken in the past corrects today's
figure without undoing the sales recorded after it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.cycle_counts import (
    DEFAULT_CYCLE_DAYS,
    AbcClass,
    CountOutcome,
    StockMovement,
    abc_classes,
    book_at_count,
    corrected,
    count_plan,
    needs_owner,
    reckon,
)

A, B, C = AbcClass.A, AbcClass.B, AbcClass.C


def test_abc_classes_by_the_value_they_move():
    # Total 1,000: SHOE 600 and COAT 250 rank before 80 % of it is reached (0, then 600):
    # A; SOCK (850 before it) is B until 950; HAT (950 before) and an idle SKU are C.
    value = {
        "SHOE": Decimal(600),
        "COAT": Decimal(250),
        "SOCK": Decimal(100),
        "HAT": Decimal(50),
        "IDLE": Decimal(0),
    }
    assert abc_classes(value) == {"SHOE": A, "COAT": A, "SOCK": B, "HAT": C, "IDLE": C}


def test_a_count_in_the_past_keeps_the_sales_made_after_it():
    # Counted 8 at 10:00. The source says 5 now, after 3 sold at 11:00 and 1 received
    # at 12:00: at 10:00 it said 5 + 3 - 1 = 7. One unit more than the book: a gain of 1.
    book = book_at_count(5, [-3, +1])
    assert book == 7
    # The source should now say 6: the count's 8, less the 3 sold, plus the 1 received.
    assert corrected(5, counted=8, book_at=book) == 6


skus = st.lists(st.text("ABCDEFGHJK0123456789", min_size=1, max_size=6), unique=True, max_size=80)


@given(skus, st.data())
def test_over_any_cycle_every_sku_is_counted_once_on_short_lists(names, data):
    classes = {sku: data.draw(st.sampled_from(list(AbcClass))) for sku in names}
    cycles = {abc: data.draw(st.integers(1, 40)) for abc in AbcClass}
    start = date(2026, 12, 1) + timedelta(days=data.draw(st.integers(0, 400)))
    for abc in AbcClass:
        members = [sku for sku, c in classes.items() if c is abc]
        counted: Counter[str] = Counter()
        for offset in range(cycles[abc]):
            today = count_plan(classes, start + timedelta(days=offset), cycles)
            todays = [sku for sku in today if classes[sku] is abc]
            assert len(todays) <= -(-len(members) // cycles[abc])
            counted.update(todays)
        assert counted == Counter(members)


def test_the_default_cycles_count_a_monthly_quarterly_and_yearly():
    assert DEFAULT_CYCLE_DAYS == {A: 30, B: 90, C: 365}
    classes = {f"A{i:02d}": A for i in range(60)} | {f"C{i:03d}": C for i in range(365)}
    today = count_plan(classes, date(2026, 12, 7))
    assert sum(1 for sku in today if sku.startswith("A")) == 2  # 60 over 30 days
    assert sum(1 for sku in today if sku.startswith("C")) == 1  # 365 over 365 days


@pytest.mark.parametrize(
    ("a", "b"), [(Decimal(0), Decimal("0.9")), (Decimal("0.9"), Decimal("0.8"))]
)
def test_shares_out_of_order_are_refused(a, b):
    with pytest.raises(ValueError):
        abc_classes({"X": Decimal(1)}, a, b)


AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def moved(*units: int, counted: int | None = None) -> list[StockMovement]:
    later = [StockMovement("SHOE", "ST", AT + timedelta(minutes=i), u) for i, u in enumerate(units)]
    if counted is not None:
        later.append(StockMovement("SHOE", "ST", AT + timedelta(hours=1), 0, counted=counted))
    return later


def test_a_count_is_reckoned_against_the_book_at_its_time():
    # 12 on the book now; since the count 3 were sold and 1 came back: 14 then. Found 11.
    reckoning = reckon(11, 12, moved(-2, -1, 1))
    assert reckoning.outcome is CountOutcome.CORRECTED
    assert (reckoning.book_at_count, reckoning.variance, reckoning.corrected_to) == (14, -3, 9)
    # Found 14: it matches, nothing to write.
    assert reckon(14, 12, moved(-2, -1, 1)).outcome is CountOutcome.MATCHED
    # A count the source recorded later stands.
    later = reckon(11, 12, moved(-2, counted=10))
    assert later.outcome is CountOutcome.SUPERSEDED and later.variance is None


@given(
    st.integers(0, 500),
    st.integers(-50, 500),
    st.lists(st.integers(-20, 20).filter(bool), max_size=12),
)
def test_the_correction_moves_today_s_figure_by_the_variance_alone(counted, current, units):
    reckoning = reckon(counted, current, moved(*units))
    assert reckoning.variance is not None and reckoning.corrected_to is not None
    # What the source holds after the correction is the count plus every later movement:
    assert reckoning.corrected_to == counted + sum(units)
    assert reckoning.corrected_to - current == reckoning.variance


def test_a_variance_needs_an_owner_over_either_threshold():
    assert not needs_owner(-2, Decimal("-9.98"), 2, Decimal("25"))
    assert needs_owner(-3, Decimal("-1.50"), 2, Decimal("25"))
    assert needs_owner(1, Decimal("40.00"), 2, Decimal("25"))
    assert not needs_owner(1, None, 2, Decimal("25"))
    with pytest.raises(ValueError):
        reckon(-1, 5, [])
