from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import (
    Capability,
    Channel,
    GeoPoint,
    Kit,
    KitComponent,
    Location,
    NodeAvailability,
    NodeType,
    SourceSystem,
    StockReading,
    StockStatus,
    Via,
)
from gateway.errors import BadUserInput
from gateway.geo import distance_km
from gateway.services.availability import (
    LocationChoices,
    Near,
    kit_node_availability,
    node_availability,
    select_locations,
    validate_near,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WAREHOUSE = Location(
    "WH-A", "A", NodeType.WAREHOUSE, SourceSystem.ERP, "A - NTR", GeoPoint(51.3, 9.5)
)
STORE = Location(
    "ST-B",
    "B",
    NodeType.STORE,
    SourceSystem.POS,
    "LB",
    GeoPoint(52.52, 13.40),
    frozenset({Capability.PICKUP}),
    safety_stock=1,
)


def reading(on_hand, reserved=0, incoming=0, sku="S", at=T0):
    return StockReading(sku, SourceSystem.ERP, "A - NTR", on_hand, reserved, at, incoming=incoming)


@given(
    on_hand=st.integers(-50, 10_000),
    reserved=st.integers(0, 10_000),
    safety=st.integers(0, 50),
)
def test_property_atp_is_never_negative_and_never_exceeds_free_stock(on_hand, reserved, safety):
    loc = Location("N", "N", NodeType.STORE, SourceSystem.POS, "N", safety_stock=safety)
    row = node_availability("S", loc, reading(on_hand, reserved), low_threshold=5)
    assert row.available_to_promise >= 0
    assert row.available_to_promise <= max(0, on_hand - reserved)
    assert (row.available_to_promise == 0) == (
        row.status in (StockStatus.OUT_OF_STOCK, StockStatus.BACKORDER)
    )


def test_given_store_safety_stock_then_last_unit_is_not_promised():
    row = node_availability("S", STORE, reading(1), low_threshold=5)
    assert row.available_to_promise == 0
    assert row.status is StockStatus.OUT_OF_STOCK


@pytest.mark.parametrize(
    ("on_hand", "incoming", "status"),
    [
        (20, 0, StockStatus.IN_STOCK),
        (5, 0, StockStatus.LOW_STOCK),
        (0, 0, StockStatus.OUT_OF_STOCK),
        (0, 10, StockStatus.BACKORDER),
    ],
)
def test_status_follows_atp_threshold_and_incoming(on_hand, incoming, status):
    assert (
        node_availability(
            "S", WAREHOUSE, reading(on_hand, incoming=incoming), low_threshold=5
        ).status
        is status
    )


def test_given_no_reading_then_zero_and_out_of_stock_with_no_as_of():
    row = node_availability("S", WAREHOUSE, None, low_threshold=5)
    assert (row.on_hand, row.available_to_promise, row.as_of) == (0, 0, None)


def test_kit_is_limited_by_its_scarcest_component_and_as_old_as_its_stalest():
    kit = Kit("KIT", (KitComponent("SHOE", 1), KitComponent("SOCK", 3)))
    older = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    comps = {
        "SHOE": node_availability("SHOE", WAREHOUSE, reading(10, 2, sku="SHOE"), low_threshold=5),
        "SOCK": node_availability(
            "SOCK", WAREHOUSE, reading(10, sku="SOCK", at=older), low_threshold=5
        ),
    }
    row = kit_node_availability(kit, comps, WAREHOUSE, 5)
    assert row.available_to_promise == 3  # socks: floor(10 / 3)
    assert row.as_of == older


@given(shoe=st.integers(0, 100), sock=st.integers(0, 100), per_kit=st.integers(1, 5))
def test_property_kit_never_promises_more_components_than_exist(shoe, sock, per_kit):
    kit = Kit("KIT", (KitComponent("SHOE", 1), KitComponent("SOCK", per_kit)))
    comps = {
        "SHOE": node_availability("SHOE", WAREHOUSE, reading(shoe, sku="SHOE"), low_threshold=5),
        "SOCK": node_availability("SOCK", WAREHOUSE, reading(sock, sku="SOCK"), low_threshold=5),
    }
    atp = kit_node_availability(kit, comps, WAREHOUSE, 5).available_to_promise
    assert atp <= shoe and atp * per_kit <= sock
    assert (atp + 1) > shoe or (atp + 1) * per_kit > sock  # and it is the largest such number


@given(shoe=st.integers(0, 100), sock=st.integers(0, 100), cap=st.integers(0, 20))
def test_property_a_kit_with_a_capped_component_promises_no_more_than_the_cap_allows(
    shoe, sock, cap
):
    kit = Kit("KIT", (KitComponent("SHOE", 1), KitComponent("SOCK", 3)))
    comps = {
        "SHOE": node_availability(
            "SHOE", WAREHOUSE, reading(shoe, sku="SHOE"), low_threshold=5, promise_cap=cap
        ),
        "SOCK": node_availability("SOCK", WAREHOUSE, reading(sock, sku="SOCK"), low_threshold=5),
    }
    assert kit_node_availability(kit, comps, WAREHOUSE, 5).available_to_promise == min(
        cap, shoe, sock // 3
    )


def test_a_capped_row_shows_what_it_keeps_back_and_its_status_follows_the_capped_figure():
    row = node_availability("S", WAREHOUSE, reading(40, 5), low_threshold=5, promise_cap=3)
    assert (row.available_to_promise, row.safety_stock, row.on_hand) == (3, 32, 40)
    assert row.status is StockStatus.LOW_STOCK
    none = node_availability("S", WAREHOUSE, reading(40, 5), low_threshold=5, promise_cap=0)
    assert (none.available_to_promise, none.status) == (0, StockStatus.OUT_OF_STOCK)


def test_channels_pickup_needs_capability_online_takes_warehouses_and_ship_from_store():
    shipper = Location(
        "ST-C",
        "C",
        NodeType.STORE,
        SourceSystem.POS,
        "LC",
        None,
        frozenset({Capability.SHIP_FROM_STORE}),
    )
    nodes = [WAREHOUSE, STORE, shipper]
    assert [loc.id for loc, _ in select_locations(nodes, channel=Channel.PICKUP)] == ["ST-B"]
    assert {loc.id for loc, _ in select_locations(nodes, channel=Channel.ONLINE)} == {
        "WH-A",
        "ST-C",
    }


def test_near_sorts_by_distance_and_applies_radius():
    berlin = validate_near(52.52, 13.405, 400, 20_000)
    chosen = select_locations([WAREHOUSE, STORE], near=berlin)
    assert [loc.id for loc, _ in chosen] == ["ST-B", "WH-A"]
    assert chosen[0][1] < 1 and 300 < chosen[1][1] < 310
    tight = validate_near(52.52, 13.405, 50, 20_000)
    assert [loc.id for loc, _ in select_locations([WAREHOUSE, STORE], near=tight)] == ["ST-B"]


@pytest.mark.parametrize(
    ("lat", "lng", "radius"), [(91, 0, 1), (0, 181, 1), (0, 0, -5), (0, 0, 0), (0, 0, 50_000)]
)
def test_bad_coordinates_or_radius_are_refused(lat, lng, radius):
    with pytest.raises(BadUserInput):
        validate_near(lat, lng, radius, 20_000)


points = st.builds(
    GeoPoint, st.floats(-80, 80, allow_nan=False), st.floats(-179, 179, allow_nan=False)
)


@given(st.lists(points, min_size=1, max_size=30), points, st.floats(0.5, 2000, allow_nan=False))
def test_property_near_keeps_exactly_the_nodes_within_the_radius(node_points, center, radius):
    nodes = [
        Location(f"N{i}", f"N{i}", NodeType.STORE, SourceSystem.POS, f"N{i}", point=p)
        for i, p in enumerate(node_points)
    ]
    chosen = select_locations(nodes, near=Near(center, radius))
    within = {n.id for n in nodes if distance_km(center, n.point) <= radius}
    assert {loc.id for loc, _ in chosen} == within


def test_the_remembered_choices_answer_as_select_locations_and_follow_a_new_node_list():
    near = Near(GeoPoint(52.52, 13.405), 400)
    choices = LocationChoices()
    nodes = [WAREHOUSE, STORE]
    first = choices.select(nodes, near=near, channel=Channel.PICKUP)
    assert first == select_locations(nodes, near=near, channel=Channel.PICKUP)
    assert choices.select(nodes, near=near, channel=Channel.PICKUP) is first
    # The directory rebuilt its list (a store was added): the answer is worked out again.
    moved = replace(STORE, id="ST-OTHER", point=GeoPoint(52.50, 13.40))
    again = choices.select([*nodes, moved], near=near, channel=Channel.PICKUP)
    assert [loc.id for loc, _ in again] == [
        loc.id for loc, _ in select_locations([*nodes, moved], near=near, channel=Channel.PICKUP)
    ]


@given(km=st.one_of(st.none(), st.floats(0, 20_000)))
def test_a_row_seen_from_a_distance_keeps_every_other_figure(km):
    # Every field set apart from its default, so a field left out or swapped shows.
    row = NodeAvailability(
        "SHOE-42", STORE, 9, 2, 1, 6, StockStatus.IN_STOCK, SourceSystem.POS, T0,
        backorder_date=T0.date(), distance_km=3.5, fetched_at=T0.replace(hour=10), held=2,
        incoming=4, via=Via.WEBHOOK, stale=True,
    )  # fmt: skip
    assert row.at_distance(km) == replace(row, distance_km=km)
