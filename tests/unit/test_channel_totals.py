"""``channel_totals`` (the reconciler's ONLINE truth) against the per-node rows the API
serves: the same sums, whatever the readings, holds, restocks and kits."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import (
    Capability,
    Kit,
    KitComponent,
    Location,
    NodeType,
    SourceSystem,
    StockReading,
    StoreSum,
)
from gateway.domain.ledger import by_position, overlay, store_sum
from gateway.domain.reservations import LedgerEntry, LedgerKind
from gateway.services.availability import (
    channel_totals,
    kit_node_availability,
    node_availability,
    observed_at,
)

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SKUS = ("A", "B", "C")
KIT = Kit("K", (KitComponent("A", 1), KitComponent("B", 2)))
NODES = (
    Location("WH-1", "W1", NodeType.WAREHOUSE, SourceSystem.ERP, "W1 - NTR"),
    Location("WH-2", "W2", NodeType.WAREHOUSE, SourceSystem.ERP, "W2 - NTR", safety_stock=2),
    Location(
        "ST-1", "S1", NodeType.STORE, SourceSystem.POS, "L1",
        capabilities=frozenset({Capability.SHIP_FROM_STORE}), safety_stock=1,
    ),
    Location(
        "ST-2", "S2", NodeType.STORE, SourceSystem.POS, "L2",
        capabilities=frozenset({Capability.SHIP_FROM_STORE}), safety_stock=1,
    ),
)  # fmt: skip

readings = st.dictionaries(
    st.tuples(st.sampled_from(SKUS), st.sampled_from(NODES)),
    st.tuples(st.integers(-3, 40), st.integers(0, 10), st.integers(0, 120)),
    max_size=12,
)
entries = st.lists(
    st.builds(
        lambda sku, node, kind, qty, minutes: LedgerEntry(
            sku, node.id, kind, qty, None if minutes is None else T0 + timedelta(minutes=minutes)
        ),
        st.sampled_from(SKUS),
        st.sampled_from(NODES),
        st.sampled_from(LedgerKind),
        st.integers(1, 6),
        st.none() | st.integers(0, 120),
    ),
    max_size=10,
)


def served_rows(stock, ledger):
    """The rows ``AvailabilityService.by_node`` builds for every node, kits expanded."""
    plain = {
        sku: {
            loc.id: node_availability(
                sku,
                loc,
                reading := stock.get((sku, loc.id)),
                low_threshold=5,
                gateway=overlay(ledger.get((sku, loc.id), ()), observed_at(reading)),
            )
            for loc in NODES
        }
        for sku in SKUS
    }
    kit = {
        loc.id: kit_node_availability(
            KIT, {c.sku: plain[c.sku][loc.id] for c in KIT.components}, loc, 5
        )
        for loc in NODES
    }
    return {**plain, KIT.sku: kit}


@given(readings, entries)
def test_totals_are_the_sums_of_the_served_rows(drawn, movements):
    stock = {
        (sku, loc.id): StockReading(
            sku, loc.source, loc.source_ref, on_hand, reserved, T0 + timedelta(minutes=minutes)
        )
        for (sku, loc), (on_hand, reserved, minutes) in drawn.items()
    }
    ledger = by_position(movements)
    rows = served_rows(stock, ledger)

    totals = channel_totals([*SKUS, KIT.sku], {KIT.sku: KIT}, NODES, stock.values(), ledger)

    for sku, by_node in rows.items():
        assert totals[sku].available == sum(r.available_to_promise for r in by_node.values())
        times = [r.as_of for r in by_node.values() if r.as_of is not None]
        assert totals[sku].as_of == (min(times) if times else None)
    for sku in SKUS:
        for system in (SourceSystem.ERP, SourceSystem.POS):
            expected = sum(r.on_hand for r in rows[sku].values() if r.location.source is system)
            assert totals[sku].on_hand.get(system, 0) == expected


@given(readings, entries)
def test_store_readings_summed_ahead_give_the_same_totals(drawn, movements):
    # The reconciler keeps each SKU's store counts added up; a SKU with no ledger entry at
    # a store and in no kit may be given as that sum instead of its store readings.
    stock = [
        StockReading(
            sku, loc.source, loc.source_ref, on_hand, reserved, T0 + timedelta(minutes=minutes)
        )
        for (sku, loc), (on_hand, reserved, minutes) in drawn.items()
    ]
    ledger = by_position(movements)
    stores = [n for n in NODES if n.source is SourceSystem.POS]
    held = {sku for sku, location_id in ledger if location_id in {s.id for s in stores}}
    summable = {"C"} - held  # A and B are the kit's components
    safety = {s.source_ref: s.safety_stock for s in stores}
    at_stores = [r for r in stock if r.source is SourceSystem.POS]
    sums = {sku: store_sum([r for r in at_stores if r.sku == sku], safety) for sku in summable}
    rest = [r for r in stock if not (r.source is SourceSystem.POS and r.sku in summable)]
    skus = [*SKUS, KIT.sku]

    whole = channel_totals(skus, {KIT.sku: KIT}, NODES, stock, ledger)
    summed = channel_totals(skus, {KIT.sku: KIT}, NODES, rest, ledger, sums)

    assert summed == whole


def test_a_kit_component_or_a_held_sku_cannot_come_summed():
    total = StoreSum(3, 4, T0)
    held = by_position([LedgerEntry("C", "ST-1", LedgerKind.HOLD, 1)])
    with pytest.raises(ValueError, match="one by one"):
        channel_totals(["A"], {KIT.sku: KIT}, NODES, [], {}, {"A": total})
    with pytest.raises(ValueError, match="one by one"):
        channel_totals(["C"], {}, NODES, [], held, {"C": total})


def test_a_node_outside_the_channel_counts_for_nothing():
    pickup_only = Location(
        "ST-9", "S9", NodeType.STORE, SourceSystem.POS, "L9",
        capabilities=frozenset({Capability.PICKUP}),
    )  # fmt: skip
    stock = [StockReading("A", SourceSystem.POS, "L9", 30, 0, T0)]
    holds = by_position([LedgerEntry("A", "ST-9", LedgerKind.RESTOCK, 4)])

    totals = channel_totals(["A"], {}, NODES, stock, holds)

    assert totals["A"].available == 0
    assert totals["A"].as_of is None
    assert pickup_only.id not in {n.id for n in NODES}
