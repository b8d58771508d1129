"""State changes carried to every system that holds the order, each through the outbox and
each checked in the simulator's own state: a web order shipped from a warehouse gets its
ERPNext Delivery Note, its Shopify fulfilment with tracking and its WooCommerce status and
note; a cancel reaches the ERP, the OMS and WooCommerce; a cancel after the warehouse
shipped is refused before anything is written; an ERP-side cancel reaches Shopify and
WooCommerce."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.config import NodeTermsSettings, RoutingSettings
from tests.e2e.support import (
    SHOE,
    Stack,
    erp_bin,
    error_of,
    gateway,
    ok,
    oms_orders_for,
    place,
    rows,
    ship_sales_order,
    system,
)
from tests.e2e.test_web_orders import checkout, deliveries, imported

# Stores made dear, so the warehouse (the ERP) ships these orders.
WAREHOUSE_SHIPS = RoutingSettings(
    store=NodeTermsSettings(daily_capacity=60, cutoff="23:59", handling_per_order=10**7)
)
FIELDS = """id status systems { system id status } tracking { company number }
  fulfillmentLocationIds timeline { kind source fromStatus toStatus detail }"""
ORDER = f"query ($id: ID!) {{ order(id: $id) {{ {FIELDS} }} }}"
SHIP = f"""mutation ($id: ID!, $key: String!) {{ shipOrder(id: $id, idempotencyKey: $key,
  tracking: {{company: "DHL", number: "00340434161234567890"}}) {{ {FIELDS} }} }}"""
DELIVERED = f"""mutation ($id: ID!, $key: String!) {{
  confirmDelivery(id: $id, idempotencyKey: $key) {{ {FIELDS} }} }}"""
CANCEL = f"""mutation ($id: ID!, $key: String!) {{
  cancelOrder(id: $id, idempotencyKey: $key, reason: "customer asked") {{ {FIELDS} }} }}"""
SYNC = f"""mutation ($id: ID!, $key: String!) {{
  syncOrder(id: $id, idempotencyKey: $key) {{ {FIELDS} }} }}"""


@pytest.fixture
async def shop(dataset, tmp_path) -> AsyncIterator[Stack]:
    async with gateway(dataset, tmp_path, routing=WAREHOUSE_SHIPS) as stack:
        await imported(stack)
        yield stack


async def web_order_at_warehouse(stack: Stack, quantity: int = 2) -> tuple[str, dict[str, Any]]:
    """A paid WooCommerce checkout order, imported, held at one warehouse and written
    everywhere it is owed."""
    web = await checkout(stack, [(SHOE, quantity)])
    await stack.services.web_orders.sync()
    await stack.drain()
    order_id = f"web_{web['id']}"
    order = (await ok(stack.gql, ORDER, id=order_id))["order"]
    (node,) = order["fulfillmentLocationIds"]
    assert node.startswith("WH-"), order
    assert system(order, "ERP")["id"] and system(order, "OMS")["id"]
    return order_id, web


def woo_order(stack: Stack, web: dict[str, Any]) -> Any:
    return stack.apps["woocommerce"].state.orders.get(web["id"])


def sales_order(stack: Stack, name: str) -> dict[str, Any]:
    return stack.apps["erp"].state.store.document("Sales Order", name)


def warehouse_of(stack: Stack, so_name: str) -> str:
    """The ERPNext warehouse of the Sales Order's rows."""
    (warehouse,) = {r["warehouse"] for r in sales_order(stack, so_name)["items"]}
    return str(warehouse)


