"""Web orders are orders: a WooCommerce checkout order is routed by the same engine, held at
once, written to the ERP or POS and the OMS exactly once; one no node can fill opens an
owned UNALLOCATABLE_ORDER exception; a cancellation in WooCommerce gives its units back."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.support import (
    ORDER_FIELDS,
    PLACE,
    SOCKS,
    Stack,
    gateway,
    ok,
    oms_orders_for,
    order_input,
    rows,
    square_in_stock,
    system,
)
from tests.woocommerce_support import API, KEY, SECRET, client

WEB_ORDER = f"""query ($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS}
  routing {{ plan {{ explanation {{ summary notes }} }} }}
  exceptions {{ kind owner severity status dueAt orderId truth {{ value }} }} }} }}"""
ONLINE = """query ($skus: [String!]!) {
  availability(skus: $skus, channel: ONLINE) { sku totalAvailable } }"""
BERLIN_ADDRESS = {
    "first_name": "Jonas",
    "last_name": "Weber",
    "address_1": "Invalidenstrasse 44",
    "city": "Berlin",
    "postcode": "10115",
    "country": "DE",
}


async def checkout(stack: Stack, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    """A paid order placed at the WooCommerce simulator's checkout (its REST API)."""
    woo = stack.apps["woocommerce"]
    body = {
        "payment_method": "stripe",
        "set_paid": True,
        "billing": {**BERLIN_ADDRESS, "email": "jonas@example.org"},
        "shipping": BERLIN_ADDRESS,
        "line_items": [{"sku": sku, "quantity": qty} for sku, qty in lines],
        **extra,
    }
    async with client(woo, base_url="https://shop.test", auth=(KEY, SECRET)) as http:
        response = await http.post(f"{API}/orders", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def online(stack: Stack, sku: str) -> int:
    (row,) = (await ok(stack.gql, ONLINE, skus=[sku]))["availability"]
    return int(row["totalAvailable"])


def web_stock(stack: Stack, sku: str) -> int | None:
    catalog = stack.apps["woocommerce"].state.catalog
    return next(r.stock_quantity for r in catalog.records.values() if r.sku == sku)


DELIVERIES = """query ($id: ID!) { orderDeliveries(orderId: $id) { operation status } }"""
QUEUE = """query ($id: ID!) { discrepancies(filter: {orderId: $id}) {
  edges { node { kind orderId owner status } } } }"""


async def deliveries(stack: Stack, order_id: str) -> list[tuple[str, str]]:
    found = (await ok(stack.gql, DELIVERIES, id=order_id))["orderDeliveries"]
    return sorted((d["operation"], d["status"]) for d in found)


async def imported(stack: Stack) -> None:
    """The seeded web orders imported (their open ones held), their writes delivered and the
    storefront's copy brought to the new figures: what follows starts clean."""
    await stack.services.web_orders.sync()
    await stack.services.storefront_sync.flush()
    await stack.drain()


WEB_ORDER_IDS = """{ orders(first: 100) { edges { node { id systems { system id } } } } }"""


async def test_two_gateways_importing_the_same_web_orders_at_once_record_each_once(stack: Stack):
    # Given the storefront's seeded orders (finished ones recorded as they are, open ones
    # allocated), when two gateway processes import them at the same moment,
    async with stack.another_gateway() as other:
        await asyncio.gather(
            stack.services.web_orders.sync(), other.app.state.services.web_orders.sync()
        )

    # then neither fails on the other's insert and each web order is one gateway order.
    edges = (await ok(stack.gql, WEB_ORDER_IDS))["orders"]["edges"]
    recorded = [
        int(s["id"])
        for edge in edges
        for s in edge["node"]["systems"]
        if s["system"] == "STOREFRONT"
    ]
    book = stack.apps["woocommerce"].state.orders.orders
    not_drafts = {i for i, o in book.items() if o.status != "checkout-draft"}
    assert sorted(recorded) == sorted(not_drafts)


async def test_given_a_checkout_order_when_imported_then_routed_held_and_written_once(
    stack: Stack,
):
    await imported(stack)
    before = await online(stack, SOCKS)
    assert web_stock(stack, SOCKS) == before  # the storefront's copy follows the truth
    nodes = await rows(stack.gql, SOCKS)
    square_before = {
        node: square_in_stock(stack.apps, SOCKS, row["location"]["sourceRef"])
        for node, row in nodes.items()
        if row["location"]["stockSource"] == "POS"
    }

    # Given a customer pays for 3 pairs at the WooCommerce checkout (WooCommerce lowers its
    # own copy at once),
    web = await checkout(stack, [(SOCKS, 3)])
    assert web_stock(stack, SOCKS) == before - 3
    order_id = f"web_{web['id']}"

    # when two gateway processes import it at the same moment,
    async with stack.another_gateway() as other:
        await asyncio.gather(
            stack.services.web_orders.sync(), other.app.state.services.web_orders.sync()
        )

    # then it is allocated once, by the router, to a node near its postcode, and says how
    # the address was located;
    order = (await ok(stack.gql, WEB_ORDER, id=order_id))["order"]
    assert order["status"] == "ALLOCATED"
    assert [line["sku"] for line in order["lines"]] == [SOCKS]
    (node,) = order["fulfillmentLocationIds"]
    assert order["lines"][0]["locationId"] == node
    notes = order["routing"]["plan"]["explanation"]["notes"]
    assert notes[0].startswith("ship-to from postcode 10115"), notes
    assert [(e["kind"], e["toStatus"]) for e in order["timeline"]] == [
        ("IMPORTED", "PLACED"),
        ("ALLOCATED", "ALLOCATED"),
    ]
    # its units stop being promisable at once, before any backend has heard of it,
    assert await online(stack, SOCKS) == before - 3
    owed = await deliveries(stack, order_id)
    assert [operation for operation, _ in owed].count("oms.create_order") == 1
    assert len(owed) == 2, owed  # and one write to the node's source of truth

    # and once delivered, each system has it exactly once and the units count once.
    await stack.drain()
    assert {status for _, status in await deliveries(stack, order_id)} == {"DELIVERED"}
    assert len(oms_orders_for(stack.apps, order_id)) == 1
    seen = (await ok(stack.gql, WEB_ORDER, id=order_id))["order"]
    assert system(seen, "OMS") is not None
    if node in square_before:  # a ship-from-store: Square recorded the sale
        ref = nodes[node]["location"]["sourceRef"]
        assert square_in_stock(stack.apps, SOCKS, ref) == square_before[node] - 3
    else:  # a warehouse: the ERP has its Sales Order
        assert system(seen, "ERP") is not None
    assert await online(stack, SOCKS) == before - 3
    assert web_stock(stack, SOCKS) == before - 3
    assert seen["exceptions"] == []


async def test_given_coordinates_on_the_order_then_they_win_over_the_postcode(stack: Stack):
    await imported(stack)
    munich = [
        {"key": "_shipping_latitude", "value": "48.1351"},
        {"key": "_shipping_longitude", "value": "11.5820"},
    ]
    web = await checkout(stack, [(SOCKS, 1)], meta_data=munich)
    await stack.services.web_orders.sync()
    order = (await ok(stack.gql, WEB_ORDER, id=f"web_{web['id']}"))["order"]
    notes = order["routing"]["plan"]["explanation"]["notes"]
    assert notes[0] == "ship-to from the order's coordinates (48.1351, 11.5820)"


async def test_given_more_than_any_node_has_then_the_order_is_not_accepted_silently(
    stack: Stack,
):
    await imported(stack)
    before = await online(stack, SOCKS)

    web = await checkout(stack, [(SOCKS, before + 50)])
    await stack.services.web_orders.sync()

    order_id = f"web_{web['id']}"
    order = (await ok(stack.gql, WEB_ORDER, id=order_id))["order"]
    # The order says it is not allocated, and why,
    assert order["status"] == "PLACED"
    assert order["fulfillmentLocationIds"] == []
    assert order["timeline"][-1]["kind"] == "UNALLOCATABLE"
    assert SOCKS in order["timeline"][-1]["detail"]
    # an owned exception with a deadline is on the queue, found by its order,
    (exception,) = order["exceptions"]
    assert exception["kind"] == "UNALLOCATABLE_ORDER"
    assert (exception["owner"], exception["severity"], exception["status"]) == (
        "fulfilment",
        "HIGH",
        "OPEN",
    )
    assert exception["orderId"] == order_id and exception["dueAt"]
    queue = (await ok(stack.gql, QUEUE, id=order_id))["discrepancies"]["edges"]
    assert [(e["node"]["kind"], e["node"]["orderId"]) for e in queue] == [
        ("UNALLOCATABLE_ORDER", order_id)
    ]
    # and nothing is held or written for it.
    assert await online(stack, SOCKS) == before
    assert await deliveries(stack, order_id) == []
    # Importing it again opens nothing more.
    await checkout(stack, [(SOCKS, 1)])  # something else changed at the shop
    await stack.services.web_orders.sync()
    again = (await ok(stack.gql, WEB_ORDER, id=order_id))["order"]
    assert len(again["exceptions"]) == 1 and again["status"] == "PLACED"


async def test_given_a_web_order_cancelled_in_woocommerce_then_its_units_come_back_everywhere(
    stack: Stack,
):
    await imported(stack)
    before = await online(stack, SOCKS)
    web = await checkout(stack, [(SOCKS, 2)])
    order_id = f"web_{web['id']}"
    await stack.services.web_orders.sync()
    await stack.drain()
    assert await online(stack, SOCKS) == before - 2

    woo = stack.apps["woocommerce"]
    async with client(woo, base_url="https://shop.test", auth=(KEY, SECRET)) as http:
        response = await http.put(f"{API}/orders/{web['id']}", json={"status": "cancelled"})
    assert response.status_code == 200, response.text
    await stack.services.web_orders.sync()

    order = (await ok(stack.gql, WEB_ORDER, id=order_id))["order"]
    assert order["status"] == "CANCELLED"
    assert system(order, "STOREFRONT")["status"] == "cancelled"
    assert order["timeline"][-1]["kind"] == "CANCELLED"
    # The source had taken the units over (the sale or Sales Order was delivered): they are
    # promisable again once it gives them back.
    await stack.drain()
    owed = await deliveries(stack, order_id)
    assert {status for _, status in owed} == {"DELIVERED"}, owed
    assert "oms.cancel_order" in [operation for operation, _ in owed]
    (oms,) = oms_orders_for(stack.apps, order_id)
    assert oms.cancelled_at is not None
    assert await online(stack, SOCKS) == before
    assert web_stock(stack, SOCKS) == before  # WooCommerce restored its own copy


async def test_web_and_gateway_orders_racing_for_the_last_units_never_oversell(
    dataset, tmp_path, pg_url
):
    """Two gateway processes on one PostgreSQL: web orders imported by both at once and
    gateway orders placed through both, twice as many units asked as exist."""
    async with gateway(dataset, tmp_path, database_url=pg_url) as stack:
        await imported(stack)
        sku, units = await scarce_sku(stack, dataset)
        webs = [await checkout(stack, [(sku, 1)]) for _ in range(units)]

        async with stack.another_gateway(database_url=pg_url) as other:

            async def placed_through(gql, i: int) -> bool:
                body = await gql(
                    PLACE, input=order_input(f"c{i}@example.org", [(sku, 1)]), key=f"race-{i}"
                )
                if body.get("errors"):
                    assert body["errors"][0]["extensions"]["code"] == "INSUFFICIENT_STOCK", body
                    return False
                return True

            results = await asyncio.gather(
                stack.services.web_orders.sync(),
                other.app.state.services.web_orders.sync(),
                *(placed_through((stack.gql, other)[i % 2], i) for i in range(units)),
            )
        placed = sum(1 for r in results[2:] if r is True)
        statuses = [(await ok(stack.gql, WEB_ORDER, id=f"web_{w['id']}"))["order"] for w in webs]
        allocated = [o for o in statuses if o["status"] == "ALLOCATED"]
        refused = [o for o in statuses if o["status"] == "PLACED"]
        # Every unit went to exactly one order, and nobody got one that does not exist;
        assert placed + len(allocated) == units
        assert len(allocated) + len(refused) == units
        assert await online(stack, sku) == 0
        # each web order left without a unit is owned on the queue.
        assert all([e["kind"] for e in o["exceptions"]] == ["UNALLOCATABLE_ORDER"] for o in refused)


async def scarce_sku(stack: Stack, dataset) -> tuple[str, int]:
    """A sellable SKU with a few units (2..8) available online in all."""
    for sku in dataset.sellable_skus:
        units = await online(stack, sku)
        if 2 <= units <= 8:
            return sku, units
    raise AssertionError("no SKU with a few units online")
