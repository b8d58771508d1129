"""Planning holds: line validation, kits, and what a short position can still give."""

from datetime import UTC, datetime

import pytest

from gateway.domain import (
    Kit,
    KitComponent,
    Location,
    NodeType,
    SourceSystem,
    StockReading,
)
from gateway.domain.ledger import shortfalls
from gateway.domain.reservations import (
    HoldPlan,
    LedgerEntry,
    LedgerKind,
    ReservationLine,
    needed_by_sku,
)
from gateway.errors import BadUserInput
from gateway.services.availability import node_availability
from gateway.services.holds import MAX_QUANTITY, normalise_lines, per_sku, plan_holds

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
STORE = Location("ST-A", "A Store", NodeType.STORE, SourceSystem.POS, "LA", safety_stock=1)
KIT = Kit("KIT", (KitComponent("SHOE", 1), KitComponent("SOCK", 3)))


def row(sku, on_hand, reserved=0):
    reading = StockReading(sku, SourceSystem.POS, "LA", on_hand, reserved, T0)
    return node_availability(sku, STORE, reading, low_threshold=2)


def test_given_repeated_skus_when_normalised_then_they_merge_in_first_seen_order():
    lines = [ReservationLine("B", 1), ReservationLine(" A ", 2), ReservationLine("B", 3)]
    assert normalise_lines(lines) == (ReservationLine("B", 4), ReservationLine("A", 2))


@pytest.mark.parametrize("quantity", [0, -1])
def test_given_a_quantity_below_one_then_the_request_is_refused_naming_the_field(quantity):
    with pytest.raises(BadUserInput) as refused:
        normalise_lines([ReservationLine("A", quantity)])
    assert refused.value.details["field"] == "quantity"
    assert "A" in refused.value.message


def test_given_no_lines_or_a_blank_sku_or_too_much_then_refused():
    with pytest.raises(BadUserInput):
        normalise_lines([])
    with pytest.raises(BadUserInput):
        normalise_lines([ReservationLine("  ", 1)])
    # Two lines that only together exceed the limit are still refused.
    half = MAX_QUANTITY // 2 + 1
    with pytest.raises(BadUserInput):
        normalise_lines([ReservationLine("A", half), ReservationLine("A", half)])


def test_given_a_kit_line_when_planned_then_its_components_are_held_per_kit_quantity():
    plans = plan_holds([ReservationLine("KIT", 2), ReservationLine("SOCK", 1)], {"KIT": KIT})
    assert plans == [
        HoldPlan("KIT", 2, "SHOE", 2),
        HoldPlan("KIT", 2, "SOCK", 6),
        HoldPlan("SOCK", 1, "SOCK", 1),
    ]
    # The kit's socks and the loose sock are one need on the shelf.
    assert needed_by_sku(plans) == {"SHOE": 2, "SOCK": 7}


def test_given_a_kit_and_its_component_then_the_source_is_written_once_per_sku():
    plans = plan_holds([ReservationLine("KIT", 1), ReservationLine("SOCK", 2)], {"KIT": KIT})
    assert per_sku(plans) == [HoldPlan("SHOE", 1, "SHOE", 1), HoldPlan("SOCK", 5, "SOCK", 5)]


def test_given_enough_stock_then_there_is_no_shortfall():
    assert shortfalls({"SHOE": 4}, {"SHOE": row("SHOE", 5)}, [], STORE) == []


def test_given_too_little_stock_then_the_shortfall_says_what_is_still_available():
    # 8 on hand, 1 reserved, 1 safety stock, 2 already held by the gateway: 4 left
    entries = [LedgerEntry("SHOE", "ST-A", LedgerKind.HOLD, 2)]
    short = shortfalls({"SHOE": 5, "SOCK": 1}, {"SHOE": row("SHOE", 8, 1)}, entries, STORE)
    assert short == [
        {"sku": "SHOE", "locationId": "ST-A", "requested": 5, "available": 4},
        # A SKU the node has no figure for has nothing to give.
        {"sku": "SOCK", "locationId": "ST-A", "requested": 1, "available": 0},
    ]


def test_given_holds_at_another_node_then_they_do_not_reduce_this_one():
    entries = [LedgerEntry("SHOE", "ST-OTHER", LedgerKind.HOLD, 5)]
    assert shortfalls({"SHOE": 4}, {"SHOE": row("SHOE", 5)}, entries, STORE) == []
