"""What a webhook names and when it happened (gateway.events.meaning), on the contracts'
documented deliveries and on the shapes the simulators send."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import SourceSystem
from gateway.events.identity import topic_of
from gateway.events.meaning import (
    DEFAULT_MAX_AGE,
    FUTURE_SKEW,
    Named,
    happened_at,
    is_stale,
    named_by,
)
from tests.contracts import load_contract


def documented(backend: str, name: str) -> tuple[dict[str, str], dict]:
    found = load_contract(backend, name)["delivery"]
    return found["headers"], json.loads(found["body_raw"])


def meaning(system: SourceSystem, headers: dict[str, str], payload: dict) -> Named:
    return named_by(system, topic_of(system, headers, payload), payload)


def test_a_square_count_event_names_its_variations_and_locations():
    headers, payload = documented("pos", "webhook.inventory.count.updated")
    named = meaning(SourceSystem.POS, headers, payload)
    assert named.square_variations == {"H7CY2PB5WK3XQ9TN6RMZ4LDV"}
    assert named.locations == {"L8D2Q4W5ZC1XN"} and named.stock
    # Square stamps nanoseconds: read to the microsecond, in UTC.
    assert happened_at(SourceSystem.POS, headers, payload) == datetime(
        2026, 11, 20, 10, 16, 42, 551920, tzinfo=UTC
    )


def test_a_woocommerce_product_event_names_its_sku_and_an_order_event_its_order():
    headers, product = documented("woocommerce", "webhook.delivery.product.updated")
    assert meaning(SourceSystem.STOREFRONT, headers, product).skus == {product["sku"]}
    headers, order = documented("woocommerce", "webhook.delivery.order.created")
    named = meaning(SourceSystem.STOREFRONT, headers, order)
    assert (named.web_order, named.stock) == (order["id"], False)
    # WooCommerce carries no event time: its date_modified is the resource's, not the send's.
    assert happened_at(SourceSystem.STOREFRONT, headers, order) is None


def test_a_shopify_order_event_names_the_gateway_order_and_its_time():
    headers, payload = documented("oms", "webhook.delivery")
    named = meaning(SourceSystem.OMS, headers, payload)
    assert (named.order, named.oms_order) == ("wc-10482", "gid://shopify/Order/6120456781234")
    assert happened_at(SourceSystem.OMS, headers, payload) == datetime(
        2026, 11, 20, 10, 16, 45, 123456, tzinfo=UTC
    )
    # A split order's reference (order@node) names the order.
    assert named_by(
        SourceSystem.OMS, "orders/updated", {"source_identifier": "ord_1@WH"}
    ).order == ("ord_1")


def test_a_shopify_fulfillment_order_event_names_its_order_by_gid():
    by_gid = {"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/1",
                                    "order_id": "gid://shopify/Order/42"}}  # fmt: skip
    by_number = {"fulfillment_order": {"id": 1, "order_id": 42}}
    for payload in (by_gid, by_number):
        named = named_by(SourceSystem.OMS, "fulfillment_orders/hold_released", payload)
        assert named.oms_order == "gid://shopify/Order/42"


def test_erpnext_stock_and_sales_order_events():
    headers, payload = documented("erp", "webhook.delivery")
    assert meaning(SourceSystem.ERP, headers, payload).order == "WC-10482"
    bin_event = {"doctype": "Bin", "name": "MAT-BIN-1", "item_code": "SKU-1", "warehouse": "W"}
    named = named_by(SourceSystem.ERP, "Bin", bin_event)
    assert (named.skus, named.locations) == ({"SKU-1"}, {"W"})
    ledger = named_by(SourceSystem.ERP, "Stock Ledger Entry", {**bin_event, "name": "SLE-1"})
    assert ledger.skus == {"SKU-1"}
    assert named_by(SourceSystem.ERP, "Sales Order", {"po_no": "ord_9@WH-A"}).order == "ord_9"


def test_what_an_event_does_not_say_names_nothing():
    assert named_by(SourceSystem.POS, "inventory.count.updated", {"data": "x"}) == Named()
    assert named_by(SourceSystem.ERP, "Bin", {"name": "MAT-BIN-1"}) == Named()
    assert named_by(SourceSystem.OMS, "shop/update", {"id": 1}) == Named()
    assert named_by(SourceSystem.POS, "catalog.version.updated", {}).catalogue


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@given(st.timedeltas(min_value=-DEFAULT_MAX_AGE, max_value=FUTURE_SKEW))
def test_property_an_event_within_the_window_is_never_stale(offset: timedelta):
    assert not is_stale(NOW + offset, NOW)


@given(st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3650)))
def test_property_an_event_beyond_the_window_either_way_is_stale(beyond: timedelta):
    assert is_stale(NOW - DEFAULT_MAX_AGE - beyond, NOW)
    assert is_stale(NOW + FUTURE_SKEW + beyond, NOW)


def test_an_event_without_a_time_is_judged_by_its_identity_alone():
    assert not is_stale(None, NOW)
    assert happened_at(SourceSystem.OMS, {"X-Shopify-Triggered-At": "yesterday"}, {}) is None
