"""Order-state governance over the four simulators: the periodic check applies what a
system reports, and owns what it cannot apply as an ORDER_STATE_MISMATCH with an owner,
shown on the order, closed by itself once the system agrees again."""

from __future__ import annotations

from typing import Any

from tests.e2e.support import Stack, ok, ship_sales_order, system
from tests.e2e.test_order_transitions import (
    ORDER,
    SHIP,
    deliveries,
    shop,  # noqa: F401 - the fixture
    web_order_at_warehouse,
    woo_order,
)
from tests.woocommerce_support import API, KEY, SECRET, client

SEEN = """query ($id: ID!) { order(id: $id) { status
  exceptions { kind owner status severity copy { system value } }
  timeline { kind source fromStatus toStatus detail } } }"""


STAMPS = """query ($id: ID!) { order(id: $id) { updatedAt systems { system syncedAt } } }"""


async def set_woo_status(stack: Stack, web_id: int, status: str) -> None:
    woo = stack.apps["woocommerce"]
    async with client(woo, base_url="https://shop.test", auth=(KEY, SECRET)) as http:
        response = await http.put(f"{API}/orders/{web_id}", json={"status": status})
    assert response.status_code == 200, response.text


async def seen(stack: Stack, order_id: str) -> dict[str, Any]:
    return (await ok(stack.gql, SEEN, id=order_id))["order"]


async def test_given_the_erp_shipped_and_woocommerce_cancelled_then_a_mismatch_is_owned(
    shop: Stack,  # noqa: F811
):
    order_id, web = await web_order_at_warehouse(shop)
    so_name = system((await ok(shop.gql, ORDER, id=order_id))["order"], "ERP")["id"]
    # Given the warehouse shipped the order while a shop manager cancelled it in WooCommerce,
    await ship_sales_order(shop, so_name)
    await set_woo_status(shop, web["id"], "cancelled")

    # when the order-state check runs,
    report = await shop.services.order_watch.run()

    # then the shipment, a fact, is followed and the OMS is told;
    assert report.moved >= 1 and report.opened == 1
    order = await seen(shop, order_id)
    assert order["status"] == "SHIPPED"
    moved = [e for e in order["timeline"] if e["toStatus"] == "SHIPPED"]
    assert moved[-1]["source"] == "ERP"
    # WooCommerce's cancel is not applied, nor overwritten: customer service owns it,
    (exception,) = order["exceptions"]
    assert (exception["kind"], exception["owner"], exception["status"]) == (
        "ORDER_STATE_MISMATCH",
        "customer-service",
        "OPEN",
    )
    assert exception["copy"]["system"] == "STOREFRONT"
    assert "ERP says" in exception["copy"]["value"]
    assert any(e["kind"] == "ORDER_STATE_MISMATCH" for e in order["timeline"])
    await shop.drain()
    operations = [operation for operation, _ in await deliveries(shop, order_id)]
    assert "oms.fulfill" in operations and "web.update_order" not in operations
    assert "erp.cancel_sales_order" not in operations
    assert woo_order(shop, web).status == "cancelled"

    # and once WooCommerce is put right, the next check closes the exception by itself.
    await set_woo_status(shop, web["id"], "completed")
    again = await shop.services.order_watch.run()
    assert again.closed == 1
    final = await seen(shop, order_id)
    assert [(e["kind"], e["status"]) for e in final["exceptions"]] == [
        ("ORDER_STATE_MISMATCH", "AUTO_RESOLVED")
    ]


async def test_given_woocommerce_goes_back_after_shipment_then_the_check_says_so(
    shop: Stack,  # noqa: F811
):
    order_id, web = await web_order_at_warehouse(shop)
    await ok(shop.gql, SHIP, id=order_id, key="watch-ship")
    await shop.drain()
    assert woo_order(shop, web).status == "completed"  # the gateway wrote it
    before = await ok(shop.gql, STAMPS, id=order_id)
    assert (await shop.services.order_watch.run()).opened == 0  # everyone agrees
    after = await ok(shop.gql, STAMPS, id=order_id)
    # Nothing changed: the order is not touched, only when each record was last heard of.
    assert after["order"]["updatedAt"] == before["order"]["updatedAt"]
    synced = {s["system"]: s["syncedAt"] for s in after["order"]["systems"]}
    was = {s["system"]: s["syncedAt"] for s in before["order"]["systems"]}
    assert synced["OMS"] > was["OMS"] and synced["STOREFRONT"] > was["STOREFRONT"]

    # Given a shop manager puts the shipped order back to processing,
    await set_woo_status(shop, web["id"], "processing")
    report = await shop.services.order_watch.run()

    # then nothing moves backwards and the disagreement is owned,
    order = await seen(shop, order_id)
    assert report.opened == 1 and order["status"] == "SHIPPED"
    (exception,) = order["exceptions"]
    assert exception["copy"]["system"] == "STOREFRONT" and exception["status"] == "OPEN"
    assert "the order is SHIPPED" in exception["copy"]["value"]

    # until WooCommerce says what the gateway wrote there again.
    await set_woo_status(shop, web["id"], "completed")
    assert (await shop.services.order_watch.run()).closed == 1
    assert (await seen(shop, order_id))["status"] == "SHIPPED"
