"""The pure parts of allocating a web order: where it is routed from when its address says
nothing, its state before allocation, and its exception on the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gateway.config import TruthSettings
from gateway.domain import Channel, GeoPoint, Location, Money, NodeType, SourceSystem
from gateway.domain.orders import Order, OrderEvent, OrderLine, OrderOrigin, OrderStatus
from gateway.domain.truth import DiscrepancyKind, Figure, Severity
from gateway.governance.exceptions import order_exception
from gateway.services.orders.web_placement import default_node, order_lines, placed
from gateway.truth.queue import opened

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
NORTH = Location("WH-NORTH", "North", NodeType.WAREHOUSE, SourceSystem.ERP, "N", GeoPoint(53, 10))
CENTRAL = Location("WH-CENTRAL", "Central", NodeType.WAREHOUSE, SourceSystem.ERP, "C")
STORE = Location("ST-A", "A", NodeType.STORE, SourceSystem.POS, "LA")


def shell(*lines: OrderLine) -> Order:
    return Order(
        id="web_7",
        origin=OrderOrigin.STOREFRONT,
        channel=Channel.ONLINE,
        status=OrderStatus.ALLOCATED,
        customer_email="a@example.org",
        customer_name="A",
        total=Money(Decimal("10.00"), "EUR"),
        lines=lines,
        created_at=NOW,
        updated_at=NOW,
        events=(OrderEvent(NOW, "IMPORTED", SourceSystem.STOREFRONT, None, OrderStatus.ALLOCATED),),
    )


def test_the_default_node_is_the_configured_one_else_the_first_shipping_warehouse():
    nodes = [STORE, NORTH, CENTRAL]
    assert default_node(nodes, None) == CENTRAL  # by id
    assert default_node(nodes, "WH-NORTH") == NORTH
    assert default_node(nodes, "WH-GONE") is None
    assert default_node([STORE], None) is None  # a store that does not ship online


def test_a_web_order_is_placed_until_the_gateway_allocates_it():
    before = placed(shell(OrderLine("SKU-1", 2, Money(Decimal("5.00"), "EUR"))))
    assert before.status is OrderStatus.PLACED
    assert [e.to_status for e in before.events] == [OrderStatus.PLACED]


def test_lines_are_merged_by_sku_and_a_line_with_no_sku_cannot_be_routed():
    price = Money(Decimal("5.00"), "EUR")
    lines, why = order_lines(shell(OrderLine("A", 1, price), OrderLine("A", 2, price)))
    assert why is None and [(x.sku, x.quantity) for x in lines] == [("A", 3)]
    lines, why = order_lines(shell(OrderLine("woo-line-17", 1, price, web_line_id=17)))
    assert lines == () and why == "WooCommerce line 17 has no SKU"


def test_an_unallocatable_order_is_owned_by_fulfilment_with_a_deadline_and_names_its_order():
    policy = TruthSettings()
    finding = order_exception(
        DiscrepancyKind.UNALLOCATABLE_ORDER,
        "web_7",
        system=SourceSystem.STOREFRONT,
        expected=Figure(SourceSystem.GATEWAY, "cannot allocate"),
        found=Figure(SourceSystem.STOREFRONT, "accepted"),
        rule="r",
        policy=policy,
    )
    record = opened(finding, "dsc_1", NOW, policy)
    assert record.key.order_id == "web_7"
    assert (record.owner, record.severity) == ("fulfilment", Severity.HIGH)
    assert (record.due_at - NOW).total_seconds() == policy.sla_hours[Severity.HIGH] * 3600


def test_a_stock_kind_is_not_an_order_exception():
    with pytest.raises(ValueError):
        order_exception(
            DiscrepancyKind.OVERSELL_RISK,
            "web_7",
            system=SourceSystem.STOREFRONT,
            expected=Figure(SourceSystem.GATEWAY, "1"),
            found=Figure(SourceSystem.STOREFRONT, "2"),
            rule="r",
            policy=TruthSettings(),
        )