async def test_given_a_web_order_shipped_then_erp_oms_and_woocommerce_each_record_it(
    shop: Stack,
):
    order_id, web = await web_order_at_warehouse(shop)
    so_name = system((await ok(shop.gql, ORDER, id=order_id))["order"], "ERP")["id"]
    ref = warehouse_of(shop, so_name)
    actual, reserved = erp_bin(shop.apps, SHOE, ref)

    # When the warehouse team ships it with tracking,
    shipped = (await ok(shop.gql, SHIP, id=order_id, key="ship-1"))["shipOrder"]
    assert shipped["status"] == "SHIPPED"
    await shop.drain()

    # then ERPNext has a Delivery Note against its Sales Order: the units left the Bin,
    so = sales_order(shop, so_name)
    assert (so["status"], so["per_delivered"]) == ("To Bill", 100.0)
    assert erp_bin(shop.apps, SHOE, ref) == (actual - 2, reserved - 2)
    notes = shop.apps["erp"].state.store.table("Delivery Note").rows()
    assert [n["po_no"] for n in notes] == [f"{order_id}:deliver"]
    # Shopify's fulfillment orders are closed with the tracking number,
    (oms,) = oms_orders_for(shop.apps, order_id)
    shop_fos = [
        fo for fo in shop.apps["oms"].state.shop.fulfillment_orders.values() if fo.order is oms
    ]
    assert {fo.status for fo in shop_fos} == {"CLOSED"}
    tracking = [t for fo in shop_fos for f in fo.fulfillments for t in f.tracking_info]
    assert any(t.get("number") == "00340434161234567890" for t in tracking)
    # and WooCommerce shows it completed, the customer told the tracking number.
    woo = woo_order(shop, web)
    assert woo.status == "completed"
    told = [n.note for n in woo.notes if n.customer_note]
    assert any("00340434161234567890" in note for note in told), told
    assert {status for _, status in await deliveries(shop, order_id)} == {"DELIVERED"}

    # When it is delivered, the customer hears once, and WooCommerce's "completed" (which
    # the gateway wrote) does not move the order anywhere on the next import.
    await ok(shop.gql, DELIVERED, id=order_id, key="delivered-1")
    await ok(shop.gql, DELIVERED, id=order_id, key="delivered-2")
    await shop.drain()
    await shop.services.web_orders.sync()
    woo = woo_order(shop, web)
    assert [n.note for n in woo.notes if n.customer_note].count("Your order was delivered.") == 1
    final = (await ok(shop.gql, ORDER, id=order_id))["order"]
    assert final["status"] == "DELIVERED"
    assert [e["toStatus"] for e in final["timeline"] if e["toStatus"]][-2:] == [
        "SHIPPED",
        "DELIVERED",
    ]


async def test_given_a_web_order_cancelled_in_the_gateway_then_every_system_cancels_it(
    shop: Stack,
):
    order_id, web = await web_order_at_warehouse(shop)
    so_name = system((await ok(shop.gql, ORDER, id=order_id))["order"], "ERP")["id"]

    cancelled = (await ok(shop.gql, CANCEL, id=order_id, key="cancel-1"))["cancelOrder"]
    assert cancelled["status"] == "CANCELLED"
    await shop.drain()

    assert sales_order(shop, so_name)["status"] == "Cancelled"
    (oms,) = oms_orders_for(shop.apps, order_id)
    assert oms.cancelled_at is not None
    woo = woo_order(shop, web)
    assert woo.status == "cancelled"
    assert any("customer asked" in n.note for n in woo.notes if n.customer_note)
    owed = await deliveries(shop, order_id)
    assert {status for _, status in owed} == {"DELIVERED"}, owed
    assert ("web.update_order", "DELIVERED") in owed


async def test_given_the_warehouse_shipped_when_cancelled_then_refused_before_any_write(
    shop: Stack,
):
    order_id, web = await web_order_at_warehouse(shop)
    so_name = system((await ok(shop.gql, ORDER, id=order_id))["order"], "ERP")["id"]
    # Given the warehouse shipped it on its own (the gateway not yet told),
    await ship_sales_order(shop, so_name)
    before = await deliveries(shop, order_id)

    # when support tries to cancel it, it is refused, naming the ERP and the way out,
    refused = await shop.gql(CANCEL, id=order_id, key="cancel-late")
    (error,) = refused["errors"]
    assert error["extensions"]["code"] == "ILLEGAL_TRANSITION"
    assert error["extensions"]["reportedBy"] == ["ERP"]
    assert "To Bill" in error["message"] and "requestReturn" in error["message"]
    # and nothing was written anywhere.
    assert await deliveries(shop, order_id) == before
    assert (await ok(shop.gql, ORDER, id=order_id))["order"]["status"] == "ALLOCATED"
    assert woo_order(shop, web).status == "processing"
    (oms,) = oms_orders_for(shop.apps, order_id)
    assert oms.cancelled_at is None


