"""Properties of every plan, on random worlds: never more than a node's ATP, never more
than its capacity, every line fully allocated or reported unfulfillable, and the same
input (in any node order) gives the same plan."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain import GeoPoint, NodeType
from gateway.routing import (
    CandidateNode,
    FulfillmentPlan,
    RouteLine,
    RoutingPolicy,
    RoutingRequest,
    Strategy,
    plan_fulfillment,
)
from tests.unit.routing.builders import NOW, SHIPPING

SKUS = ["A", "B", "C", "D", "E"]


@st.composite
def nodes(draw: st.DrawFn, index: int) -> CandidateNode:
    return CandidateNode(
        id=f"n{index:02d}",
        name=f"Node {index}",
        kind=draw(st.sampled_from(NodeType)),
        point=draw(
            st.one_of(
                st.none(),
                st.builds(
                    GeoPoint,
                    st.floats(47.5, 54.5, allow_nan=False),
                    st.floats(6.0, 14.5, allow_nan=False),
                ),
            )
        ),
        atp=draw(st.dictionaries(st.sampled_from(SKUS), st.integers(-2, 9), max_size=5)),
        capacity=draw(st.one_of(st.none(), st.integers(0, 12))),
        cutoff=draw(st.one_of(st.none(), st.sampled_from([time(8, 0), time(16, 0)]))),
        handling_per_order=draw(st.integers(0, 400)),
        handling_per_unit=draw(st.integers(0, 60)),
        days_of_supply=draw(st.dictionaries(st.sampled_from(SKUS), st.integers(0, 120))),
        stock_as_of=draw(
            st.one_of(st.none(), st.integers(0, 7200).map(lambda s: NOW - timedelta(seconds=s)))
        ),
        pickup=draw(st.booleans()),
    )


@st.composite
def requests(draw: st.DrawFn) -> RoutingRequest:
    count = draw(st.integers(1, 8))
    candidates = tuple(draw(nodes(i)) for i in range(count))
    strategy = draw(st.sampled_from(Strategy))
    lines = tuple(
        RouteLine(sku, qty, draw(st.one_of(st.none(), st.just(date(2026, 12, 1)))))
        for sku, qty in draw(
            st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=5)
        )
    )
    return RoutingRequest(
        lines=lines,
        nodes=candidates,
        shipping=SHIPPING,
        policy=RoutingPolicy(
            split_penalty=draw(st.integers(0, 500)),
            max_radius_km=draw(st.one_of(st.none(), st.integers(50, 800))),
            stale_after_seconds=draw(st.one_of(st.none(), st.integers(60, 3600))),
            max_shipments=draw(st.integers(1, 4)),
            excess_days=draw(st.one_of(st.none(), st.integers(10, 90))),
            excess_bonus=draw(st.integers(0, 50)),
            store_reserve=draw(st.integers(0, 3)),
            store_reserve_penalty=draw(st.integers(0, 80)),
        ),
        strategy=strategy,
        now=NOW,
        destination=GeoPoint(52.52, 13.405),
        pickup_node_id=(
            draw(st.sampled_from([n.id for n in candidates]))
            if strategy is Strategy.PICKUP
            else None
        ),
        deliver_by=draw(
            st.one_of(st.none(), st.integers(0, 4).map(lambda d: NOW.date() + timedelta(days=d)))
        ),
        service_level=draw(st.sampled_from([None, "STANDARD", "EXPRESS"])),
    )


def units_by_node_and_sku(plan: FulfillmentPlan) -> dict[tuple[str, str], int]:
    units: dict[tuple[str, str], int] = defaultdict(int)
    for shipment in plan.shipments:
        for line in shipment.lines:
            assert line.quantity > 0
            units[(shipment.node_id, line.sku)] += line.quantity
    return units


@settings(max_examples=400, deadline=None)
@given(requests())
def test_a_plan_never_promises_more_than_a_node_has_to_promise(request: RoutingRequest) -> None:
    plan = plan_fulfillment(request)
    atp = {n.id: n.atp for n in request.nodes}
    for (node_id, sku), quantity in units_by_node_and_sku(plan).items():
        assert quantity <= atp[node_id].get(sku, 0), (node_id, sku)


@settings(max_examples=400, deadline=None)
@given(requests())
def test_a_plan_never_exceeds_a_nodes_pick_capacity(request: RoutingRequest) -> None:
    plan = plan_fulfillment(request)
    capacity = {n.id: n.capacity for n in request.nodes}
    per_node: dict[str, int] = defaultdict(int)
    for (node_id, _), quantity in units_by_node_and_sku(plan).items():
        per_node[node_id] += quantity
    for node_id, units in per_node.items():
        limit = capacity[node_id]
        assert limit is None or units <= limit, node_id
    assert len(plan.shipments) == len({s.node_id for s in plan.shipments})


@settings(max_examples=400, deadline=None)
@given(requests())
def test_every_line_is_allocated_in_full_or_reported_unfulfillable(
    request: RoutingRequest,
) -> None:
    plan = plan_fulfillment(request)
    wanted: dict[str, int] = defaultdict(int)
    for line in request.lines:
        wanted[line.sku] += line.quantity
    allocated: dict[str, int] = defaultdict(int)
    for (_, sku), quantity in units_by_node_and_sku(plan).items():
        allocated[sku] += quantity
    reported = {u.sku: u for u in plan.unfulfillable}
    assert len(reported) == len(plan.unfulfillable)
    for sku, quantity in wanted.items():
        if sku in reported:
            assert allocated[sku] == 0 and reported[sku].quantity == quantity
            assert reported[sku].reason
        else:
            assert allocated[sku] == quantity, sku
    assert set(allocated) <= set(wanted)


@settings(max_examples=300, deadline=None)
@given(requests(), st.randoms(use_true_random=False))
def test_the_same_input_in_any_node_order_gives_the_same_plan(
    request: RoutingRequest, shuffle: object
) -> None:
    plan = plan_fulfillment(request)
    assert plan_fulfillment(request) == plan
    shuffled = list(request.nodes)
    shuffle.shuffle(shuffled)  # type: ignore[attr-defined]
    again = plan_fulfillment(replace(request, nodes=tuple(shuffled)))
    assert again.shipments == plan.shipments
    assert again.unfulfillable == plan.unfulfillable
    assert again.cost == plan.cost
    assert again.explanation.candidates == plan.explanation.candidates


@settings(max_examples=300, deadline=None)
@given(requests())
def test_costs_add_up_and_no_single_node_plan_is_cheaper(request: RoutingRequest) -> None:
    plan = plan_fulfillment(request)
    cost = plan.cost
    assert cost.shipping == sum(s.shipping for s in plan.shipments)
    assert cost.handling == sum(s.handling for s in plan.shipments)
    assert cost.total == cost.shipping + cost.handling + cost.split_penalty
    if request.strategy is not Strategy.COST or plan.unfulfillable or not plan.shipments:
        return
    # Any candidate that could ship the whole order alone costs at least the plan.
    for candidate in plan.explanation.candidates:
        if candidate.score is not None and candidate.units_available == sum(
            line.quantity for line in request.lines
        ):
            assert cost.objective <= candidate.score, candidate
