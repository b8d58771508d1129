"""Sharing an order's units among the nodes of a plan (gateway.routing.allocation)."""

from __future__ import annotations

from datetime import date

from gateway.routing.allocation import allocate
from gateway.routing.terms import UNLIMITED, NodeTerms, Offer
from tests.unit.routing.builders import node

TODAY = date(2026, 11, 23)


def terms(capacity: int, *offers: Offer) -> NodeTerms:
    return NodeTerms(node("n", {}), 1.0, "STANDARD", TODAY, TODAY, 0, 0, 0, capacity, offers)


def test_without_binding_capacity_each_line_fills_from_its_cheapest_offer_up() -> None:
    cheap_reserve = terms(UNLIMITED, Offer(1, 2, unit_cost=10, reserve_penalty=100))
    dear = terms(UNLIMITED, Offer(5, 0, unit_cost=40, reserve_penalty=0))
    # 1 unit at 10, then the dear node's 40 beats the reserve tier's 110.
    assert allocate([cheap_reserve, dear], [3]) == [[1], [2]]


def test_when_capacity_binds_the_units_go_where_they_save_most() -> None:
    # X is cheaper for both lines but can pick only 2 units: it should take line A, where
    # it saves 40 a unit against Y, not line B, where it saves 10.
    x = terms(2, Offer(2, 0, 10, 0), Offer(2, 0, 10, 0))
    y = terms(10, Offer(2, 0, 50, 0), Offer(2, 0, 20, 0))
    assert allocate([x, y], [2, 2]) == [[2, 0], [0, 2]]


def test_when_capacity_cannot_cover_the_order_there_is_no_allocation() -> None:
    assert allocate([terms(1, Offer(2, 0, 1, 0)), terms(1, Offer(2, 0, 1, 0))], [3]) is None
