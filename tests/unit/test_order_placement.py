"""What placing an order writes, decided without I/O (gateway.services.orders.draft)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gateway.domain import Capability, Channel, GeoPoint, Location, Money, NodeType, SourceSystem
from gateway.domain.orders import OrderStatus
from gateway.domain.reservations import HoldPlan, ReservationLine, ReservationStatus
from gateway.services.orders.draft import Allocation, PlaceOrderRequest, draft_placement

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WAREHOUSE = Location(
    "WH-CENTRAL", "Central", NodeType.WAREHOUSE, SourceSystem.ERP, "Central - NTR",
    GeoPoint(51.3, 9.5), oms_ref="gid://shopify/Location/1",
)  # fmt: skip
STORE = Location(
    "ST-MITTE", "Mitte", NodeType.STORE, SourceSystem.POS, "LMITTE",
    capabilities=frozenset({Capability.PICKUP}), oms_ref="gid://shopify/Location/2",
)  # fmt: skip
UNMAPPED_STORE = Location("ST-NEW", "New", NodeType.STORE, SourceSystem.POS, "LNEW")


def draft(location: Location, lines, plans, prices):
    request = PlaceOrderRequest(
        lines=tuple(lines),
        channel=Channel.PICKUP,
        email=" kim@example.com ",
        name="Kim",
        pickup_location_id=location.id,
    )
    return draft_placement(
        order_id="ord_1",
        request=request,
        allocations=[Allocation(location, "res_1", tuple(lines), tuple(plans))],
        prices=prices,
        routing_summary=f"1 shipment: {location.name} ({location.id})",
        locations=[WAREHOUSE, STORE, UNMAPPED_STORE],
        now=NOW,
        hold_for=timedelta(days=7),
        erp_customer="Web Customer",
    )


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_given_a_warehouse_order_then_a_reserving_sales_order_and_an_oms_order_are_owed():
    lines = [ReservationLine("SHOE", 1), ReservationLine("SOCK", 2)]
    plans = [HoldPlan("SHOE", 1, "SHOE", 1), HoldPlan("SOCK", 2, "SOCK", 2)]
    placed = draft(WAREHOUSE, lines, plans, {"SHOE": eur("129.00"), "SOCK": eur("14.99")})

    # The total is exact decimal arithmetic, never float.
    assert placed.order.total == eur("158.98")
    assert placed.order.status is OrderStatus.ALLOCATED
    assert placed.order.customer_email == "kim@example.com"
    assert [e.kind for e in placed.order.events] == ["PLACED", "ALLOCATED"]
    assert "Central (WH-CENTRAL)" in placed.order.events[1].detail
    (reservation,) = placed.reservations
    assert reservation.status is ReservationStatus.CONFIRMED
    assert reservation.order_id == "ord_1"
    assert [m.kind for m in placed.messages] == ["erp.submit_sales_order", "oms.create_order"]
    sales_order = placed.messages[0].payload()["draft"]
    assert sales_order["reference"] == "ord_1"
    assert [(x["sku"], x["quantity"], x["warehouse"]) for x in sales_order["lines"]] == [
        ("SHOE", 1, "Central - NTR"),
        ("SOCK", 2, "Central - NTR"),
    ]
    allocations = placed.messages[1].payload()["draft"]["allocations"]
    assert {a["location_ref"] for a in allocations} == {"gid://shopify/Location/1"}


def test_given_a_store_order_then_one_pos_sale_per_sku_is_owed():
    # A kit and one of its components hold the same SKU twice; Square hears of it once.
    lines = [ReservationLine("KIT", 1), ReservationLine("SOCK", 1)]
    plans = [
        HoldPlan("KIT", 1, "SHOE", 1),
        HoldPlan("KIT", 1, "SOCK", 1),
        HoldPlan("SOCK", 1, "SOCK", 1),
    ]
    placed = draft(STORE, lines, plans, {"KIT": eur("139.00"), "SOCK": eur("14.99")})

    sales = [m for m in placed.messages if m.kind == "pos.record_sale"]
    assert sorted((m.payload()["sku"], m.payload()["quantity"]) for m in sales) == [
        ("SHOE", 1),
        ("SOCK", 2),
    ]
    assert len({m.reference for m in sales}) == len(sales)


def test_given_a_node_the_oms_does_not_know_then_no_oms_order_is_owed():
    lines = [ReservationLine("SOCK", 1)]
    placed = draft(UNMAPPED_STORE, lines, [HoldPlan("SOCK", 1, "SOCK", 1)], {"SOCK": eur("9.99")})

    assert [m.kind for m in placed.messages] == ["pos.record_sale"]


def test_given_a_split_plan_then_each_node_holds_its_part_under_its_own_reference():
    request = PlaceOrderRequest(
        lines=(ReservationLine("SHOE", 1), ReservationLine("SOCK", 3)),
        channel=Channel.ONLINE,
        email="kim@example.com",
        name="Kim",
    )
    placed = draft_placement(
        order_id="ord_2",
        request=request,
        allocations=[
            Allocation(
                WAREHOUSE,
                "res_w",
                (ReservationLine("SHOE", 1), ReservationLine("SOCK", 1)),
                (HoldPlan("SHOE", 1, "SHOE", 1), HoldPlan("SOCK", 1, "SOCK", 1)),
            ),
            Allocation(
                STORE, "res_s", (ReservationLine("SOCK", 2),), (HoldPlan("SOCK", 2, "SOCK", 2),)
            ),
        ],
        prices={"SHOE": eur("129.00"), "SOCK": eur("14.99")},
        routing_summary="2 shipments",
        locations=[WAREHOUSE, STORE],
        now=NOW,
        hold_for=timedelta(days=7),
        erp_customer="Web Customer",
    )

    assert [(x.sku, x.quantity, x.location_id) for x in placed.order.lines] == [
        ("SHOE", 1, "WH-CENTRAL"),
        ("SOCK", 1, "WH-CENTRAL"),
        ("SOCK", 2, "ST-MITTE"),
    ]
    assert placed.order.total == eur("173.97")
    assert [(r.id, r.location_id) for r in placed.reservations] == [
        ("res_w", "WH-CENTRAL"),
        ("res_s", "ST-MITTE"),
    ]
    by_operation = {m.kind: m for m in placed.messages}
    assert by_operation["erp.submit_sales_order"].reference == "ord_2@WH-CENTRAL"
    assert by_operation["pos.record_sale"].reference == "ord_2@ST-MITTE:sale:SOCK"
    allocations = by_operation["oms.create_order"].payload()["draft"]["allocations"]
    assert sorted((a["location_ref"], a["sku"], a["quantity"]) for a in allocations) == [
        ("gid://shopify/Location/1", "SHOE", 1),
        ("gid://shopify/Location/1", "SOCK", 1),
        ("gid://shopify/Location/2", "SOCK", 2),
    ]
