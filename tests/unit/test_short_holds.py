"""Which orders lose when the till sold units they were promised
(gateway.governance.short_holds): the fair rule, for any holds and any count."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.reservations import OrderHold
from gateway.governance.short_holds import short_holds, shortage

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def hold(order: str, quantity: int, minutes: int, applied: bool = True) -> OrderHold:
    return OrderHold(
        order,
        f"res_{order}",
        "SHOE",
        "ST-BERLIN",
        quantity,
        T0 + timedelta(minutes=minutes),
        applied,
    )


holds = st.lists(
    st.builds(
        hold,
        order=st.sampled_from(["a", "b", "c", "d"]),
        quantity=st.integers(1, 5),
        minutes=st.integers(0, 100),
        applied=st.booleans(),
    ),
    max_size=8,
)


@given(figure=st.integers(-10, 20), held=holds)
def test_property_the_losers_cover_the_shortage_latest_first_never_more_than_held(figure, held):
    lost = short_holds(figure, held)
    assert sum(s.missing for s in lost) == shortage(figure, held)
    assert all(0 < s.missing <= s.held for s in lost)
    # Only the earliest-committed order among the losers may keep part of its units.
    assert all(s.missing == s.held for s in lost[:-1])
    committed = {}
    for h in held:
        committed[h.order_id] = max(committed.get(h.order_id, T0), h.held_at)
    losers = {s.order_id for s in lost}
    keepers = set(committed) - losers
    assert all(committed[k] <= committed[o] for k in keepers for o in losers) or not keepers


def test_given_a_till_sale_of_the_last_unit_then_the_latest_order_loses_it():
    # Two pickup orders, both recorded as sold in Square; a walk-in buys one more unit than
    # the shelf had, so Square counts -1.
    early, late = hold("early", 1, 0), hold("late", 1, 30)
    (lost,) = short_holds(-1, [early, late])
    assert (lost.order_id, lost.missing) == ("late", 1)


def test_given_holds_the_source_has_not_taken_yet_then_they_still_need_the_shelf():
    # Square shows 1 on the shelf, but 2 units held are not yet recorded as sold there.
    assert shortage(1, [hold("a", 2, 0, applied=False)]) == 1
    assert shortage(2, [hold("a", 2, 0, applied=False)]) == 0
    assert shortage(0, [hold("a", 2, 0, applied=True)]) == 0  # the sale already took them
