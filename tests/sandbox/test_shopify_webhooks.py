"""Shopify webhooks: subscriptions through the Admin GraphQL schema, orders/* and
fulfillment_orders/* deliveries signed with the app's client secret, and retries that keep
the event id (contracts/oms/webhook.delivery.json)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.domain import SourceSystem
from gateway.events.signatures import Signature, verify
from tests import shopify_support
from tests.sandbox.webhook_support import Received, Receiver

HOOK_URL = "https://gateway.northtrail.example/hooks/shopify"
CLIENT_SECRET = "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"
ORDER = "gid://shopify/Order/6120456781234"
SUBSCRIBE = """mutation ($topic: WebhookSubscriptionTopic!, $hook: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $hook) {
    webhookSubscription { id topic uri format apiVersion { handle } legacyResourceId }
    userErrors { field message } } }"""
LIST = "{ webhookSubscriptions(first: 10) { nodes { id topic uri } } }"
DELETE = """mutation ($id: ID!) { webhookSubscriptionDelete(id: $id) {
  deletedWebhookSubscriptionId userErrors { field message } } }"""


@pytest.fixture
def store() -> Starlette:
    return shopify_support.simulator(client_secret=CLIENT_SECRET)


@pytest.fixture
def receiver(store: Starlette) -> Receiver:
    receiver = Receiver()
    receiver.attach(store.state.webhooks)
    return receiver


async def subscribe(http: httpx.AsyncClient, *topics: str, uri: str = HOOK_URL) -> list[Any]:
    made = []
    for topic in topics:
        hook = {"uri": uri, "format": "JSON"}
        answer = await shopify_support.graphql(http, SUBSCRIBE, topic=topic, hook=hook)
        made.append(answer["data"]["webhookSubscriptionCreate"])
    return made


def topics(receiver: Receiver) -> list[str | None]:
    return [r.header("x-shopify-topic") for r in receiver.received]


def by_topic(receiver: Receiver, topic: str) -> Received:
    (found,) = [r for r in receiver.received if r.header("x-shopify-topic") == topic]
    return found


async def test_given_subscriptions_then_they_are_created_listed_and_deleted(store: Starlette):
    async with shopify_support.raw_client(store) as http:
        (created,) = await subscribe(http, "ORDERS_CREATE")
        (taken,) = await subscribe(http, "ORDERS_CREATE")
        (blank,) = await subscribe(http, "ORDERS_UPDATED", uri="")
        listed = await shopify_support.graphql(http, LIST)
        hook = created["webhookSubscription"]
        deleted = await shopify_support.graphql(http, DELETE, id=hook["id"])
        again = await shopify_support.graphql(http, DELETE, id=hook["id"])
    assert created["userErrors"] == []
    assert hook["id"].startswith("gid://shopify/WebhookSubscription/")
    assert (hook["topic"], hook["uri"], hook["format"]) == ("ORDERS_CREATE", HOOK_URL, "JSON")
    assert hook["apiVersion"] == {"handle": shopify_support.VERSION}
    assert hook["legacyResourceId"] == hook["id"].rsplit("/", 1)[-1]
    assert taken["userErrors"][0]["message"] == "Address for this topic has already been taken"
    assert blank["userErrors"][0]["message"] == "Address can't be blank"
    assert [n["id"] for n in listed["data"]["webhookSubscriptions"]["nodes"]] == [hook["id"]]
    assert (
        deleted["data"]["webhookSubscriptionDelete"]["deletedWebhookSubscriptionId"] == hook["id"]
    )
    assert again["data"]["webhookSubscriptionDelete"]["userErrors"]


async def test_given_an_imported_order_then_orders_create_is_signed_with_the_documented_headers(
    store: Starlette, receiver: Receiver
):
    fixture = shopify_support.contract("webhook.delivery")["delivery"]
    async with shopify_support.raw_client(store) as http:
        await subscribe(http, "ORDERS_CREATE")
        await shopify_support.replay(http, "order.create")
    await store.state.webhooks.settle()
    (delivery,) = receiver.received
    assert (
        verify(SourceSystem.OMS, delivery.headers, delivery.body, [CLIENT_SECRET])
        is Signature.VALID
    )
    for name in (
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "Content-Type",
    ):
        assert delivery.header(name) == fixture["headers"][name]
    assert delivery.header("x-shopify-webhook-id") and delivery.header("x-shopify-event-id")
    triggered = delivery.header("x-shopify-triggered-at") or ""
    assert triggered.endswith("Z") and datetime.fromisoformat(triggered).tzinfo is not None
    order = json.loads(delivery.body)
    expected = json.loads(fixture["body_raw"])
    assert set(expected) <= set(order)  # the contract's abridged body, and more
    for key in (
        "id",
        "admin_graphql_api_id",
        "name",
        "email",
        "created_at",
        "currency",
        "source_identifier",
    ):
        assert order[key] == expected[key], key
    assert (order["financial_status"], order["fulfillment_status"], order["cancelled_at"]) == (
        "paid",
        None,
        None,
    )
    assert order["updated_at"] and order["tags"] == "wc-10482, woocommerce"
    assert [line["sku"] for line in order["line_items"]] == [
        line["sku"] for line in expected["line_items"]
    ]
    assert set(expected["line_items"][0]) <= set(order["line_items"][0])


async def test_given_a_hold_and_its_release_then_fulfillment_order_topics_name_the_order(
    store: Starlette, receiver: Receiver
):
    async with shopify_support.raw_client(store) as http:
        await shopify_support.replay(http, "order.create")
        await subscribe(
            http,
            "FULFILLMENT_ORDERS_PLACED_ON_HOLD",
            "FULFILLMENT_ORDERS_HOLD_RELEASED",
            "ORDERS_UPDATED",
        )
        await shopify_support.replay(http, "fulfillment_order.hold")
        await shopify_support.replay(http, "fulfillment_order.release_hold")
    await store.state.webhooks.settle()
    assert topics(receiver) == [
        "fulfillment_orders/placed_on_hold",
        "orders/updated",
        "fulfillment_orders/hold_released",
        "orders/updated",
    ]
    held = json.loads(by_topic(receiver, "fulfillment_orders/placed_on_hold").body)
    assert held["fulfillment_order"]["id"] == "gid://shopify/FulfillmentOrder/7340112233001"
    assert held["fulfillment_order"]["status"] == "on_hold"
    assert held["fulfillment_order"]["order_id"] == ORDER
    assert held["created_fulfillment_hold"]["reason"] == "inventory_out_of_stock"
    released = json.loads(by_topic(receiver, "fulfillment_orders/hold_released").body)
    assert released["fulfillment_order"]["status"] == "open"
    # One event per request: each orders/updated is its own event.
    assert len({r.header("x-shopify-event-id") for r in receiver.received}) == 4


async def test_given_a_shipment_then_orders_fulfilled_shows_it(
    store: Starlette, receiver: Receiver
):
    async with shopify_support.raw_client(store) as http:
        await shopify_support.replay(http, "order.create")
        await subscribe(http, "ORDERS_FULFILLED", "FULFILLMENTS_CREATE")
        await shopify_support.replay(http, "fulfillment.create")
    await store.state.webhooks.settle()
    assert topics(receiver) == ["fulfillments/create", "orders/fulfilled"]
    order = json.loads(by_topic(receiver, "orders/fulfilled").body)
    assert order["fulfillment_status"] == "fulfilled"
    assert order["fulfillments"][0]["tracking_number"]
    assert all(line["fulfillable_quantity"] == 0 for line in order["line_items"])


async def test_given_a_cancelled_order_then_orders_cancelled_carries_cancelled_at(
    store: Starlette, receiver: Receiver
):
    cancel = """mutation ($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true) {
      orderCancelUserErrors { message } } }"""
    async with shopify_support.raw_client(store) as http:
        await shopify_support.replay(http, "order.create")
        await subscribe(http, "ORDERS_CANCELLED", "FULFILLMENT_ORDERS_CANCELLED")
        await shopify_support.graphql(http, cancel, id=ORDER)
        refused = await shopify_support.graphql(http, cancel, id=ORDER)  # already cancelled
    await store.state.webhooks.settle()
    assert refused["data"]["orderCancel"]["orderCancelUserErrors"]
    assert topics(receiver) == ["fulfillment_orders/cancelled", "orders/cancelled"]
    order = json.loads(by_topic(receiver, "orders/cancelled").body)
    assert (order["cancel_reason"], order["source_identifier"]) == ("customer", "wc-10482")
    assert order["cancelled_at"] is not None
    fo = json.loads(by_topic(receiver, "fulfillment_orders/cancelled").body)["fulfillment_order"]
    assert (fo["status"], fo["order_id"]) == ("cancelled", ORDER)


async def test_given_a_failing_receiver_then_shopify_retries_with_the_same_event_id(
    store: Starlette, receiver: Receiver
):
    receiver.answer(500, 502)
    async with shopify_support.raw_client(store) as http:
        await subscribe(http, "ORDERS_CREATE")
        await shopify_support.replay(http, "order.create")
    await store.state.webhooks.settle()
    assert len(receiver.received) == 3
    for header in ("x-shopify-event-id", "x-shopify-webhook-id", "x-shopify-triggered-at"):
        assert len({r.header(header) for r in receiver.received}) == 1, header
    assert len({r.body for r in receiver.received}) == 1
    assert [s.status for s in store.state.webhooks.sent] == [500, 502, 200]


async def test_given_include_fields_then_only_those_keys_are_sent(
    store: Starlette, receiver: Receiver
):
    async with shopify_support.raw_client(store) as http:
        hook = {"uri": HOOK_URL, "includeFields": ["id", "source_identifier", "updated_at"]}
        await shopify_support.graphql(http, SUBSCRIBE, topic="ORDERS_CREATE", hook=hook)
        await shopify_support.replay(http, "order.create")
    await store.state.webhooks.settle()
    (delivery,) = receiver.received
    assert set(json.loads(delivery.body)) == {"id", "source_identifier", "updated_at"}


async def test_given_a_move_and_a_warehouse_picking_then_moved_and_updated_are_sent(
    store: Starlette, receiver: Receiver
):
    async with shopify_support.raw_client(store) as http:
        await shopify_support.replay(http, "order.create")
        await subscribe(http, "FULFILLMENT_ORDERS_MOVED", "ORDERS_UPDATED")
        await shopify_support.replay(http, "fulfillment_order.move")
        moved_id = "gid://shopify/FulfillmentOrder/7340112233002"
        picking = await http.post(
            f"/_sandbox/fulfillment_orders/{moved_id}/status", json={"status": "IN_PROGRESS"}
        )
    await store.state.webhooks.settle()
    assert picking.status_code == 200
    assert topics(receiver) == ["fulfillment_orders/moved", "orders/updated", "orders/updated"]
    moved = json.loads(by_topic(receiver, "fulfillment_orders/moved").body)
    assert moved["original_fulfillment_order"]["order_id"] == ORDER
    assert moved["moved_fulfillment_order"]["id"] == moved_id
    assert moved["destination_location_id"] == shopify_support.NORTH_HUB
