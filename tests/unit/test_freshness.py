"""How far one figure can be trusted (gateway.domain.freshness)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import Confidence, Via
from gateway.domain.freshness import (
    FreshnessRules,
    StaleSafety,
    confidence,
    kept_back_when_stale,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
RULES = FreshnessRules(
    fresh=timedelta(seconds=5), keep=timedelta(seconds=15), source_stale=timedelta(days=30)
)
within_keep = st.timedeltas(min_value=timedelta(0), max_value=timedelta(seconds=15))
recent_source = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))


def test_a_figure_read_again_on_an_event_is_high_and_an_older_read_medium():
    at = NOW - timedelta(days=2)
    assert confidence(Via.WEBHOOK, NOW - timedelta(seconds=12), at, NOW, RULES) is Confidence.HIGH
    assert confidence(Via.POLL, NOW - timedelta(seconds=12), at, NOW, RULES) is Confidence.HIGH
    assert confidence(Via.READ, NOW - timedelta(seconds=2), at, NOW, RULES) is Confidence.HIGH
    assert confidence(Via.READ, NOW - timedelta(seconds=12), at, NOW, RULES) is Confidence.MEDIUM


def test_a_figure_kept_past_its_time_or_not_stated_by_its_source_for_a_month_is_low():
    assert confidence(Via.WEBHOOK, NOW - timedelta(seconds=16), NOW, NOW, RULES) is Confidence.LOW
    month = NOW - timedelta(days=31)
    assert confidence(Via.WEBHOOK, NOW, month, NOW, RULES) is Confidence.LOW
    # No reading at all (a missing Bin is a real zero): nothing says when it was confirmed.
    assert confidence(Via.READ, None, None, NOW, RULES) is Confidence.MEDIUM


@given(st.sampled_from(Via), within_keep, recent_source)
def test_property_an_open_oversell_risk_makes_any_figure_low(via, age, source_age):
    assert (
        confidence(via, NOW - age, NOW - source_age, NOW, RULES, oversell_risk=True)
        is Confidence.LOW
    )


@given(st.sampled_from(Via), within_keep, recent_source)
def test_property_confirming_a_figure_never_lowers_its_confidence(via, age, source_age):
    rank = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
    read = confidence(Via.READ, NOW - age, NOW - source_age, NOW, RULES)
    confirmed = confidence(via, NOW - age, NOW - source_age, NOW, RULES)
    assert rank[confirmed] >= rank[read]
    # and an older read is never trusted more than a newer one.
    older = confidence(via, NOW - age - timedelta(seconds=1), NOW - source_age, NOW, RULES)
    assert rank[older] <= rank[confirmed]


# --- a stale figure under-promises ------------------------------------------------------------


@given(
    available=st.integers(-5, 10_000),
    percent=st.integers(0, 100),
    units=st.integers(0, 50),
)
def test_a_stale_figure_keeps_back_its_share_at_least_its_units_never_more_than_there_is(
    available, percent, units
):
    kept = kept_back_when_stale(available, StaleSafety(percent, units))
    assert 0 <= kept <= max(available, 0)
    if available > 0:
        assert kept >= min(units, available)
        assert available - kept <= available * (100 - percent) / 100


def test_a_stale_figure_is_low_confidence_however_fresh_its_reading():
    assert confidence(Via.WEBHOOK, NOW, NOW, NOW, RULES, stale=True) is Confidence.LOW
