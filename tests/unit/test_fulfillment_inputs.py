"""How the planner turns the node directory and the gateway's own orders into the
router's inputs (gateway.services.fulfillment, gateway.nodes), without I/O."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest

from gateway.config import RoutingSettings
from gateway.domain import (
    FulfillmentTerms,
    GeoPoint,
    Location,
    NodeAvailability,
    NodeType,
    SourceSystem,
    StockStatus,
)
from gateway.domain.reservations import ReservationLine
from gateway.errors import BadUserInput
from gateway.nodes import load_node_file
from gateway.routing import Strategy
from gateway.services.fulfillment import (
    PlanQuery,
    candidate_node,
    node_defaults,
    pick_day,
    validate_query,
)

SETTINGS = RoutingSettings()
STORE = Location(
    "ST-MITTE", "Mitte", NodeType.STORE, SourceSystem.POS, "L1", GeoPoint(52.52, 13.41)
)


def row(sku: str, atp: int, fetched: datetime | None) -> NodeAvailability:
    return NodeAvailability(
        sku, STORE, atp, 0, 0, atp, StockStatus.IN_STOCK, SourceSystem.POS, None,
        fetched_at=fetched,
    )  # fmt: skip


def test_before_the_local_cutoff_the_pick_day_began_at_yesterdays_cutoff() -> None:
    # 15:00 UTC is 16:00 in Berlin in winter: before an 18:00 cut-off.
    day = pick_day(time(18, 0), "Europe/Berlin", datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    assert day.cutoff_utc == time(17, 0)
    assert day.began == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)


def test_after_the_local_cutoff_orders_count_towards_the_next_pick_day() -> None:
    day = pick_day(time(18, 0), "Europe/Berlin", datetime(2026, 11, 23, 17, 30, tzinfo=UTC))
    assert day.began == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    # In summer the same local cut-off is an hour earlier in UTC.
    summer = pick_day(time(18, 0), "Europe/Berlin", datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert summer.cutoff_utc == time(16, 0)


def test_a_node_gets_capacity_left_days_of_supply_and_the_age_of_its_oldest_figure() -> None:
    day = pick_day(time(18, 0), "Europe/Berlin", datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    older = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    node = candidate_node(
        STORE,
        {"A": row("A", 30, datetime(2026, 11, 23, 8, 59, tzinfo=UTC)), "B": row("B", 4, older)},
        defaults=node_defaults(STORE, SETTINGS),
        day=day,
        routed=45,
        sold={"A": 14, "B": 0},
        window_days=28,
    )
    assert node.capacity == SETTINGS.store.daily_capacity - 45
    assert node.atp == {"A": 30, "B": 4}
    assert node.days_of_supply == {"A": 60}  # 30 units at 14 per 28 days; B has no demand
    assert node.stock_as_of == older
    assert node.handling_per_order == SETTINGS.store.handling_per_order
    assert node.cutoff == time(17, 0)


def test_a_nodes_own_terms_override_its_types_defaults() -> None:
    own = FulfillmentTerms(daily_capacity=10, handling_per_order=99, handling_per_unit=1)
    store = Location(
        "ST-X", "X", NodeType.STORE, SourceSystem.POS, "LX", terms=own
    )  # fmt: skip
    day = pick_day(time(18, 0), "Europe/Berlin", datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    node = candidate_node(
        store, {}, defaults=node_defaults(store, SETTINGS), day=day, routed=12, sold={},
        window_days=28,
    )  # fmt: skip
    assert (node.capacity, node.handling_per_order, node.handling_per_unit) == (0, 99, 1)


def test_the_node_file_carries_fulfillment_terms(tmp_path) -> None:
    path = tmp_path / "nodes.json"
    path.write_text(
        json.dumps(
            {
                "nodes": [
                    {
                        "source": "POS",
                        "ref": "L1",
                        "daily_capacity": 40,
                        "cutoff": "17:30",
                        "timezone": "Europe/Vienna",
                        "handling_per_order": 300,
                        "handling_per_unit": 25,
                    }
                ]
            }
        )
    )
    (override,) = load_node_file(path).values()
    assert override.terms == FulfillmentTerms(40, time(17, 30), "Europe/Vienna", 300, 25)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (PlanQuery(lines=()), "exactly one of"),
        (
            PlanQuery(lines=(), destination=GeoPoint(52.5, 13.4), pickup_location_id="ST-1"),
            "exactly one of",
        ),
        (PlanQuery(lines=(), destination=GeoPoint(95.0, 13.4)), "outside -90..90"),
        (
            PlanQuery(lines=(), destination=GeoPoint(52.5, 13.4), strategy=Strategy.PICKUP),
            "PICKUP",
        ),
        (PlanQuery(lines=(), pickup_location_id="ST-1", strategy=Strategy.COST), "PICKUP"),
        (
            PlanQuery(lines=(), destination=GeoPoint(52.5, 13.4), deliver_by=date(2026, 11, 22)),
            "in the past",
        ),
        (
            PlanQuery(lines=(), destination=GeoPoint(52.5, 13.4), service_level="DRONE"),
            "known: STANDARD, EXPRESS",
        ),
    ],
)
def test_a_question_the_router_cannot_answer_is_refused(query: PlanQuery, message: str) -> None:
    with pytest.raises(BadUserInput, match=message):
        validate_query(query, SETTINGS, date(2026, 11, 23))


def test_the_channel_decides_the_default_strategy() -> None:
    line = (ReservationLine("A", 1),)
    delivery = PlanQuery(lines=line, destination=GeoPoint(52.5, 13.4))
    pickup = PlanQuery(lines=line, pickup_location_id="ST-1")
    assert validate_query(delivery, SETTINGS, date(2026, 11, 23)) is Strategy.COST
    assert validate_query(pickup, SETTINGS, date(2026, 11, 23)) is Strategy.PICKUP


def test_the_rate_table_and_policy_are_configuration(monkeypatch) -> None:
    from gateway.config import Settings
    from gateway.services.fulfillment import routing_policy, shipping_model

    monkeypatch.setenv("ROUTING__SPLIT_PENALTY", "450")
    monkeypatch.setenv(
        "ROUTING__SERVICES",
        '[{"name": "ECONOMY", "bands": [{"up_to_km": 300, "first_parcel": 399, '
        '"additional_parcel": 99, "transit_days": 4}]}]',
    )
    settings = Settings(_env_file=None).routing
    assert routing_policy(settings).split_penalty == 450
    (economy,) = shipping_model(settings).services
    assert economy.name == "ECONOMY" and economy.bands[0].first_parcel == 399