async def test_given_the_erp_cancels_the_sales_order_then_shopify_and_woocommerce_follow(
    shop: Stack,
):
    order_id, web = await web_order_at_warehouse(shop)
    so_name = system((await ok(shop.gql, ORDER, id=order_id))["order"], "ERP")["id"]
    settings = shop.settings()
    async with httpx.AsyncClient(base_url=settings.erp_base_url) as http:
        response = await http.post(
            "/api/method/frappe.client.cancel",
            json={"doctype": "Sales Order", "name": so_name},
            headers={"Authorization": f"token {settings.erp_api_key}:{settings.erp_api_secret}"},
        )
    assert response.status_code == 200, response.text

    synced = (await ok(shop.gql, SYNC, id=order_id, key="sync-erp-cancel"))["syncOrder"]
    assert synced["status"] == "CANCELLED"
    assert synced["timeline"][-1]["source"] == "ERP"
    await shop.drain()

    (oms,) = oms_orders_for(shop.apps, order_id)
    assert oms.cancelled_at is not None
    assert woo_order(shop, web).status == "cancelled"
    operations = [operation for operation, _ in await deliveries(shop, order_id)]
    # The ERP did it itself: it is not asked again.
    assert "erp.cancel_sales_order" not in operations
    assert {"oms.cancel_order", "web.update_order"} <= set(operations)


FAILURES = """query ($key: String) { deliveryFailures(orderingKey: $key) {
  id operation status blockedBy lastError } }"""
DELIVERIES_SEEN = """query ($id: ID!) { orderDeliveries(orderId: $id) {
  id operation status blockedBy attempts } }"""
EXCEPTIONS = """query ($id: ID!) { order(id: $id) { status
  exceptions { kind owner severity status orderId copy { system value } }
  timeline { kind source detail } } }"""
RETRY = """mutation ($id: ID!, $key: String!) {
  retryDelivery(id: $id, idempotencyKey: $key) { id status } }"""
SKIP = """mutation ($id: ID!, $key: String!, $reason: String!) {
  skipDelivery(id: $id, reason: $reason, idempotencyKey: $key) { id status lastError } }"""


def set_bin(stack: Stack, sku: str, warehouse: str, actual_qty: float) -> float:
    """Someone in the ERP moved stock out of (or back into) the Bin; returns what it held."""
    table = stack.apps["erp"].state.store.table("Bin")
    (row,) = [
        r for r in table.rows(table.positions("item_code", [sku])) if r["warehouse"] == warehouse
    ]
    table.update(row["name"], actual_qty=actual_qty)
    return float(row["actual_qty"])


async def shipped_into_a_refusal(shop: Stack) -> tuple[str, dict[str, Any], str, float]:
    """A web order shipped after someone emptied its warehouse's Bin in the ERP: the
    Delivery Note is refused (NegativeStockError) and dead-lettered."""
    order_id, web = await web_order_at_warehouse(shop)
    so_name = system((await ok(shop.gql, ORDER, id=order_id))["order"], "ERP")["id"]
    warehouse = warehouse_of(shop, so_name)
    held = set_bin(shop, SHOE, warehouse, 0.0)
    await ok(shop.gql, SHIP, id=order_id, key=f"ship-{order_id}")
    await shop.drain()
    return order_id, web, warehouse, held


async def test_given_a_dead_letter_then_its_followers_are_blocked_visibly_and_owned(shop: Stack):
    order_id, web, warehouse, held = await shipped_into_a_refusal(shop)

    # The Delivery Note is dead; the OMS fulfilment and the WooCommerce update behind it
    # are listed as BLOCKED by it, in the order's deliveries and in deliveryFailures;
    seen = (await ok(shop.gql, DELIVERIES_SEEN, id=order_id))["orderDeliveries"]
    by_operation = {d["operation"]: d for d in seen}
    dead = by_operation["erp.deliver_sales_order"]
    assert dead["status"] == "DEAD"
    for follower in ("oms.fulfill", "web.update_order"):
        assert by_operation[follower]["status"] == "BLOCKED"
        assert by_operation[follower]["blockedBy"] == dead["id"]
        assert by_operation[follower]["attempts"] == 0
    failures = (await ok(shop.gql, FAILURES, key=order_id))["deliveryFailures"]
    assert sorted((f["operation"], f["status"]) for f in failures) == [
        ("erp.deliver_sales_order", "DEAD"),
        ("oms.fulfill", "BLOCKED"),
        ("web.update_order", "BLOCKED"),
    ]
    assert "needed in Warehouse" in failures[0]["lastError"]
    # the order has an owned WRITE_FAILED exception and its timeline says what happened;
    order = (await ok(shop.gql, EXCEPTIONS, id=order_id))["order"]
    (exception,) = order["exceptions"]
    assert (exception["kind"], exception["owner"], exception["status"]) == (
        "WRITE_FAILED",
        "fulfilment",
        "OPEN",
    )
    assert exception["copy"]["system"] == "ERP" and "refused" in exception["copy"]["value"]
    (event,) = [e for e in order["timeline"] if e["kind"] == "WRITE_FAILED"]
    assert "2 write(s) wait behind it" in event["detail"]
    # and nothing behind it reached Shopify or WooCommerce.
    assert woo_order(shop, web).status == "processing"

    # Once the stock is back, a retry gets the note through, the followers go, and the
    # exception closes by itself.
    set_bin(shop, SHOE, warehouse, held)
    await ok(shop.gql, RETRY, id=dead["id"], key="retry-dn")
    await shop.drain()
    after = (await ok(shop.gql, DELIVERIES_SEEN, id=order_id))["orderDeliveries"]
    assert {d["status"] for d in after} == {"DELIVERED"}
    assert woo_order(shop, web).status == "completed"
    closed = (await ok(shop.gql, EXCEPTIONS, id=order_id))["order"]["exceptions"]
    assert [(e["kind"], e["status"]) for e in closed] == [("WRITE_FAILED", "AUTO_RESOLVED")]


