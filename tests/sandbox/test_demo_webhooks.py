"""The demo's registration helper (sandbox.demo_webhooks): the four simulators, pointed at the
gateway through their own APIs, send deliveries the gateway verifies with the secrets the
helper returns and reads its event identity and meaning from."""

from __future__ import annotations

import json

import httpx

from gateway.config import Settings
from gateway.domain import SourceSystem
from gateway.events.identity import event_key, topic_of
from gateway.events.meaning import named_by
from gateway.events.signatures import Signature, verify
from sandbox.demo_webhooks import register_gateway_webhooks
from sandbox.servers import simulator_apps
from tests import erpnext_support, shopify_support, square_support
from tests.sandbox.webhook_support import Receiver

GATEWAY = "http://gateway.test"
SYSTEMS = {
    "woocommerce": SourceSystem.STOREFRONT,
    "square": SourceSystem.POS,
    "shopify": SourceSystem.OMS,
    "erpnext": SourceSystem.ERP,
}


async def test_given_the_demo_registration_then_every_backend_delivers_what_the_gateway_reads():
    apps = simulator_apps(square_support.dataset())
    settings = Settings(_env_file=None)
    transports = {name: httpx.ASGITransport(app=app) for name, app in apps.items()}
    gateway = Receiver()
    for app in apps.values():
        gateway.attach(app.state.webhooks)

    found = await register_gateway_webhooks(settings, GATEWAY, transports=transports)

    # A change in each system: a sale taken by the shop itself (no API call), a till sale,
    # an imported order, a submitted Sales Order.
    shoe = apps["woocommerce"].state.catalog.with_skus(["shoe-trail-42"])[0]
    apps["woocommerce"].state.catalog.adjust_stock(shoe, -1)
    async with square_support.raw_client(apps["square"]) as http:
        vid = next(
            v
            for v, x in apps["square"].state.simulator.catalog.variations.items()
            if x.sku == "SHOE-TRAIL-42"
        )
        location = apps["square"].state.simulator.catalog.store_ids[0]
        adjustment = {
            "catalog_object_id": vid,
            "location_id": location,
            "from_state": "IN_STOCK",
            "to_state": "SOLD",
            "quantity": "1",
        }
        await http.post(
            "/v2/inventory/changes/batch-create",
            json={
                "idempotency_key": "till",
                "changes": [{"type": "ADJUSTMENT", "adjustment": adjustment}],
            },
        )
    async with shopify_support.raw_client(apps["oms"]) as http:
        await shopify_support.replay(http, "order.create")
    async with erpnext_support.raw_client(apps["erp"]) as http:
        body = erpnext_support.contract("sales_order.create")["request"]["body"]
        await http.post("/api/resource/Sales Order", json={**body, "docstatus": 1})

    for app in apps.values():
        await app.state.webhooks.settle()

    secrets = {
        SourceSystem.STOREFRONT: found.woo_webhook_secrets,
        SourceSystem.POS: found.square_webhook_signature_keys,
        SourceSystem.OMS: found.shopify_webhook_secrets,
        SourceSystem.ERP: found.erp_webhook_secrets,
    }
    heard: dict[SourceSystem, set[str]] = {}
    for delivery in gateway.received:
        if delivery.body.startswith(b"webhook_id="):
            continue  # WooCommerce's ping is not signed
        backend = delivery.url.rsplit("/", 1)[-1]
        system = SYSTEMS[backend]
        url = f"{GATEWAY}/webhooks/{backend}"
        assert (
            verify(system, delivery.headers, delivery.body, secrets[system], url) is Signature.VALID
        )
        payload = json.loads(delivery.body)
        topic = topic_of(system, delivery.headers, payload)
        # Each is known by its own identity, not by the hash of its body ...
        assert not event_key(system, delivery.headers, payload, delivery.body).startswith("sha256:")
        # ... and names what it is about.
        meaning = named_by(system, topic, payload)
        assert meaning.skus or meaning.square_variations or meaning.order or meaning.oms_order
        heard.setdefault(system, set()).add(topic)

    assert heard == {
        SourceSystem.STOREFRONT: {"product.updated"},
        SourceSystem.POS: {"inventory.count.updated"},
        SourceSystem.OMS: {"orders/create"},
        SourceSystem.ERP: {"Bin", "Sales Order"},
    }
    assert json.loads(found.environment()["SHOPIFY_WEBHOOK_SECRETS"]) == ["shpss_sandbox"]
    assert found.settings()["woo_webhook_secrets"] == list(found.woo_webhook_secrets)
