"""Picking: the list soonest promised first; substitutes of the same category within the
price band, available for every missing unit, best first, on hand-worked and generated
catalogues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import Channel
from gateway.domain.picking import (
    Candidate,
    PickTask,
    line_changes,
    pick_order,
    promised_by,
    short_by,
    substitutes,
)

NOON = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
TWO_HOURS, A_DAY = timedelta(hours=2), timedelta(hours=24)


def task(order_id: str, channel: Channel, placed: datetime) -> PickTask:
    return PickTask(
        order_id,
        channel,
        "ALLOCATED",
        "Kim",
        placed,
        promised_by(channel, placed, TWO_HOURS, A_DAY),
        (),
    )


def test_the_list_is_soonest_promised_first():
    # A pickup placed at 11:00 is due at 13:00; a delivery placed at 08:00 ships by 08:00
    # tomorrow; a pickup placed at 12:30 is due at 14:30.
    late_pickup = task("o-3", Channel.PICKUP, NOON + timedelta(minutes=30))
    delivery = task("o-1", Channel.ONLINE, NOON - timedelta(hours=4))
    pickup = task("o-2", Channel.PICKUP, NOON - timedelta(hours=1))
    ordered = pick_order([delivery, late_pickup, pickup])
    assert [t.order_id for t in ordered] == ["o-2", "o-3", "o-1"]
    assert ordered[0].promised_by == NOON + timedelta(hours=1)


SHOES = [
    Candidate("SHOE-43", "Footwear", Decimal("129.00"), 4),
    Candidate("SHOE-41", "Footwear", Decimal("135.00"), 12),
    Candidate("BOOT-42", "Footwear", Decimal("160.00"), 9),  # 24 % dearer: outside 20 %
    Candidate("SHOE-44", "Footwear", Decimal("119.00"), 1),  # one unit, two missing
    Candidate("SOCK-M", "Socks", Decimal("129.00"), 50),  # another category
    Candidate("SHOE-40", "Footwear", None, 9),  # no price known
    Candidate("SHOE-42", "Footwear", Decimal("129.00"), 9),  # the missing SKU itself
    Candidate("SHOE-39", "Footwear", Decimal("123.00"), 9),
]


def test_substitutes_of_a_shoe_hand_worked():
    got = substitutes("SHOE-42", "Footwear", Decimal("129.00"), 2, SHOES, Decimal("0.20"), 3)
    # Same price first, then 6.00 off (more available first), dropping what does not fit.
    assert [c.sku for c in got] == ["SHOE-43", "SHOE-41", "SHOE-39"]
    assert substitutes("SHOE-42", None, Decimal("129.00"), 2, SHOES, Decimal("0.2"), 3) == []
    assert substitutes("SHOE-42", "Footwear", Decimal("129.00"), 2, SHOES, Decimal(0), 3) == [
        SHOES[0]
    ]


candidates = st.lists(
    st.builds(
        Candidate,
        st.sampled_from([f"SKU-{n}" for n in range(12)]),
        st.sampled_from(["A", "B", None]),
        st.one_of(st.none(), st.decimals(1, 300, places=2)),
        st.integers(0, 10),
    ),
    max_size=20,
)


@given(
    candidates,
    st.decimals(1, 300, places=2),
    st.integers(1, 6),
    st.decimals(0, 1, places=2),
    st.integers(0, 5),
)
def test_every_substitute_fits_and_none_better_is_left_out(cands, price, missing, band, limit):
    got = substitutes("SKU-0", "A", price, missing, cands, band, limit)

    def fits(c: Candidate) -> bool:
        return (
            c.sku != "SKU-0"
            and c.category == "A"
            and c.price is not None
            and abs(c.price - price) <= band * price
            and c.available >= missing
        )

    assert all(fits(c) for c in got) and len(got) <= limit

    def rank(c: Candidate) -> tuple:
        assert c.price is not None
        return (abs(c.price - price), -c.available, c.sku)

    assert [rank(c) for c in got] == sorted(rank(c) for c in got)
    left_out = [c for c in cands if fits(c) and c not in got]
    if len(got) == limit and got:
        assert all(rank(c) >= rank(got[-1]) for c in left_out)
    else:
        assert left_out == [] or limit == 0


def test_a_short_pick_is_short_and_moves_the_lines():
    assert short_by(3, 1) == 2
    with pytest.raises(ValueError, match="nothing is short"):
        short_by(3, 3)
    with pytest.raises(ValueError):
        short_by(3, -1)
    assert line_changes("SHOE-42", 2, "SHOE-43") == [("SHOE-42", -2), ("SHOE-43", 2)]
    assert line_changes("SHOE-42", 2, None) == [("SHOE-42", -2)]