async def test_given_a_write_that_must_not_happen_when_skipped_then_the_rest_go(shop: Stack):
    order_id, web, _, _ = await shipped_into_a_refusal(shop)
    seen = (await ok(shop.gql, DELIVERIES_SEEN, id=order_id))["orderDeliveries"]
    (dead,) = [d for d in seen if d["status"] == "DEAD"]

    # A blank reason, or skipping a write that is not dead, is refused;
    blank = await error_of(shop.gql, SKIP, id=dead["id"], key="skip-0", reason="  ")
    assert (blank["code"], blank["field"]) == ("BAD_USER_INPUT", "reason")
    pending = next(d for d in seen if d["status"] == "BLOCKED")
    not_dead = await error_of(shop.gql, SKIP, id=pending["id"], key="skip-1", reason="no")
    assert not_dead["code"] == "ILLEGAL_TRANSITION"

    # when the team decides the Delivery Note is booked by hand in the ERP and skips it,
    reason = "Delivery Note booked by hand in the ERP"
    skipped = (await ok(shop.gql, SKIP, id=dead["id"], key="skip-2", reason=reason))["skipDelivery"]
    assert skipped["status"] == "SKIPPED" and reason in skipped["lastError"]
    await shop.drain()

    # then Shopify and WooCommerce hear about the shipment, the exception is resolved by
    # the decision, and the order's timeline records it.
    after = (await ok(shop.gql, DELIVERIES_SEEN, id=order_id))["orderDeliveries"]
    assert sorted(d["status"] for d in after if d["id"] != dead["id"]) == ["DELIVERED"] * (
        len(after) - 1
    )
    assert woo_order(shop, web).status == "completed"
    order = (await ok(shop.gql, EXCEPTIONS, id=order_id))["order"]
    assert [(e["kind"], e["status"]) for e in order["exceptions"]] == [("WRITE_FAILED", "RESOLVED")]
    assert any(e["kind"] == "WRITE_SKIPPED" and reason in e["detail"] for e in order["timeline"])
    assert (await ok(shop.gql, FAILURES, key=order_id))["deliveryFailures"] == []


SYSTEMS = """query ($id: ID!) { order(id: $id) { status
  lines { locationId quantity } systems { system id status locationId syncedAt } } }"""


def stocked_in_two_warehouses(dataset) -> str:
    """A plain SKU two warehouses both hold a few of, free to sell."""
    for sku in dataset.sellable_skus:
        if sku in dataset.kits:
            continue
        free = [
            b["actual_qty"] - b["reserved_qty"]
            for w in dataset.leaf_warehouses
            if (b := dataset.bin(sku, w.name)) is not None
        ]
        if sum(1 for f in free if 3 <= f <= 40) >= 2:
            return sku
    raise AssertionError("the sample data has no SKU two warehouses hold")


