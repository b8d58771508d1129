"""Interim routing: the nearest node that can fill the whole order."""

from gateway.domain import Location, NodeType, SourceSystem
from gateway.services.routing import best_shortfalls, can_fill, nearest_complete_nodes

NEAR = Location("ST-NEAR", "Near", NodeType.STORE, SourceSystem.POS, "LN")
MID = Location("WH-MID", "Mid", NodeType.WAREHOUSE, SourceSystem.ERP, "Mid - X")
FAR = Location("WH-FAR", "Far", NodeType.WAREHOUSE, SourceSystem.ERP, "Far - X")
CANDIDATES = [(NEAR, 1.0), (MID, 50.0), (FAR, 400.0)]


def test_a_node_fills_an_order_only_if_it_has_every_line():
    atp = {("A", "ST-NEAR"): 5, ("B", "ST-NEAR"): 0}
    assert can_fill("ST-NEAR", {"A": 5}, atp)
    assert not can_fill("ST-NEAR", {"A": 5, "B": 1}, atp)
    assert not can_fill("ST-NEAR", {"A": 6}, atp)
    assert not can_fill("WH-MID", {"A": 1}, atp)  # no figure: nothing there


def test_given_the_nearest_node_is_short_then_the_next_nearest_complete_node_is_first():
    atp = {("A", "ST-NEAR"): 2, ("A", "WH-MID"): 3, ("A", "WH-FAR"): 9, ("B", "WH-MID"): 1}
    choices = nearest_complete_nodes({"A": 3}, CANDIDATES, atp)
    assert [c.location.id for c in choices] == ["WH-MID", "WH-FAR"]
    assert choices[0].distance_km == 50.0
    assert choices[0].reason == "nearest node that can fill all 3 units (50.0 km away)"


def test_given_two_lines_then_only_nodes_with_both_qualify():
    atp = {("A", "WH-MID"): 3, ("A", "WH-FAR"): 3, ("B", "WH-FAR"): 1}
    choices = nearest_complete_nodes({"A": 1, "B": 1}, CANDIDATES, atp)
    assert [c.location.id for c in choices] == ["WH-FAR"]


def test_given_no_distance_then_the_reason_does_not_invent_one():
    choices = nearest_complete_nodes({"A": 1}, [(MID, None)], {("A", "WH-MID"): 1})
    assert choices[0].reason == "nearest node that can fill all 1 units"


def test_given_nobody_can_fill_then_shortfalls_name_the_best_single_node_per_sku():
    atp = {("A", "ST-NEAR"): 2, ("A", "WH-MID"): 4, ("B", "WH-FAR"): 1}
    assert nearest_complete_nodes({"A": 5, "B": 2}, CANDIDATES, atp) == []
    assert best_shortfalls({"A": 5, "B": 2}, CANDIDATES, atp) == [
        {"sku": "A", "requested": 5, "available": 4, "locationId": "WH-MID"},
        {"sku": "B", "requested": 2, "available": 1, "locationId": "WH-FAR"},
    ]
    assert best_shortfalls({"A": 1}, [], atp) == [
        {"sku": "A", "requested": 1, "available": 0, "locationId": None}
    ]
