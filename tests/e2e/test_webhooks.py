"""Webhooks in over the gateway's HTTP face: a signed WooCommerce order.created is recorded,
acknowledged and processed without waiting for a poll; a replay (also at another gateway
process on the same database, as after a restart) is dropped; a forged or unsigned one is
refused with 401 and counted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.domain import SourceSystem
from gateway.events.signatures import signature_of
from sandbox.erpnext.bins import BinLedger
from tests.e2e.support import (
    BERLIN_STORE,
    SHOE,
    Stack,
    gateway,
    ok,
    oms_orders_for,
    place,
    position,
    square_in_stock,
    system,
)
from tests.e2e.support import (
    CENTRAL_WAREHOUSE as WAREHOUSE,
)
from tests.e2e.test_notifications import ring_up_at_the_till
from tests.e2e.test_order_sync import mark_fulfillment_order
from tests.e2e.test_order_transitions import WAREHOUSE_SHIPS
from tests.e2e.test_web_orders import checkout, imported

SECRET = "whsec-test-1"
ORDER = "query ($id: ID!) { order(id: $id) { status fulfillmentLocationIds } }"
ORDER_SYSTEMS = "query ($id: ID!) { order(id: $id) { status systems { system id status } } }"


@pytest.fixture
async def hooked(dataset, tmp_path) -> AsyncIterator[Stack]:
    async with gateway(dataset, tmp_path, woo_webhook_secrets=["whsec-new", SECRET]) as stack:
        await imported(stack)
        yield stack


def delivery(body: bytes, topic: str, secret: str | None = SECRET) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-ID": "32",
        "X-WC-Webhook-Delivery-ID": "41d7e0c93a5f2b8e6c1d0a9f7b3e5c2a",
    }
    if secret is not None:
        url = "http://gateway.test/webhooks/woocommerce"
        headers["X-WC-Webhook-Signature"] = signature_of(SourceSystem.STOREFRONT, secret, body, url)
    return headers


async def post(app: Any, body: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        return await http.post("/webhooks/woocommerce", content=body, headers=headers)


async def test_given_a_signed_order_created_then_it_is_allocated_without_a_poll(hooked: Stack):
    web = await checkout(hooked, [(SHOE, 1)])
    body = json.dumps(web).encode()

    accepted = await post(hooked.gql.app, body, delivery(body, "order.created"))
    assert (accepted.status_code, accepted.json()) == (200, {"status": "ACCEPTED"})
    assert await hooked.services.webhook_processor.run_once() == 1

    order = (await ok(hooked.gql, ORDER, id=f"web_{web['id']}"))["order"]
    assert order["status"] == "ALLOCATED" and order["fulfillmentLocationIds"]

    # WooCommerce retries, or someone replays the delivery: recognised, nothing done again,
    replay = await post(hooked.gql.app, body, delivery(body, "order.created"))
    assert replay.json() == {"status": "REPLAY"}
    assert await hooked.services.webhook_processor.run_once() == 0
    # also by another gateway process on the same database (as after a restart).
    async with hooked.another_gateway(woo_webhook_secrets=[SECRET]) as other:
        again = await post(other.app, body, delivery(body, "order.created"))
    assert again.json() == {"status": "REPLAY"}


async def test_given_a_forged_or_unsigned_delivery_then_401_and_counted(hooked: Stack):
    web = await checkout(hooked, [(SHOE, 1)])
    body = json.dumps(web).encode()

    forged = await post(hooked.gql.app, body, delivery(body, "order.created", "guessed"))
    unsigned = await post(hooked.gql.app, body, delivery(body, "order.created", None))
    tampered = await post(hooked.gql.app, body + b" ", delivery(body, "order.created"))

    assert [r.status_code for r in (forged, unsigned, tampered)] == [401, 401, 401]
    assert hooked.services.webhooks.refused[SourceSystem.STOREFRONT] == 3
    assert await hooked.services.webhook_processor.run_once() == 0  # nothing was recorded
    # The rotated-in secret is accepted as well as the old one.
    rotated = await post(hooked.gql.app, body, delivery(body, "order.created", "whsec-new"))
    assert rotated.json() == {"status": "ACCEPTED"}


async def test_woocommerces_unsigned_ping_on_creation_is_answered_and_nothing_recorded(
    hooked: Stack,
):
    ping = await post(
        hooked.gql.app, b"webhook_id=32", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (ping.status_code, ping.json()) == (200, {"status": "NOT_AN_EVENT"})
    assert hooked.services.webhooks.refused[SourceSystem.STOREFRONT] == 0
    assert await hooked.services.webhook_processor.run_once() == 0


async def test_a_webhook_from_a_backend_nobody_configured_is_refused(hooked: Stack):
    body = b'{"event_id": "e-1", "type": "inventory.count.updated"}'
    transport = httpx.ASGITransport(app=hooked.gql.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        square = await http.post(
            "/webhooks/square", content=body, headers={"x-square-hmacsha256-signature": "x"}
        )
        unknown = await http.post("/webhooks/magento", content=body)
    assert (square.status_code, unknown.status_code) == (401, 404)


ERP_SECRET, SHOPIFY_SECRET = "erp-hook-secret", "shpss-test"


@pytest.fixture
async def warehouse_hooked(dataset, tmp_path) -> AsyncIterator[Stack]:
    async with gateway(
        dataset,
        tmp_path,
        routing=WAREHOUSE_SHIPS,
        erp_webhook_secrets=[ERP_SECRET],
        shopify_webhook_secrets=[SHOPIFY_SECRET],
    ) as stack:
        yield stack


async def signed_post(
    app: Any, backend: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    system, secret, header = {
        "erpnext": (SourceSystem.ERP, ERP_SECRET, "X-Frappe-Webhook-Signature"),
        "shopify": (SourceSystem.OMS, SHOPIFY_SECRET, "X-Shopify-Hmac-Sha256"),
    }[backend]
    url = f"http://gateway.test/webhooks/{backend}"
    signed = {**headers, header: signature_of(system, secret, body, url)}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        return await http.post(f"/webhooks/{backend}", content=body, headers=signed)


async def test_given_the_erp_cancels_a_sales_order_then_its_webhook_carries_it_everywhere(
    warehouse_hooked: Stack,
):
    stack = warehouse_hooked
    order = await place(stack, "hook-erp", email="ina@example.org", lines=[(SHOE, 1)])
    await stack.drain()
    so_name = system((await ok(stack.gql, ORDER_SYSTEMS, id=order["id"]))["order"], "ERP")["id"]
    settings = stack.settings()
    async with httpx.AsyncClient(base_url=settings.erp_base_url) as erp:
        cancelled = await erp.post(
            "/api/method/frappe.client.cancel",
            json={"doctype": "Sales Order", "name": so_name},
            headers={"Authorization": f"token {settings.erp_api_key}:{settings.erp_api_secret}"},
        )
    assert cancelled.status_code == 200
    doc = cancelled.json()["message"]
    body = json.dumps(
        {
            "name": so_name,
            "doctype": "Sales Order",
            "status": "Cancelled",
            "po_no": doc["po_no"],
            "modified": doc["modified"],
        }
    ).encode()

    answer = await signed_post(stack.gql.app, "erpnext", body, {"Content-Type": "application/json"})
    assert answer.json() == {"status": "ACCEPTED"}
    await stack.services.webhook_processor.run_once()
    await stack.drain()

    seen = (await ok(stack.gql, ORDER_SYSTEMS, id=order["id"]))["order"]
    assert seen["status"] == "CANCELLED"
    (oms,) = oms_orders_for(stack.apps, order["id"])
    assert oms.cancelled_at is not None  # Shopify heard of it without any poll


async def test_given_shopify_ships_an_order_then_its_webhook_moves_the_order(
    warehouse_hooked: Stack,
):
    stack = warehouse_hooked
    order = await place(stack, "hook-oms", email="ole@example.org", lines=[(SHOE, 1)])
    await stack.drain()
    (oms,) = oms_orders_for(stack.apps, order["id"])
    for fo in stack.apps["oms"].state.shop.fulfillment_orders.values():
        if fo.order is oms:
            await mark_fulfillment_order(stack, fo.id, "IN_PROGRESS")
    body = json.dumps(
        {"id": 1, "admin_graphql_api_id": oms.id, "source_identifier": order["id"]}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Event-Id": "evt-picking-1",
    }

    answer = await signed_post(stack.gql.app, "shopify", body, headers)
    assert answer.json() == {"status": "ACCEPTED"}
    await stack.services.webhook_processor.run_once()

    seen = (await ok(stack.gql, ORDER_SYSTEMS, id=order["id"]))["order"]
    assert seen["status"] == "PICKING"


# --- stock events: a till sale reaches the next answer without waiting for the cache ---------

SQUARE_KEY = "sq-signature-key"


@pytest.fixture
async def square_hooked(dataset, tmp_path) -> AsyncIterator[Stack]:
    async with gateway(
        dataset,
        tmp_path,
        square_webhook_signature_keys=[SQUARE_KEY],
        erp_webhook_secrets=[ERP_SECRET],
        shopify_webhook_secrets=[SHOPIFY_SECRET],
    ) as stack:
        yield stack


def square_count_event(
    stack: Stack, sku: str, store_ref: str, quantity: int, *, at: datetime, event_id: str
) -> bytes:
    """inventory.count.updated as Square sends it (pos/webhook.inventory.count.updated)."""
    simulator = stack.apps["square"].state.simulator
    (vid,) = [v for v, variation in simulator.catalog.variations.items() if variation.sku == sku]
    stamp = at.isoformat().replace("+00:00", "Z")
    count = {
        "catalog_object_id": vid,
        "catalog_object_type": "ITEM_VARIATION",
        "state": "IN_STOCK",
        "location_id": store_ref,
        "quantity": str(quantity),
        "calculated_at": stamp,
    }
    event = {
        "merchant_id": "ML4ZP8Q3R2XKT",
        "type": "inventory.count.updated",
        "event_id": event_id,
        "created_at": stamp,
        "data": {
            "type": "inventory_counts",
            "id": event_id,
            "object": {"inventory_counts": [count]},
        },
    }
    return json.dumps(event).encode()


async def square_post(app: Any, body: bytes, key: str = SQUARE_KEY) -> httpx.Response:
    url = "http://gateway.test/webhooks/square"
    headers = {
        "Content-Type": "application/json",
        "x-square-hmacsha256-signature": signature_of(SourceSystem.POS, key, body, url),
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        return await http.post("/webhooks/square", content=body, headers=headers)


async def test_given_a_till_sale_then_its_square_webhook_shows_it_in_the_next_answer(
    square_hooked: Stack,
):
    stack = square_hooked
    before = await position(stack.gql, SHOE, BERLIN_STORE)
    ref = before["location"]["sourceRef"]
    on_shelf = square_in_stock(stack.apps, SHOE, ref)
    assert on_shelf >= 2

    await ring_up_at_the_till(stack, SHOE, ref, 1)
    # The gateway's figure is cached (15 s): without an event it still says what it said,
    assert (await position(stack.gql, SHOE, BERLIN_STORE))["onHand"] == before["onHand"]
    now = datetime.now(UTC)
    body = square_count_event(stack, SHOE, ref, on_shelf - 1, at=now, event_id="evt-sale-1")
    assert (await square_post(stack.gql.app, body)).json() == {"status": "ACCEPTED"}
    assert await stack.services.webhook_processor.run_once() == 1

    # and once Square's event is processed the next answer shows the sale, saying how the
    # gateway knew: read again on Square's event, so trusted HIGH.
    after = await position(stack.gql, SHOE, BERLIN_STORE)
    assert after["onHand"] == before["onHand"] - 1
    assert await freshness(stack, SHOE, BERLIN_STORE) == ("WEBHOOK", "HIGH")

    # An older event delivered late (Square retried it) changes nothing: the figure is
    # read afresh, not taken from the event.
    late = square_count_event(
        stack, SHOE, ref, on_shelf, at=now - timedelta(minutes=1), event_id="evt-older"
    )
    assert (await square_post(stack.gql.app, late)).json() == {"status": "ACCEPTED"}
    assert await stack.services.webhook_processor.run_once() == 1
    assert (await position(stack.gql, SHOE, BERLIN_STORE))["onHand"] == after["onHand"]


FRESHNESS = """query ($sku: String!, $at: [ID!]) { product(sku: $sku) {
  availability(locationIds: $at) { locations { asOf observedAt via confidence } } } }"""


async def freshness(stack: Stack, sku: str, location_id: str) -> tuple[str, str]:
    found = await ok(stack.gql, FRESHNESS, sku=sku, at=[location_id])
    (row,) = found["product"]["availability"]["locations"]
    assert row["observedAt"] is not None and row["asOf"] is not None
    return row["via"], row["confidence"]


async def test_stale_and_future_events_are_refused_and_counted(square_hooked: Stack):
    stack = square_hooked
    ref = (await position(stack.gql, SHOE, BERLIN_STORE))["location"]["sourceRef"]
    now = datetime.now(UTC)
    old = square_count_event(stack, SHOE, ref, 1, at=now - timedelta(days=2), event_id="e-old")
    ahead = square_count_event(stack, SHOE, ref, 1, at=now + timedelta(hours=1), event_id="e-new")
    triggered = (now - timedelta(days=3)).isoformat()
    shopify_old = await signed_post(
        stack.gql.app,
        "shopify",
        b'{"id": 7, "source_identifier": "ord_x"}',
        {"X-Shopify-Topic": "orders/updated", "X-Shopify-Event-Id": "evt-old-shopify",
         "X-Shopify-Triggered-At": triggered},
    )  # fmt: skip

    answers = [(await square_post(stack.gql.app, b)).json() for b in (old, ahead)]
    assert answers == [{"status": "STALE"}, {"status": "STALE"}]
    assert shopify_old.json() == {"status": "STALE"}
    inbox = stack.services.webhooks
    assert (inbox.stale[SourceSystem.POS], inbox.stale[SourceSystem.OMS]) == (2, 1)
    assert await stack.services.webhook_processor.run_once() == 0  # nothing was recorded


async def test_given_an_erpnext_bin_event_then_the_warehouse_figure_is_read_afresh(
    square_hooked: Stack,
):
    stack = square_hooked
    before = await position(stack.gql, SHOE, WAREHOUSE)
    erp_warehouse = before["location"]["sourceRef"]
    modified = "2026-12-04 10:00:00.000001"
    bins = BinLedger(stack.apps["erp"].state.store, lambda: modified)
    bins.move(SHOE, erp_warehouse, actual_qty=-2)  # stock left the warehouse in the ERP
    bin_ = bins.figures(SHOE, erp_warehouse)
    assert bin_ is not None
    assert (await position(stack.gql, SHOE, WAREHOUSE))["onHand"] == before["onHand"]  # cached

    body = json.dumps(
        {"doctype": "Bin", "name": bin_["name"], "modified": modified,
         "item_code": SHOE, "warehouse": erp_warehouse}
    ).encode()  # fmt: skip
    answer = await signed_post(stack.gql.app, "erpnext", body, {"Content-Type": "application/json"})
    assert answer.json() == {"status": "ACCEPTED"}
    assert await stack.services.webhook_processor.run_once() == 1
    assert (await position(stack.gql, SHOE, WAREHOUSE))["onHand"] == before["onHand"] - 2