async def test_given_an_order_split_over_two_warehouses_then_each_sales_order_is_listed(
    dataset, tmp_path
):
    sku = stocked_in_two_warehouses(dataset)
    async with gateway(dataset, tmp_path, routing=WAREHOUSE_SHIPS) as stack:
        by_node = await rows(stack.gql, sku)
        warehouses = [
            r["availableToPromise"]
            for node, r in by_node.items()
            if node.startswith("WH-") and r["availableToPromise"] > 0
        ]
        quantity = max(warehouses) + 1  # no warehouse ships it alone
        placed = await place(stack, "split-wh", email="kim@example.org", lines=[(sku, quantity)])
        await stack.drain()

        order = (await ok(stack.gql, SYSTEMS, id=placed["id"]))["order"]
        nodes = {line["locationId"] for line in order["lines"]}
        assert len(nodes) == 2 and all(n.startswith("WH-") for n in nodes)
        # Support sees both Sales Orders, each with its node, status and last sync,
        erp = [s for s in order["systems"] if s["system"] == "ERP"]
        assert {s["locationId"] for s in erp} == nodes
        assert len({s["id"] for s in erp}) == 2
        assert {s["status"] for s in erp} == {"To Deliver and Bill"}
        assert all(s["syncedAt"] for s in order["systems"] if s["system"] != "GATEWAY")
        assert [s["system"] for s in order["systems"]].count("OMS") == 1

        # and shipping the order ships both: each Sales Order gets its Delivery Note.
        await ok(stack.gql, SHIP, id=placed["id"], key="split-wh-ship")
        await stack.drain()
        shipped = (await ok(stack.gql, SYSTEMS, id=placed["id"]))["order"]
        assert {s["status"] for s in shipped["systems"] if s["system"] == "ERP"} == {"To Bill"}
        for record in erp:
            assert sales_order(stack, record["id"])["per_delivered"] == 100.0


RETURN_FIELDS = """id status omsReturnId webRefundId lines { sku disposition locationId
  awaitingDecision receivedAt decidedAt }"""
REQUEST_RETURN = f"""mutation ($orderId: ID!, $lines: [ReturnLineInput!]!, $key: String!) {{
  requestReturn(orderId: $orderId, lines: $lines, idempotencyKey: $key) {{ {RETURN_FIELDS} }} }}"""
RECEIVE_RETURN = f"""mutation ($id: ID!, $key: String!) {{
  receiveReturn(id: $id, idempotencyKey: $key) {{ {RETURN_FIELDS} }} }}"""
RESTOCK_UNITS = f"""mutation ($id: ID!, $skus: [String!]!, $key: String!) {{
  restockReturnUnits(returnId: $id, skus: $skus, idempotencyKey: $key) {{ {RETURN_FIELDS} }} }}"""
DISPOSE_UNITS = f"""mutation ($id: ID!, $skus: [String!]!, $key: String!) {{
  disposeReturnUnits(returnId: $id, skus: $skus, idempotencyKey: $key) {{ {RETURN_FIELDS} }} }}"""


async def test_given_a_web_order_returned_for_refurbishment_then_it_waits_for_a_decision(
    shop: Stack,
):
    order_id, web = await web_order_at_warehouse(shop)
    (node,) = (await ok(shop.gql, ORDER, id=order_id))["order"]["fulfillmentLocationIds"]
    await ok(shop.gql, SHIP, id=order_id, key="r-ship")
    await ok(shop.gql, DELIVERED, id=order_id, key="r-delivered")
    await shop.drain()
    before = (await rows(shop.gql, SHOE))[node]

    # Given the customer sends back one defective pair,
    opened = (
        await ok(
            shop.gql,
            REQUEST_RETURN,
            orderId=order_id,
            lines=[{"sku": SHOE, "quantity": 1, "reason": "DEFECTIVE", "condition": "DEFECTIVE"}],
            key="r-open",
        )
    )["requestReturn"]
    # it goes back to the warehouse that shipped it, and the OMS hears of the return;
    (line,) = opened["lines"]
    assert (line["disposition"], line["locationId"]) == ("REFURBISH", node)
    await ok(shop.gql, RECEIVE_RETURN, id=opened["id"], key="r-receive")
    await shop.drain()
    (oms,) = oms_orders_for(shop.apps, order_id)
    assert [r.status for r in oms.returns] == ["CLOSED"]
    # the WooCommerce refund says the pair went to refurbishment (and restocks nothing),
    (refund,) = woo_order(shop, web).refunds
    assert "1x SHOE-TRAIL-42 to refurbishment" in refund.reason

    # and once received it stays visible at the node, incoming, not sellable;
    received = (await ok(shop.gql, RETURN_QUERY, id=opened["id"]))["returnRequest"]
    assert received["lines"][0]["awaitingDecision"] is True
    at_node = (await rows(shop.gql, SHOE))[node]
    assert at_node["incoming"] == before["incoming"] + 1
    assert at_node["availableToPromise"] == before["availableToPromise"]

    # until the repair team puts it back on the shelf: ERPNext receives it, it sells again.
    so_name = system((await ok(shop.gql, ORDER, id=order_id))["order"], "ERP")["id"]
    warehouse = warehouse_of(shop, so_name)
    actual, _ = erp_bin(shop.apps, SHOE, warehouse)
    restocked = (await ok(shop.gql, RESTOCK_UNITS, id=opened["id"], skus=[SHOE], key="r-fix"))[
        "restockReturnUnits"
    ]
    assert restocked["lines"][0]["awaitingDecision"] is False
    assert restocked["lines"][0]["disposition"] == "RESTOCK"
    await shop.drain()
    assert erp_bin(shop.apps, SHOE, warehouse)[0] == actual + 1
    after = (await rows(shop.gql, SHOE))[node]
    assert after["incoming"] == before["incoming"]
    assert after["availableToPromise"] == before["availableToPromise"] + 1
    # A decision taken cannot be taken again.
    again = await error_of(shop.gql, DISPOSE_UNITS, id=opened["id"], skus=[SHOE], key="r-bin")
    assert (again["code"], again["field"]) == ("BAD_USER_INPUT", "skus")
    timeline = (await ok(shop.gql, ORDER, id=order_id))["order"]["timeline"]
    assert any(e["kind"] == "RETURN_UNITS_RESTOCK" for e in timeline)


