"""The ledger overlay: a hold lowers a reading until the source has applied it, never twice."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.ledger import (
    Overlay,
    by_position,
    free_to_promise,
    kept_back,
    overlay,
    pending_against,
)
from gateway.domain.reservations import LedgerEntry, LedgerKind

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=1)


def hold(quantity, applied_at=None, sku="S", location="N"):
    return LedgerEntry(sku, location, LedgerKind.HOLD, quantity, applied_at)


def test_given_a_hold_the_source_has_not_applied_when_any_reading_then_it_is_pending():
    assert pending_against(hold(1), T0)
    assert pending_against(hold(1), None)


def test_given_an_applied_hold_then_only_readings_older_than_the_application_lack_it():
    applied = hold(1, applied_at=T0)
    assert pending_against(applied, T0 - timedelta(seconds=1))
    assert not pending_against(applied, T0)  # taken at that moment: already contains it
    assert not pending_against(applied, LATER)
    assert pending_against(applied, None)  # an undated reading cannot be trusted to have it


def test_given_holds_restocks_and_incoming_when_overlaid_then_each_lands_in_its_column():
    entries = [
        hold(2),
        hold(3, applied_at=T0),  # in a reading taken after T0
        LedgerEntry("S", "N", LedgerKind.RESTOCK, 4),
        LedgerEntry("S", "N", LedgerKind.RESTOCK, 5, applied_at=T0),
        LedgerEntry("S", "N", LedgerKind.INCOMING, 6, applied_at=T0),
    ]
    assert overlay(entries, LATER) == Overlay(held=2, restocked=4, incoming=6)
    # A reading from before the source applied anything lacks all of it.
    assert overlay(entries, T0 - timedelta(seconds=1)) == Overlay(held=5, restocked=9, incoming=6)


def test_reserve_confirm_source_decrement_leaves_availability_where_the_hold_put_it():
    # Given 10 on hand and nothing reserved at the source
    before = free_to_promise(10, 0, 0, overlay([], T0))
    # When the gateway holds 3, a reading from before the source knows shows 7
    held = [hold(3)]
    after_hold = free_to_promise(10, 0, 0, overlay(held, T0))
    # And when the source reserves them (applied at LATER), a fresh reading carries them
    applied = [hold(3, applied_at=LATER)]
    after_source = free_to_promise(10, 3, 0, overlay(applied, LATER + timedelta(seconds=1)))
    # Then the three figures are 10, 7, 7: counted once, never twice
    assert (before, after_hold, after_source) == (10, 7, 7)


@given(
    on_hand=st.integers(0, 500),
    quantity=st.integers(1, 50),
    fetched_delta=st.integers(-120, 120),
)
def test_property_a_hold_is_subtracted_exactly_once_whatever_reading_is_used(
    on_hand, quantity, fetched_delta
):
    # The source applied the hold at LATER; a reading from before has reserved 0, after it
    # reserved = quantity (the source's own figure). Either way ATP is on_hand - quantity.
    reading_at = LATER + timedelta(seconds=fetched_delta)
    source_reserved = quantity if reading_at >= LATER else 0
    atp = free_to_promise(
        on_hand, source_reserved, 0, overlay([hold(quantity, applied_at=LATER)], reading_at)
    )
    assert atp == max(0, on_hand - quantity)


def test_by_position_groups_entries_per_sku_and_node():
    a, b, c = hold(1, sku="A"), hold(2, sku="A", location="M"), hold(3, sku="A")
    grouped = by_position([a, b, c])
    assert grouped[("A", "N")] == [a, c]
    assert grouped[("A", "M")] == [b]


units = st.integers(min_value=0, max_value=500)


@given(on_hand=units, reserved=units, safety=units, held=units, restocked=units, cap=units)
def test_property_under_a_promise_cap_at_most_the_cap_less_what_is_held_is_promised(
    on_hand, reserved, safety, held, restocked, cap
):
    gateway = Overlay(held=held, restocked=restocked)
    uncapped = free_to_promise(on_hand, reserved, safety, gateway)
    capped = free_to_promise(on_hand, reserved, kept_back(on_hand, reserved, safety, cap), gateway)
    # Never more than without the cap, never more than the cap leaves after the holds...
    assert capped == min(uncapped, max(0, cap + restocked - held))
    # ...and never less than the safety stock alone would keep back.
    assert kept_back(on_hand, reserved, safety, cap) >= safety
    assert kept_back(on_hand, reserved, safety, None) == safety


def test_a_cap_of_zero_promises_nothing_and_a_cap_above_the_stock_changes_nothing():
    assert free_to_promise(10, 2, 1, Overlay()) == 7
    assert free_to_promise(10, 2, kept_back(10, 2, 1, 0), Overlay()) == 0
    assert free_to_promise(10, 2, kept_back(10, 2, 1, 3), Overlay(held=2)) == 1
    assert kept_back(10, 2, 1, 100) == 1
