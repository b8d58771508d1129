"""The router's decisions on small worlds whose best plan can be worked out by hand.

Rates (builders.py): STANDARD 4.90 first parcel within 50 km (1 day), 5.90 within 200 km
(2 days), 7.90 within 1000 km (3 days); handling 1.50 per order and 0.30 per unit.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from gateway.domain import NodeType
from gateway.routing import (
    Rejection,
    RouteLine,
    RoutingPolicy,
    Strategy,
    Verdict,
    plan_fulfillment,
)
from tests.unit.routing.builders import (
    HAMBURG,
    LEIPZIG,
    MITTE,
    MUNICH,
    NOW,
    POTSDAM,
    node,
    request,
)


def shipped(plan) -> dict[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    return {s.node_id: {line.sku: line.quantity for line in s.lines} for s in plan.shipments}


def verdicts(plan) -> dict[str, tuple[Verdict, Rejection | None]]:  # type: ignore[no-untyped-def]
    return {c.node_id: (c.verdict, c.rejection) for c in plan.explanation.candidates}


def test_given_a_near_store_and_a_far_warehouse_when_costed_then_the_store_ships_it() -> None:
    plan = plan_fulfillment(
        request(
            {"A": 2},
            [node("far", {"A": 10}, at=HAMBURG), node("near", {"A": 2}, at=MITTE)],
        )
    )
    assert shipped(plan) == {"near": {"A": 2}}
    assert (plan.cost.shipping, plan.cost.handling, plan.cost.total) == (490, 210, 700)
    assert plan.promised_date == date(2026, 11, 24)
    far = next(c for c in plan.explanation.candidates if c.node_id == "far")
    assert far.verdict is Verdict.CONSIDERED and far.score == 150 + 790 + 60
    assert "costs 3.00 EUR more" in plan.explanation.tie_break


def test_given_no_node_holds_everything_then_the_order_splits_and_pays_the_penalty() -> None:
    plan = plan_fulfillment(
        request(
            {"A": 1, "B": 1},
            [node("mitte", {"A": 1}, at=MITTE), node("potsdam", {"B": 1}, at=POTSDAM)],
        )
    )
    assert shipped(plan) == {"mitte": {"A": 1}, "potsdam": {"B": 1}}
    assert plan.cost.split_penalty == 300
    assert plan.cost.total == 2 * (150 + 490 + 30) + 300


def test_given_a_warehouse_with_everything_then_one_shipment_beats_a_split() -> None:
    nodes = [
        node("mitte", {"A": 1}, at=MITTE),
        node("potsdam", {"B": 1}, at=POTSDAM),
        node("leipzig", {"A": 5, "B": 5}, at=LEIPZIG, kind=NodeType.WAREHOUSE),
    ]
    plan = plan_fulfillment(request({"A": 1, "B": 1}, nodes))
    assert shipped(plan) == {"leipzig": {"A": 1, "B": 1}}
    assert plan.cost.total == 150 + 590 + 60


def test_given_a_costly_far_warehouse_then_cost_splits_but_single_node_does_not() -> None:
    nodes = [
        node("mitte", {"A": 1}, at=MITTE),
        node("potsdam", {"B": 1}, at=POTSDAM),
        node("munich", {"A": 5, "B": 5}, at=MUNICH, per_order=1000, kind=NodeType.WAREHOUSE),
    ]
    policy = RoutingPolicy(split_penalty=0)
    cheapest = plan_fulfillment(request({"A": 1, "B": 1}, nodes, policy=policy))
    assert set(shipped(cheapest)) == {"mitte", "potsdam"}
    assert cheapest.cost.total == 2 * (150 + 490 + 30)

    single = plan_fulfillment(
        request({"A": 1, "B": 1}, nodes, policy=policy, strategy=Strategy.SINGLE_NODE)
    )
    assert shipped(single) == {"munich": {"A": 1, "B": 1}}
    assert single.cost.total == 1000 + 790 + 60
    assert single.explanation.notes == ()


def test_given_no_single_node_can_fill_it_then_single_node_splits_and_says_so() -> None:
    nodes = [node("mitte", {"A": 1}, at=MITTE), node("potsdam", {"B": 1}, at=POTSDAM)]
    plan = plan_fulfillment(request({"A": 1, "B": 1}, nodes, strategy=Strategy.SINGLE_NODE))
    assert len(plan.shipments) == 2
    assert "no single node can fill the order, so it ships in 2 shipments" in (
        plan.explanation.notes
    )


def test_given_speed_then_express_from_the_near_store_arrives_today() -> None:
    nodes = [
        node("mitte", {"A": 1}, at=MITTE),
        node("leipzig", {"A": 9}, at=LEIPZIG, kind=NodeType.WAREHOUSE, per_order=100),
    ]
    cheapest = plan_fulfillment(request({"A": 1}, nodes))
    assert shipped(cheapest) == {"mitte": {"A": 1}}
    assert cheapest.shipments[0].service == "STANDARD"
    assert cheapest.promised_date == NOW.date() + timedelta(days=1)

    fastest = plan_fulfillment(request({"A": 1}, nodes, strategy=Strategy.SPEED))
    assert fastest.promised_date == NOW.date()
    assert fastest.shipments[0].service == "EXPRESS"
    assert fastest.cost.shipping == 1290
    assert f"earliest date any plan can meet: {NOW.date()}" in fastest.explanation.notes


def test_every_rejection_is_named_with_its_reason() -> None:
    nodes = [
        node("good", {"A": 1}, at=MITTE),
        node("empty", {"B": 4}, at=MITTE),
        node("stale", {"A": 1}, at=MITTE, stock_as_of=NOW - timedelta(hours=2)),
        node("full", {"A": 1}, at=MITTE, capacity=0),
        node("munich", {"A": 1}, at=MUNICH),
        node("late", {"A": 1}, at=MITTE, cutoff=time(9, 0)),
        node("hamburg", {"A": 1}, at=HAMBURG),
    ]
    plan = plan_fulfillment(
        request(
            {"A": 1},
            nodes,
            policy=RoutingPolicy(max_radius_km=300, stale_after_seconds=600),
            deliver_by=date(2026, 11, 24),
            service_level="STANDARD",
        )
    )
    assert shipped(plan) == {"good": {"A": 1}}
    assert verdicts(plan) == {
        "good": (Verdict.CHOSEN, None),
        "empty": (Verdict.REJECTED, Rejection.NO_STOCK),
        "stale": (Verdict.REJECTED, Rejection.STALE_STOCK),
        "full": (Verdict.REJECTED, Rejection.OVER_CAPACITY),
        "munich": (Verdict.REJECTED, Rejection.OUTSIDE_RADIUS),
        "late": (Verdict.REJECTED, Rejection.PAST_CUTOFF),
        "hamburg": (Verdict.REJECTED, Rejection.MISSES_PROMISE),
    }
    details = {c.node_id: c.detail for c in plan.explanation.candidates}
    assert details["stale"] == "stock figures are 7200 s old (limit 600 s)"
    assert "beyond the 300 km radius" in details["munich"]
    assert "09:00 UTC cut-off: ships 2026-11-24, arrives 2026-11-25" in details["late"]
    assert details["hamburg"] == "arrives 2026-11-26 at the earliest, after 2026-11-24"


def test_a_node_whose_source_stopped_stating_its_figures_is_stale_however_fresh_the_read():
    # Read a second ago, but the source's own stamp on the figure is 40 days old: the
    # source stopped updating it, and a fresh read of an old figure is not a fresh figure.
    just_read = NOW - timedelta(seconds=1)
    nodes = [
        node("live", {"A": 1}, at=MITTE, stock_as_of=just_read, source_as_of=NOW),
        node("frozen", {"A": 1}, at=MITTE, stock_as_of=just_read,
             source_as_of=NOW - timedelta(days=40)),
        node("slow", {"A": 1}, at=MITTE, stock_as_of=just_read,
             source_as_of=NOW - timedelta(days=20)),
    ]  # fmt: skip
    policy = RoutingPolicy(stale_after_seconds=600, source_stale_after_seconds=30 * 86_400)
    plan = plan_fulfillment(request({"A": 1}, nodes, policy=policy))
    assert verdicts(plan)["frozen"] == (Verdict.REJECTED, Rejection.STALE_STOCK)
    assert verdicts(plan)["slow"][1] != Rejection.STALE_STOCK  # a slow seller is not stale
    details = {c.node_id: c.detail for c in plan.explanation.candidates}
    assert details["frozen"] == (
        "stock figures were last stated by their source 40.0 days ago (limit 30.0 days)"
    )


def test_given_a_node_past_its_cutoff_then_it_ships_tomorrow() -> None:
    plan = plan_fulfillment(request({"A": 1}, [node("late", {"A": 1}, cutoff=time(9, 0))]))
    assert plan.shipments[0].ship_date == date(2026, 11, 24)
    assert plan.promised_date == date(2026, 11, 25)


def test_a_line_nobody_can_fill_is_reported_with_when_it_can_be_backordered() -> None:
    lines = [RouteLine("A", 1), RouteLine("C", 3, backorder_date=date(2026, 12, 4))]
    nodes = [
        node("mitte", {"A": 1, "C": 1}, at=MITTE),
        node("stale", {"C": 5}, at=MITTE, stock_as_of=NOW - timedelta(days=1)),
    ]
    plan = plan_fulfillment(request(lines, nodes, policy=RoutingPolicy(stale_after_seconds=600)))
    assert shipped(plan) == {"mitte": {"A": 1}}
    (short,) = plan.unfulfillable
    assert (short.sku, short.quantity, short.backorder_date) == ("C", 3, date(2026, 12, 4))
    assert short.reason == (
        "1 of 3 available at nodes that can serve this order (5 more at rejected nodes); "
        "backorderable, expected 2026-12-04"
    )
    assert not plan.complete


def test_given_more_shipments_needed_than_allowed_then_a_line_is_left_out_with_why() -> None:
    nodes = [node("mitte", {"A": 1}, at=MITTE), node("potsdam", {"B": 2}, at=POTSDAM)]
    plan = plan_fulfillment(request({"A": 1, "B": 2}, nodes, policy=RoutingPolicy(max_shipments=1)))
    assert shipped(plan) == {"potsdam": {"B": 2}}
    (short,) = plan.unfulfillable
    assert short.sku == "A" and "within 1 shipments" in short.reason


def test_overstocked_nodes_are_preferred_and_a_stores_last_units_are_protected() -> None:
    policy = RoutingPolicy(excess_days=60, excess_bonus=20)
    nodes = [
        node("st-a", {"A": 5}, at=MITTE, days_of_supply={"A": 10}),
        node("st-b", {"A": 5}, at=MITTE, days_of_supply={"A": 90}),
    ]
    plan = plan_fulfillment(request({"A": 2}, nodes, policy=policy))
    assert shipped(plan) == {"st-b": {"A": 2}}
    assert plan.cost.stock_health == -40
    assert plan.cost.objective == plan.cost.total - 40

    protect = RoutingPolicy(store_reserve=2, store_reserve_penalty=40)
    nodes = [node("st-a", {"A": 2}, at=MITTE), node("st-b", {"A": 9}, at=MITTE)]
    plan = plan_fulfillment(request({"A": 2}, nodes, policy=protect))
    assert shipped(plan) == {"st-b": {"A": 2}}


def test_given_two_equal_plans_then_the_tie_break_is_named() -> None:
    nodes = [node("st-b", {"A": 1}, at=MITTE), node("st-a", {"A": 1}, at=MITTE)]
    plan = plan_fulfillment(request({"A": 1}, nodes))
    assert shipped(plan) == {"st-a": {"A": 1}}
    assert plan.explanation.tie_break.endswith("tied on cost with st-b, decided by node order")


def test_pickup_at_a_store_that_has_everything_is_ready_today_at_no_shipping_cost() -> None:
    nodes = [node("mitte", {"A": 2}, at=MITTE, pickup=True), node("wh", {"A": 9}, at=LEIPZIG)]
    plan = plan_fulfillment(
        request({"A": 2}, nodes, strategy=Strategy.PICKUP, pickup_node_id="mitte")
    )
    assert shipped(plan) == {"mitte": {"A": 2}}
    (collect,) = plan.shipments
    assert (collect.service, collect.shipping, collect.arrival_date) == (None, 0, NOW.date())
    assert plan.alternative_stores == ()


def test_pickup_at_a_short_store_transfers_the_rest_and_names_stores_that_have_it_all() -> None:
    nodes = [
        node("mitte", {"A": 1}, at=MITTE, pickup=True),
        node("potsdam", {"A": 3}, at=POTSDAM, pickup=True),
        node("leipzig", {"A": 9}, at=LEIPZIG, kind=NodeType.WAREHOUSE),
    ]
    plan = plan_fulfillment(
        request({"A": 3}, nodes, strategy=Strategy.PICKUP, pickup_node_id="mitte")
    )
    assert shipped(plan) == {"mitte": {"A": 1}, "potsdam": {"A": 2}}
    transfer = plan.shipments[1]
    assert transfer.transfer_to == "mitte" and transfer.service == "STANDARD"
    assert plan.promised_date == NOW.date() + timedelta(days=1)
    assert [s.node_id for s in plan.alternative_stores] == ["potsdam"]
    assert any(
        note.startswith("or collect everything at Potsdam") for note in (plan.explanation.notes)
    )