RETURN_QUERY = f"query ($id: ID!) {{ returnRequest(id: $id) {{ {RETURN_FIELDS} }} }}"


PICKUP_FIELDS = """id status channel pickupLocationId lines { locationId }
  systems { system id status }"""
READY_UP = f"""mutation ($id: ID!, $key: String!) {{
  markReadyForPickup(id: $id, idempotencyKey: $key) {{ {PICKUP_FIELDS} }} }}"""
COLLECT = f"""mutation ($id: ID!, $key: String!) {{
  confirmPickup(id: $id, idempotencyKey: $key) {{ {PICKUP_FIELDS} }} }}"""
PICKUP_ORDER = f"query ($id: ID!) {{ order(id: $id) {{ {PICKUP_FIELDS} }} }}"
LOCAL_PICKUP = [
    {
        "method_id": "pickup_location",
        "method_title": "Pickup",
        "total": "0.00",
        "meta_data": [{"key": "pickup_location", "value": "Berlin Store"}],
    }
]


async def test_given_a_local_pickup_checkout_then_it_is_held_at_that_store_and_collected(
    stack: Stack,
):
    await imported(stack)
    web = await checkout(stack, [(SHOE, 1)], shipping_lines=LOCAL_PICKUP)
    await stack.services.web_orders.sync()
    await stack.drain()
    order_id = f"web_{web['id']}"

    order = (await ok(stack.gql, PICKUP_ORDER, id=order_id))["order"]
    assert (order["channel"], order["pickupLocationId"]) == ("PICKUP", "ST-BERLIN-STORE")
    assert [line["locationId"] for line in order["lines"]] == ["ST-BERLIN-STORE"]
    assert system(order, "POS")["status"] == "SOLD"  # Square recorded the hold

    await ok(stack.gql, READY_UP, id=order_id, key="wp-ready")
    await stack.drain()
    woo = woo_order(stack, web)
    assert woo.status == "ready-for-pickup"
    assert any("ready for pickup at Berlin Store" in n.note for n in woo.notes if n.customer_note)

    collected = (await ok(stack.gql, COLLECT, id=order_id, key="wp-collect"))["confirmPickup"]
    assert collected["status"] == "COLLECTED"
    await stack.drain()
    assert woo_order(stack, web).status == "completed"
    (oms,) = oms_orders_for(stack.apps, order_id)
    fos = [fo for fo in stack.apps["oms"].state.shop.fulfillment_orders.values() if fo.order is oms]
    assert {fo.status for fo in fos} == {"CLOSED"}


async def test_given_a_pickup_store_nobody_knows_then_the_order_is_owned_not_dropped(
    stack: Stack,
):
    await imported(stack)
    nowhere = [{**LOCAL_PICKUP[0], "meta_data": [{"key": "pickup_location", "value": "Mars"}]}]
    web = await checkout(stack, [(SHOE, 1)], shipping_lines=nowhere)
    await stack.services.web_orders.sync()
    order = (await ok(stack.gql, EXCEPTIONS, id=f"web_{web['id']}"))["order"]
    assert order["status"] == "PLACED"
    assert [e["kind"] for e in order["exceptions"]] == ["UNALLOCATABLE_ORDER"]
    assert "Mars" in order["timeline"][-1]["detail"]
