"""The Shopify (OMS) simulator answers as the contract in shared/contracts/oms says Shopify does."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.live_server import serve
from tests.shopify_support import (
    CENTRAL,
    GRAPHQL,
    NORTH_HUB,
    TOKEN,
    VERSION,
    contract,
    graphql,
    raw_client,
    replay,
    simulator,
)

FO_STATUS = """query($id: ID!) { fulfillmentOrder(id: $id) {
  status supportedActions { action } assignedLocation { location { id } } } }"""


def expected(name: str) -> dict[str, Any]:
    return contract(name)["response"]["body"]


def without(data: Any, *keys: str) -> Any:
    """``data`` with every occurrence of ``keys`` dropped (timestamps the clock decides)."""
    if isinstance(data, dict):
        return {k: without(v, *keys) for k, v in data.items() if k not in keys}
    if isinstance(data, list):
        return [without(v, *keys) for v in data]
    return data


def error_example(case: str) -> dict[str, Any]:
    return next(e["body"] for e in contract("errors")["examples"] if e.get("case") == case)


# --- the contract's requests, replayed -------------------------------------------------------


async def test_given_a_fresh_store_when_the_contract_order_is_created_then_the_answer_is_the_contracts() -> (
    None
):
    async with raw_client(simulator()) as client:
        answer = await replay(client, "order.create")
    assert answer["data"] == expected("order.create")["data"]
    cost = answer["extensions"]["cost"]
    assert set(cost) == {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0


async def test_the_orders_fulfillment_orders_read_back_as_in_the_contract() -> None:
    async with raw_client(simulator()) as client:
        await replay(client, "order.create")
        answer = await replay(client, "fulfillment_orders.by_order")
    # updatedAt is one second later in the contract (Shopify's own post-processing).
    assert without(answer["data"], "updatedAt") == without(
        expected("fulfillment_orders.by_order")["data"], "updatedAt"
    )


async def test_move_splits_the_shoe_to_north_hub_and_cancel_opens_a_replacement() -> None:
    async with raw_client(simulator()) as client:
        await replay(client, "order.create")
        moved = await replay(client, "fulfillment_order.move")
        cancelled = await replay(client, "fulfillment_order.cancel")
        listed = await replay(client, "fulfillment_orders.list")
    assert moved["data"] == expected("fulfillment_order.move")["data"]
    assert cancelled["data"] == expected("fulfillment_order.cancel")["data"]
    open_orders = listed["data"]["fulfillmentOrders"]["nodes"]
    # The cancelled one is closed to the default listing; its replacement stays at North Hub.
    assert [(fo["id"][-3:], fo["assignedLocation"]["location"]["id"]) for fo in open_orders] == [
        ("001", CENTRAL),
        ("003", NORTH_HUB),
    ]
    assert [ln["sku"] for ln in open_orders[1]["lineItems"]["nodes"]] == ["SHOE-TRAIL-42"]


async def test_hold_and_release_answer_as_in_the_contract() -> None:
    async with raw_client(simulator()) as client:
        await replay(client, "order.create")
        held = await replay(client, "fulfillment_order.hold")
        released = await replay(client, "fulfillment_order.release_hold")
    assert held["data"] == expected("fulfillment_order.hold")["data"]
    assert released["data"] == expected("fulfillment_order.release_hold")["data"]


async def test_ship_then_return_request_approve_get_decline_create_close_follow_the_contract() -> (
    None
):
    async with raw_client(simulator()) as client:
        await replay(client, "order.create")
        shipped = await replay(client, "fulfillment.create")
        status = await graphql(client, FO_STATUS, id="gid://shopify/FulfillmentOrder/7340112233001")
        returnable = await replay(client, "returnable_fulfillments")
        requested = await replay(client, "return.request")
        approved = await replay(client, "return.approve")
        read = await replay(client, "return.get")
        # Return 9112000042 in the contract is a declined request for the socks.
        sock_request = contract("return.request")["request"]["body"]
        line = sock_request["variables"]["input"]["returnLineItems"][0]
        line["fulfillmentLineItemId"] = "gid://shopify/FulfillmentLineItem/4410002"
        await client.post(GRAPHQL, json=sock_request)
        declined = await replay(client, "return.decline")
        created = await replay(client, "return.create")
        closed = await replay(client, "return.close")
    assert without(shipped["data"], "createdAt") == without(
        expected("fulfillment.create")["data"], "createdAt"
    )
    assert status["data"]["fulfillmentOrder"]["status"] == "CLOSED"
    assert status["data"]["fulfillmentOrder"]["supportedActions"] == []
    assert returnable["data"] == expected("returnable_fulfillments")["data"]
    assert requested["data"] == expected("return.request")["data"]
    assert approved["data"] == expected("return.approve")["data"]
    assert read["data"] == expected("return.get")["data"]
    assert declined["data"] == expected("return.decline")["data"]
    # The contract names it "#1043-R2"; the simulator counts the declined request too.
    assert without(created["data"], "name") == without(expected("return.create")["data"], "name")
    assert closed["data"] == expected("return.close")["data"]


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "shpat_wrong"])
async def test_given_no_or_a_wrong_token_then_401_with_the_contract_body(token: str | None) -> None:
    async with raw_client(simulator(), token=token) as client:
        response = await client.post(GRAPHQL, json={"query": "{ location { id } }"})
    assert response.status_code == 401
    assert response.json() == contract("auth")["failure"]["body"]


async def test_shipping_more_than_remains_is_a_user_error_with_http_200() -> None:
    body = contract("fulfillment.create")["request"]["body"]
    items = body["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"][0]
    items["fulfillmentOrderLineItems"][0]["quantity"] = 2
    async with raw_client(simulator()) as client:
        await replay(client, "order.create")
        response = await client.post(GRAPHQL, json=body)
    assert response.status_code == 200
    assert response.json()["data"] == error_example("userErrors (business rule)")["data"]


async def test_an_unknown_field_is_refused_with_shopifys_wording() -> None:
    want = error_example("query validation error")["errors"][0]
    async with raw_client(simulator()) as client:
        answer = await graphql(client, "{ fulfillmentOrders(first: 1) { nodes { id sku } } }")
    error = answer["errors"][0]
    assert "data" not in answer
    assert error["message"] == want["message"]
    assert error["extensions"] == want["extensions"]


async def test_given_an_empty_bucket_then_throttled_with_no_data() -> None:
    want = error_example("throttled")
    # A stopped clock: the bucket must not refill while a busy machine runs the test.
    app = simulator(monotonic=lambda: 1000.0)
    app.state.bucket.drain(2000)
    async with raw_client(app) as client:
        answer = await graphql(client, "{ locations(first: 5) { nodes { id } } }")
    assert "data" not in answer
    assert answer["errors"] == want["errors"]
    assert answer["extensions"]["cost"]["actualQueryCost"] is None
    assert answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 10


async def test_injected_outages_answer_with_the_http_status() -> None:
    app = simulator()
    app.state.faults.script(503)
    async with raw_client(app) as client:
        first = await client.post(GRAPHQL, json={"query": "{ location { id } }"})
        second = await client.post(GRAPHQL, json={"query": "{ location { id } }"})
    assert first.status_code == 503
    assert second.status_code == 200


# --- lists, search and the sandbox route ------------------------------------------------------


async def test_connections_page_with_first_and_after_and_refuse_more_than_250() -> None:
    query = "query($first: Int, $after: String) { locations(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { id name } } }"
    async with raw_client(simulator()) as client:
        first = await graphql(client, query, first=2)
        page = first["data"]["locations"]
        second = await graphql(client, query, first=2, after=page["pageInfo"]["endCursor"])
        too_many = await graphql(client, query, first=251)
    assert [n["name"] for n in page["nodes"]] == ["Central Warehouse", "North Hub"]
    assert page["pageInfo"]["hasNextPage"] is True
    cursor = json.loads(base64.b64decode(page["pageInfo"]["endCursor"]))
    assert cursor == {"last_id": 71234560002, "last_value": "71234560002"}
    assert second["data"]["locations"]["nodes"][0]["name"] == "South Hub"
    assert "250" in too_many["errors"][0]["message"]


async def test_variants_are_found_by_sku_with_the_contracts_ids() -> None:
    query = 'query { productVariants(first: 10, query: "sku:SOCK-MER-CREW-M OR sku:\\"SHOE-TRAIL-42\\" OR sku:NOPE") { nodes { id sku } } }'
    async with raw_client(simulator()) as client:
        answer = await graphql(client, query)
    assert {n["sku"]: n["id"] for n in answer["data"]["productVariants"]["nodes"]} == {
        "SOCK-MER-CREW-M": "gid://shopify/ProductVariant/44120100",
        "SHOE-TRAIL-42": "gid://shopify/ProductVariant/44120001",
    }


async def test_orders_are_found_by_source_identifier_which_is_not_unique() -> None:
    query = 'query { orders(first: 5, query: "source_identifier:wc-10482") { nodes { name } } }'
    async with raw_client(simulator()) as client:
        await replay(client, "order.create")
        await replay(client, "order.create")
        answer = await graphql(client, query)
    assert [n["name"] for n in answer["data"]["orders"]["nodes"]] == ["#1043", "#1044"]


async def test_a_warehouse_that_started_picking_stops_the_order_from_moving() -> None:
    app = simulator()
    async with raw_client(app) as client:
        await replay(client, "order.create")
        marked = await client.post(
            "/_sandbox/fulfillment_orders/7340112233001/status", json={"status": "IN_PROGRESS"}
        )
        status = await graphql(client, FO_STATUS, id="gid://shopify/FulfillmentOrder/7340112233001")
        moved = await replay(client, "fulfillment_order.move")
    assert marked.json() == {
        "id": "gid://shopify/FulfillmentOrder/7340112233001",
        "status": "IN_PROGRESS",
    }
    fo = status["data"]["fulfillmentOrder"]
    assert fo["status"] == "IN_PROGRESS"
    assert "MOVE" not in {a["action"] for a in fo["supportedActions"]}
    assert moved["data"]["fulfillmentOrderMove"]["movedFulfillmentOrder"] is None
    assert moved["data"]["fulfillmentOrderMove"]["userErrors"][0]["field"] == ["id"]


ORDER_CANCEL = """mutation($id: ID!, $reason: OrderCancelReason!) {
  orderCancel(orderId: $id, reason: $reason, restock: true,
    refundMethod: {originalPaymentMethodsRefund: false}, notifyCustomer: false) {
    job { id done } orderCancelUserErrors { field message code } userErrors { field message } } }"""
CANCELLED_ORDER = """query($id: ID!) { order(id: $id) { cancelledAt cancelReason
  fulfillmentOrders(first: 10) { nodes { status assignedLocation { location { id } } } } } }"""


async def test_order_cancel_cancels_every_fulfillment_order_without_replacements() -> None:
    """Given the contract order moved across two locations, when the order is cancelled,
    then it carries cancelledAt and its reason, every fulfillment order is CANCELLED, none is
    opened to replace it, and the open listing is empty."""
    async with raw_client(simulator()) as client:
        created = await replay(client, "order.create")
        order_id = created["data"]["orderCreate"]["order"]["id"]
        await replay(client, "fulfillment_order.move")

        answer = await graphql(client, ORDER_CANCEL, id=order_id, reason="CUSTOMER")
        read = await graphql(client, CANCELLED_ORDER, id=order_id)
        listed = await graphql(client, "{ fulfillmentOrders(first: 10) { nodes { id } } }")
        job = answer["data"]["orderCancel"]["job"]
        polled = await graphql(client, "query($id: ID!) { job(id: $id) { done } }", id=job["id"])

    payload = answer["data"]["orderCancel"]
    assert (payload["orderCancelUserErrors"], payload["userErrors"]) == ([], [])
    assert job["id"].startswith("gid://shopify/Job/") and job["done"] is True
    assert polled["data"]["job"] == {"done": True}
    order = read["data"]["order"]
    assert order["cancelledAt"] is not None and order["cancelReason"] == "CUSTOMER"
    statuses = [fo["status"] for fo in order["fulfillmentOrders"]["nodes"]]
    assert statuses == ["CANCELLED", "CANCELLED"]
    assert listed["data"]["fulfillmentOrders"]["nodes"] == []


async def test_order_cancel_twice_or_of_an_unknown_order_is_a_user_error() -> None:
    async with raw_client(simulator()) as client:
        created = await replay(client, "order.create")
        order_id = created["data"]["orderCreate"]["order"]["id"]
        first = await graphql(client, ORDER_CANCEL, id=order_id, reason="OTHER")
        cancelled_at = (await graphql(client, CANCELLED_ORDER, id=order_id))["data"]["order"][
            "cancelledAt"
        ]
        again = await graphql(client, ORDER_CANCEL, id=order_id, reason="STAFF")
        after = (await graphql(client, CANCELLED_ORDER, id=order_id))["data"]["order"]
        unknown = await graphql(client, ORDER_CANCEL, id="gid://shopify/Order/1", reason="OTHER")

    assert first["data"]["orderCancel"]["orderCancelUserErrors"] == []
    (error,) = again["data"]["orderCancel"]["orderCancelUserErrors"]
    assert (error["field"], error["code"]) == (["orderId"], "INVALID")
    assert again["data"]["orderCancel"]["job"] is None
    # The first cancellation stands as it was.
    assert (after["cancelledAt"], after["cancelReason"]) == (cancelled_at, "OTHER")
    (missing,) = unknown["data"]["orderCancel"]["orderCancelUserErrors"]
    assert missing["code"] == "NOT_FOUND"


async def test_order_cancel_requires_a_reason_and_restock() -> None:
    async with raw_client(simulator()) as client:
        created = await replay(client, "order.create")
        order_id = created["data"]["orderCreate"]["order"]["id"]
        answer = await graphql(
            client,
            "mutation($id: ID!) { orderCancel(orderId: $id) { job { id } } }",
            id=order_id,
        )
    assert answer.get("data") is None and answer["errors"]


async def test_write_mutations_are_counted_per_name() -> None:
    app = simulator()
    async with raw_client(app) as client:
        await replay(client, "order.create")
        await replay(client, "fulfillment_order.move")
        await replay(client, "fulfillment_orders.by_order")
    assert app.state.calls["orderCreate"] == 1
    assert app.state.calls["fulfillmentOrderMove"] == 1
    assert app.state.calls["query order"] == 1
    assert app.state.calls["POST /admin/api/{version}/graphql.json"] == 3
    assert app.state.versions[VERSION] == 3


# --- the PyPI client ----------------------------------------------------------------------------


def test_the_shopifyapi_client_queries_and_creates_an_order_on_the_simulator() -> None:
    """ShopifyAPI builds ``<protocol>://<shop>.<myshopify_domain>[:<port>]/admin/api/<v>``
    from class attributes of ``shopify.Session``; on loopback the shop "127" with the domain
    "0.0.1" spells 127.0.0.1, and ``protocol = "http"`` (the library's own knob) avoids TLS."""
    shopify = pytest.importorskip("shopify")
    app = simulator()
    saved = {k: getattr(shopify.Session, k) for k in ("protocol", "myshopify_domain", "port")}
    with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        shopify.Session.setup(protocol="http", myshopify_domain="0.0.1", port=port)
        try:
            session = shopify.Session("127", VERSION, TOKEN)
            shopify.ShopifyResource.activate_session(session)
            client = shopify.GraphQL()
            located = json.loads(client.execute("{ location { id name } }"))
            order = contract("order.create")["request"]["body"]
            created = json.loads(client.execute(order["query"], order["variables"]))
        finally:
            shopify.ShopifyResource.clear_session()
            shopify.Session.setup(**saved)
    assert client.endpoint == f"{url}/admin/api/{VERSION}/graphql.json"
    assert located["data"]["location"] == {"id": CENTRAL, "name": "Central Warehouse"}
    assert created["data"] == expected("order.create")["data"]
    assert app.state.calls["orderCreate"] == 1
