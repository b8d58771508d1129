"""Square webhooks: subscriptions through the Webhook Subscriptions API, inventory.count.updated
on every count a change moves (a till sale too), catalog.version.updated, and retries that
keep the event id (contracts/pos/webhook.inventory.count.updated.json)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.domain import SourceSystem
from gateway.events.signatures import Signature, verify
from tests import square_support
from tests.sandbox.webhook_support import Receiver

HOOK_URL = "https://gateway.northtrail.example/hooks/square"
SIGNATURE = "x-square-hmacsha256-signature"
SHOE = "H7CY2PB5WK3XQ9TN6RMZ4LDV"  # SHOE-TRAIL-42
FLAGSHIP = "L8D2Q4W5ZC1XN"


@pytest.fixture
def account() -> Starlette:
    return square_support.simulator()


@pytest.fixture
def receiver(account: Starlette) -> Receiver:
    receiver = Receiver()
    receiver.attach(account.state.webhooks)
    return receiver


async def subscribe(http: httpx.AsyncClient, *events: str, key: str = "sub-1") -> dict[str, Any]:
    body = {
        "idempotency_key": key,
        "subscription": {
            "name": "Gateway",
            "event_types": list(events or ["inventory.count.updated"]),
            "notification_url": HOOK_URL,
            "api_version": "2025-08-20",
        },
    }
    response = await http.post("/v2/webhooks/subscriptions", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["subscription"])


def till_sale(key: str, quantity: str = "1") -> dict[str, Any]:
    adjustment = {
        "catalog_object_id": SHOE,
        "location_id": FLAGSHIP,
        "from_state": "IN_STOCK",
        "to_state": "SOLD",
        "quantity": quantity,
    }
    return {"idempotency_key": key, "changes": [{"type": "ADJUSTMENT", "adjustment": adjustment}]}


async def test_given_a_subscription_then_it_is_listed_retrieved_and_deleted(account: Starlette):
    async with square_support.raw_client(account) as http:
        created = await subscribe(http)
        again = await subscribe(http)  # the same idempotency key and body
        listed = (await http.get("/v2/webhooks/subscriptions")).json()
        one = (await http.get(f"/v2/webhooks/subscriptions/{created['id']}")).json()
        deleted = await http.delete(f"/v2/webhooks/subscriptions/{created['id']}")
        gone = await http.get(f"/v2/webhooks/subscriptions/{created['id']}")
    assert created == again and created["id"].startswith("wbhk_")
    assert created["signature_key"] and created["enabled"] is True
    assert [s["id"] for s in listed["subscriptions"]] == [created["id"]]
    assert one["subscription"] == created
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert gone.status_code == 404


async def test_given_bad_subscriptions_then_square_refuses_them(account: Starlette):
    async with square_support.raw_client(account) as http:
        unknown = await http.post(
            "/v2/webhooks/subscriptions",
            json={"subscription": {"event_types": ["stock.moved"], "notification_url": HOOK_URL}},
        )
        no_url = await http.post(
            "/v2/webhooks/subscriptions",
            json={"subscription": {"event_types": ["inventory.count.updated"]}},
        )
        reused = await http.post(
            "/v2/webhooks/subscriptions",
            json={
                "idempotency_key": "k",
                "subscription": {
                    "event_types": ["catalog.version.updated"],
                    "notification_url": HOOK_URL,
                },
            },
        )
        reused = await http.post(
            "/v2/webhooks/subscriptions",
            json={
                "idempotency_key": "k",
                "subscription": {
                    "event_types": ["inventory.count.updated"],
                    "notification_url": HOOK_URL,
                },
            },
        )
    async with square_support.raw_client(account, token=None) as http:
        anonymous = await http.get("/v2/webhooks/subscriptions")
    assert unknown.json()["errors"][0]["field"] == "subscription.event_types[0]"
    assert no_url.json()["errors"][0]["code"] == "MISSING_REQUIRED_PARAMETER"
    assert reused.json()["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert anonymous.status_code == 401


async def test_given_a_till_sale_then_inventory_count_updated_is_sent_as_the_contract_shows(
    account: Starlette, receiver: Receiver
):
    fixture = json.loads(
        square_support.contract("webhook.inventory.count.updated")["delivery"]["body_raw"]
    )
    async with square_support.raw_client(account) as http:
        subscription = await subscribe(http)
        answer = (
            await http.post("/v2/inventory/changes/batch-create", json=till_sale("till-1", "2"))
        ).json()
        # The same key again is the first answer replayed: no change, no second event.
        await http.post("/v2/inventory/changes/batch-create", json=till_sale("till-1", "2"))
    await account.state.webhooks.settle()
    (delivery,) = receiver.received
    checked = verify(
        SourceSystem.POS, delivery.headers, delivery.body, [subscription["signature_key"]], HOOK_URL
    )
    assert checked is Signature.VALID
    assert delivery.header("square-environment") == "Production"
    event = json.loads(delivery.body)
    assert list(event) == list(fixture)
    assert list(event["data"]) == list(fixture["data"])
    assert (event["merchant_id"], event["type"]) == (
        fixture["merchant_id"],
        "inventory.count.updated",
    )
    assert event["data"]["type"] == "inventory_counts"
    (count,) = event["data"]["object"]["inventory_counts"]
    assert list(count) == list(fixture["data"]["object"]["inventory_counts"][0])
    assert count == answer["counts"][0]  # what the change moved, quantity a string
    assert (count["catalog_object_id"], count["location_id"], count["state"]) == (
        SHOE,
        FLAGSHIP,
        "IN_STOCK",
    )
    assert event["created_at"].endswith("Z") and len(event["event_id"]) == 36


async def test_given_only_catalog_events_subscribed_then_a_catalogue_edit_is_all_that_is_sent(
    account: Starlette, receiver: Receiver
):
    async with square_support.raw_client(account) as http:
        await subscribe(http, "catalog.version.updated")
        await http.post("/v2/inventory/changes/batch-create", json=till_sale("till-1"))
        await http.post("/v2/inventory/changes/batch-create", json=till_sale("till-1"))  # replayed
        await http.post("/_sandbox/catalog/version")  # the merchant edits the item library
    await account.state.webhooks.settle()
    (delivery,) = receiver.received
    event = json.loads(delivery.body)
    assert event["type"] == "catalog.version.updated"
    assert event["data"]["type"] == "catalog_version" and event["data"]["id"] == ""
    assert event["data"]["object"]["catalog_version"]["updated_at"].endswith("Z")


async def test_given_a_failing_receiver_then_square_retries_with_the_same_event(
    account: Starlette, receiver: Receiver
):
    receiver.answer(503, 500)
    async with square_support.raw_client(account) as http:
        await subscribe(http)
        await http.post("/v2/inventory/changes/batch-create", json=till_sale("till-1"))
    await account.state.webhooks.settle()
    first, second, third = receiver.received
    assert first.body == second.body == third.body
    assert len({json.loads(r.body)["event_id"] for r in receiver.received}) == 1
    assert first.header("square-retry-number") is None
    assert (second.header("square-retry-number"), third.header("square-retry-number")) == ("1", "2")
    assert second.header("square-retry-reason") == "http_error"
    assert second.header("square-initial-delivery-timestamp") is not None
    assert [s.status for s in account.state.webhooks.sent] == [503, 500, 200]


async def test_given_a_disabled_subscription_then_it_hears_nothing(
    account: Starlette, receiver: Receiver
):
    async with square_support.raw_client(account) as http:
        subscription = await subscribe(http)
        await http.put(
            f"/v2/webhooks/subscriptions/{subscription['id']}",
            json={"subscription": {"enabled": False}},
        )
        await http.post("/v2/inventory/changes/batch-create", json=till_sale("till-1"))
        listed = (await http.get("/v2/webhooks/subscriptions")).json()
    await account.state.webhooks.settle()
    assert receiver.received == [] and listed == {}


async def test_given_the_forge_knob_then_the_gateway_refuses_the_signature(
    account: Starlette, receiver: Receiver
):
    account.state.webhooks.faults.configure({"forge": True})
    async with square_support.raw_client(account) as http:
        subscription = await subscribe(http)
        await http.post("/v2/inventory/changes/batch-create", json=till_sale("till-1"))
    await account.state.webhooks.settle()
    (delivery,) = receiver.received
    key = [subscription["signature_key"]]
    assert (
        verify(SourceSystem.POS, delivery.headers, delivery.body, key, HOOK_URL)
        is Signature.INVALID
    )
