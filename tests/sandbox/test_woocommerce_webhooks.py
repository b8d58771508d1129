"""WooCommerce webhooks: registered through wc/v3, sent when products and orders change, signed
and shaped as WC_Webhook sends them (contracts/woocommerce/webhook.delivery.*.json)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.domain import SourceSystem
from gateway.events.signatures import Signature, verify
from sandbox.woocommerce import create_app
from tests import woocommerce_support
from tests.sandbox.webhook_support import Receiver

API = woocommerce_support.API
SECRET = "whsec-nt-7Qm2vX9pL4sR8tY1"
HOOK_URL = "https://gateway.northtrail.example/hooks/woocommerce"
SIGNATURE = "x-wc-webhook-signature"


@pytest.fixture
def shop() -> Starlette:
    return create_app(woocommerce_support.dataset())


@pytest.fixture
def receiver(shop: Starlette) -> Receiver:
    receiver = Receiver()
    receiver.attach(shop.state.webhooks)
    return receiver


def client(app: Starlette) -> httpx.AsyncClient:
    auth = (woocommerce_support.KEY, woocommerce_support.SECRET)
    return woocommerce_support.client(app, auth=auth)


async def subscribe(http: httpx.AsyncClient, topic: str, **extra: Any) -> dict[str, Any]:
    body = {"name": f"Gateway - {topic}", "topic": topic, "delivery_url": HOOK_URL}
    response = await http.post(f"{API}/webhooks", json={**body, "secret": SECRET, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_given_a_webhook_created_then_it_reads_back_as_the_contract_and_is_pinged(
    shop: Starlette, receiver: Receiver
):
    contract = woocommerce_support.contract("webhooks.create")
    async with client(shop) as http:
        created = await subscribe(http, "product.updated")
        listed = (await http.get(f"{API}/webhooks")).json()
        one = (await http.get(f"{API}/webhooks/{created['id']}")).json()
    await shop.state.webhooks.settle()
    assert set(created) == set(contract["response"]["body"])
    assert created["hooks"] == contract["response"]["body"]["hooks"]
    assert (created["status"], created["resource"], created["event"]) == (
        "active",
        "product",
        "updated",
    )
    assert "secret" not in created  # write-only
    assert [w["id"] for w in listed] == [created["id"]] and one == created
    (ping,) = receiver.received
    assert ping.body == f"webhook_id={created['id']}".encode()
    assert ping.header("content-type") == "application/x-www-form-urlencoded"
    assert ping.header("x-wc-webhook-topic") is None


async def test_given_bad_registrations_then_woocommerce_refuses_them(shop: Starlette):
    async with client(shop) as http:
        topic = await http.post(
            f"{API}/webhooks", json={"topic": "stock.moved", "delivery_url": HOOK_URL}
        )
        url = await http.post(
            f"{API}/webhooks", json={"topic": "order.created", "delivery_url": "ftp://x"}
        )
        anonymous = await woocommerce_support.client(shop).get(f"{API}/webhooks")
        missing = await http.get(f"{API}/webhooks/99")
        trash = await http.delete(f"{API}/webhooks/99")
    assert (topic.status_code, topic.json()["code"]) == (
        400,
        "woocommerce_rest_shop_webhook_invalid_topic",
    )
    assert url.json()["code"] == "woocommerce_rest_shop_webhook_invalid_delivery_url"
    assert anonymous.status_code == 401
    assert (missing.status_code, missing.json()["code"]) == (
        404,
        "woocommerce_rest_shop_webhook_invalid_id",
    )
    assert trash.status_code == 404


async def test_given_a_stock_update_then_product_updated_is_signed_and_php_encoded(
    shop: Starlette, receiver: Receiver
):
    async with client(shop) as http:
        hook = await subscribe(http, "product.updated")
        await http.put(f"{API}/products/4812", json={"stock_quantity": 12})
        await http.put(f"{API}/products/4812", json={"low_stock_amount": 3})
        rest = (await http.get(f"{API}/products/4812")).json()
    await shop.state.webhooks.settle()
    deliveries = receiver.signed(SIGNATURE)
    assert len(deliveries) == 2  # one per request
    delivery = deliveries[-1]
    assert (
        verify(SourceSystem.STOREFRONT, delivery.headers, delivery.body, [SECRET])
        is Signature.VALID
    )
    expected = woocommerce_support.contract("webhook.delivery.product.updated")["delivery"][
        "headers"
    ]
    for name in ("Content-Type", "User-Agent", "X-WC-Webhook-Source", "X-WC-Webhook-Topic"):
        assert delivery.header(name) == expected[name]
    assert delivery.header("x-wc-webhook-resource") == "product"
    assert delivery.header("x-wc-webhook-event") == "updated"
    assert delivery.header("x-wc-webhook-id") == str(hook["id"])
    assert len(delivery.header("x-wc-webhook-delivery-id") or "") == 32
    assert b"https:\\/\\/shop.northtrail.example" in delivery.body  # '/' escaped as PHP does
    payload = json.loads(delivery.body)
    assert (payload["id"], payload["sku"], payload["stock_quantity"]) == (
        4812,
        "SOCK-MER-CREW-M",
        12,
    )
    # The REST resource, except that its links name the shop's own site.
    assert {k: v for k, v in payload.items() if k != "_links"} == {
        k: v for k, v in rest.items() if k != "_links"
    }
    assert payload["date_modified_gmt"] == rest["date_modified_gmt"]


async def test_given_a_paid_order_then_order_created_order_updated_and_its_stock_move(
    shop: Starlette, receiver: Receiver
):
    async with client(shop) as http:
        for topic in ("order.created", "order.updated", "product.updated"):
            await subscribe(http, topic)
        order = (
            await http.post(
                f"{API}/orders",
                json={"set_paid": True, "line_items": [{"sku": "SOCK-MER-CREW-M", "quantity": 1}]},
            )
        ).json()
        await http.put(f"{API}/orders/{order['id']}", json={"status": "completed"})
    await shop.state.webhooks.settle()
    topics = [
        (r.header("x-wc-webhook-topic"), json.loads(r.body)["id"])
        for r in receiver.signed(SIGNATURE)
    ]
    assert topics == [
        ("order.created", order["id"]),
        ("product.updated", 4812),  # the stock the payment took
        ("order.updated", order["id"]),
        ("order.updated", order["id"]),
    ]
    completed = json.loads(receiver.signed(SIGNATURE)[-1].body)
    assert (completed["status"], completed["date_modified_gmt"] is not None) == ("completed", True)


async def test_given_a_paused_webhook_or_another_topic_then_nothing_is_sent(
    shop: Starlette, receiver: Receiver
):
    async with client(shop) as http:
        hook = await subscribe(http, "product.updated", status="paused")
        await subscribe(http, "order.created")
        await http.put(f"{API}/products/4812", json={"stock_quantity": 3})
        updated = await http.put(f"{API}/webhooks/{hook['id']}", json={"status": "active"})
        await http.put(f"{API}/products/4812", json={"stock_quantity": 4})
    await shop.state.webhooks.settle()
    assert updated.json()["status"] == "active"
    (delivery,) = receiver.signed(SIGNATURE)
    assert json.loads(delivery.body)["stock_quantity"] == 4


async def test_given_a_deleted_product_then_product_deleted_carries_only_its_id(
    shop: Starlette, receiver: Receiver
):
    async with client(shop) as http:
        await subscribe(http, "product.deleted")
        await http.post(f"{API}/products/batch", json={"delete": [4812]})
    await shop.state.webhooks.settle()
    (delivery,) = receiver.signed(SIGNATURE)
    assert delivery.body == b'{"id":4812}'


async def test_given_more_than_five_failures_in_a_row_then_the_webhook_is_disabled(
    shop: Starlette, receiver: Receiver
):
    async with client(shop) as http:
        hook = await subscribe(http, "product.updated")
        await shop.state.webhooks.settle()  # the ping
        receiver.answer(*[500] * 7)
        for quantity in range(9):
            await http.put(f"{API}/products/4812", json={"stock_quantity": quantity})
            await shop.state.webhooks.settle()
            if quantity == 5:  # six failed: counted, still active
                assert (await http.get(f"{API}/webhooks/{hook['id']}")).json()["status"] == "active"
        status = (await http.get(f"{API}/webhooks/{hook['id']}")).json()["status"]
    # WC_Webhook::failed_delivery: the failure after the count passed 5 disables it, and a
    # disabled webhook sends nothing more. No failed delivery was retried.
    assert status == "disabled"
    assert len(receiver.signed(SIGNATURE)) == 7
    assert all(s.attempt == 0 for s in shop.state.webhooks.sent)


async def test_given_a_success_between_failures_then_the_count_starts_again(
    shop: Starlette, receiver: Receiver
):
    async with client(shop) as http:
        hook = await subscribe(http, "product.updated")
        await shop.state.webhooks.settle()  # the ping
        receiver.answer(*[500] * 6, 302, *[500] * 6)
        for quantity in range(13):
            await http.put(f"{API}/products/4812", json={"stock_quantity": quantity})
            await shop.state.webhooks.settle()
        status = (await http.get(f"{API}/webhooks/{hook['id']}")).json()["status"]
    assert status == "active"  # a 302 counts as delivered


async def test_given_a_deleted_webhook_then_it_is_gone_and_sends_nothing(
    shop: Starlette, receiver: Receiver
):
    async with client(shop) as http:
        hook = await subscribe(http, "product.updated")
        not_forced = await http.delete(f"{API}/webhooks/{hook['id']}")
        deleted = await http.delete(f"{API}/webhooks/{hook['id']}", params={"force": "true"})
        await http.put(f"{API}/products/4812", json={"stock_quantity": 3})
        gone = await http.get(f"{API}/webhooks/{hook['id']}")
    await shop.state.webhooks.settle()
    assert (not_forced.status_code, not_forced.json()["code"]) == (
        501,
        "woocommerce_rest_trash_not_supported",
    )
    assert deleted.json()["id"] == hook["id"] and gone.status_code == 404
    assert receiver.signed(SIGNATURE) == []
