"""The demo's webhooks: point each simulator at the gateway the way a merchant would, through
each product's own registration API, and hand back what the gateway must be configured with
to verify them.

    product      registered                                         the gateway's secret
    WooCommerce  POST /wp-json/wc/v3/webhooks, one per topic        the secret sent
    Square       POST /v2/webhooks/subscriptions, one subscription  its signature_key
    Shopify      webhookSubscriptionCreate, one per topic           the app's client secret
    ERPNext      POST /api/resource/Webhook, one per doctype/event  the webhook_secret sent

The URLs registered are ``<gateway_base_url>/webhooks/<backend>``; Square signs its URL, so
the gateway must rebuild the same one (its WEBHOOK_BASE_URL, or the URL as received).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from sandbox.woocommerce.auth import signature_base_string

WOO_TOPICS = ("product.created", "product.updated", "order.created", "order.updated")
SQUARE_EVENTS = ("inventory.count.updated", "catalog.version.updated")
SHOPIFY_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "ORDERS_FULFILLED",
    "ORDERS_PARTIALLY_FULFILLED",
    "FULFILLMENT_ORDERS_PLACED_ON_HOLD",
    "FULFILLMENT_ORDERS_HOLD_RELEASED",
    "FULFILLMENT_ORDERS_MOVED",
    "FULFILLMENT_ORDERS_CANCELLED",
)
# What the gateway reads from each ERPNext doctype (gateway.events): its identity
# (doctype, name, modified) and what it names. tojson keeps odd values valid JSON.
_IDENTITY = (
    '"doctype": {{ doc.doctype | tojson }}, "name": {{ doc.name | tojson }}, '
    '"modified": {{ doc.modified | tojson }}'
)
_STOCK = (
    '"item_code": {{ doc.item_code | tojson }}, "warehouse": {{ doc.warehouse | tojson }}, '
    '"actual_qty": {{ doc.actual_qty | tojson }}'
)
ERP_TEMPLATES = {
    "Bin": "{" + _IDENTITY + ", " + _STOCK + ", "
    '"reserved_qty": {{ doc.reserved_qty | tojson }}, '
    '"projected_qty": {{ doc.projected_qty | tojson }}}',
    "Stock Ledger Entry": "{" + _IDENTITY + ", " + _STOCK + ", "
    '"voucher_type": {{ doc.voucher_type | tojson }}, '
    '"voucher_no": {{ doc.voucher_no | tojson }}}',
    "Sales Order": "{" + _IDENTITY + ", "
    '"po_no": {{ doc.po_no | tojson }}, "status": {{ doc.status | tojson }}, '
    '"docstatus": {{ doc.docstatus | tojson }}}',
}
ERP_EVENTS = (
    ("Bin", "on_update"),
    ("Stock Ledger Entry", "after_insert"),
    ("Sales Order", "on_submit"),
    ("Sales Order", "on_cancel"),
    ("Sales Order", "on_change"),
)


class Backends(Protocol):
    """Where the simulators are and how to sign in: the gateway's Settings has these."""

    @property
    def erp_base_url(self) -> str: ...
    @property
    def erp_api_key(self) -> str: ...
    @property
    def erp_api_secret(self) -> str: ...
    @property
    def woo_base_url(self) -> str: ...
    @property
    def woo_consumer_key(self) -> str: ...
    @property
    def woo_consumer_secret(self) -> str: ...
    @property
    def square_base_url(self) -> str: ...
    @property
    def square_access_token(self) -> str: ...
    @property
    def square_version(self) -> str: ...
    @property
    def oms_base_url(self) -> str: ...
    @property
    def oms_access_token(self) -> str: ...
    @property
    def oms_api_version(self) -> str: ...


@dataclass(frozen=True)
class WebhookSecrets:
    """What the gateway verifies each backend's deliveries with."""

    woo_webhook_secrets: tuple[str, ...]
    square_webhook_signature_keys: tuple[str, ...]
    shopify_webhook_secrets: tuple[str, ...]
    erp_webhook_secrets: tuple[str, ...]

    def settings(self) -> dict[str, list[str]]:
        """As the gateway's Settings fields (``settings.model_copy(update=...)``)."""
        return {
            "woo_webhook_secrets": list(self.woo_webhook_secrets),
            "square_webhook_signature_keys": list(self.square_webhook_signature_keys),
            "shopify_webhook_secrets": list(self.shopify_webhook_secrets),
            "erp_webhook_secrets": list(self.erp_webhook_secrets),
        }

    def environment(self) -> dict[str, str]:
        """As environment variables (JSON lists), e.g. for another process."""
        return {name.upper(): json.dumps(value) for name, value in self.settings().items()}


async def register_gateway_webhooks(
    backends: Backends,
    gateway_base_url: str,
    *,
    shopify_client_secret: str = "shpss_sandbox",
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> WebhookSecrets:
    """Register the gateway's four webhook endpoints with the four simulators.

    ``shopify_client_secret``: Shopify signs with the app's client secret, which no API
    hands out; it is the one the OMS simulator was made with. ``transports``: per backend
    ("woocommerce", "square", "oms", "erp"), an httpx transport to reach an in-process app.
    """
    base = gateway_base_url.rstrip("/")
    chosen = dict(transports or {})
    woo = await _woocommerce(backends, f"{base}/webhooks/woocommerce", chosen.get("woocommerce"))
    square = await _square(backends, f"{base}/webhooks/square", chosen.get("square"))
    await _shopify(backends, f"{base}/webhooks/shopify", chosen.get("oms"))
    erp = await _erpnext(backends, f"{base}/webhooks/erpnext", chosen.get("erp"))
    return WebhookSecrets((woo,), (square,), (shopify_client_secret,), (erp,))


async def _woocommerce(
    backends: Backends, url: str, transport: httpx.AsyncBaseTransport | None
) -> str:
    secret = secrets.token_urlsafe(24)
    auth = _WooAuth(backends.woo_consumer_key, backends.woo_consumer_secret)
    async with _client(backends.woo_base_url, transport, auth=auth) as http:
        for topic in WOO_TOPICS:
            body = {"name": f"Gateway - {topic}", "topic": topic, "delivery_url": url}
            response = await http.post("/wp-json/wc/v3/webhooks", json={**body, "secret": secret})
            _ok(response, f"WooCommerce webhook {topic}")
    return secret


async def _square(backends: Backends, url: str, transport: httpx.AsyncBaseTransport | None) -> str:
    headers = {
        "Authorization": f"Bearer {backends.square_access_token}",
        "Square-Version": backends.square_version,
    }
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "subscription": {
            "name": "Commerce gateway",
            "event_types": list(SQUARE_EVENTS),
            "notification_url": url,
            "api_version": backends.square_version,
        },
    }
    async with _client(backends.square_base_url, transport, headers=headers) as http:
        response = await http.post("/v2/webhooks/subscriptions", json=body)
        _ok(response, "Square webhook subscription")
    return str(response.json()["subscription"]["signature_key"])


_SUBSCRIBE = """mutation ($topic: WebhookSubscriptionTopic!, $hook: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $hook) {
    webhookSubscription { id } userErrors { field message } } }"""


async def _shopify(
    backends: Backends, url: str, transport: httpx.AsyncBaseTransport | None
) -> None:
    headers = {"X-Shopify-Access-Token": backends.oms_access_token}
    path = f"/admin/api/{backends.oms_api_version}/graphql.json"
    async with _client(backends.oms_base_url, transport, headers=headers) as http:
        for topic in SHOPIFY_TOPICS:
            variables = {"topic": topic, "hook": {"uri": url, "format": "JSON"}}
            response = await http.post(path, json={"query": _SUBSCRIBE, "variables": variables})
            _ok(response, f"Shopify webhook {topic}")
            answer = response.json()
            problems = answer.get("errors") or (
                (answer.get("data") or {}).get("webhookSubscriptionCreate") or {}
            ).get("userErrors")
            if problems:
                raise RuntimeError(f"Shopify webhook {topic} refused: {problems}")


async def _erpnext(backends: Backends, url: str, transport: httpx.AsyncBaseTransport | None) -> str:
    secret = secrets.token_urlsafe(24)
    headers = {"Authorization": f"token {backends.erp_api_key}:{backends.erp_api_secret}"}
    async with _client(backends.erp_base_url, transport, headers=headers) as http:
        for doctype, event in ERP_EVENTS:
            name = f"Gateway {doctype} {event}"
            webhook: dict[str, Any] = {
                "name": name,
                "webhook_doctype": doctype,
                "webhook_docevent": event,
                "request_url": url,
                "request_method": "POST",
                "request_structure": "JSON",
                "webhook_json": ERP_TEMPLATES[doctype],
                "webhook_headers": [{"key": "Content-Type", "value": "application/json"}],
                "enable_security": 1,
                "webhook_secret": secret,
            }
            response = await http.post("/api/resource/Webhook", json=webhook)
            if response.status_code == 409:  # registered before: take this secret
                response = await http.put(f"/api/resource/Webhook/{name}", json=webhook)
            _ok(response, f"ERPNext Webhook {name}")
    return secret


def _client(
    base_url: str, transport: httpx.AsyncBaseTransport | None, **kwargs: Any
) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30, **kwargs)


def _ok(response: httpx.Response, what: str) -> None:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")


class _WooAuth(httpx.Auth):
    """Basic over https; over plain http, where WooCommerce ignores Basic, OAuth 1.0a
    one-legged with HMAC-SHA256 (what the official client sends)."""

    def __init__(self, key: str, secret: str) -> None:
        self._key, self._secret = key, secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.scheme == "https":
            token = base64.b64encode(f"{self._key}:{self._secret}".encode()).decode()
            request.headers["Authorization"] = f"Basic {token}"
            yield request
            return
        params: dict[str, Any] = dict(request.url.params)
        params.update(
            oauth_consumer_key=self._key,
            oauth_timestamp=str(int(time.time())),
            oauth_nonce=secrets.token_hex(16),
            oauth_signature_method="HMAC-SHA256",
        )
        host = request.headers.get("host") or request.url.netloc.decode()
        path = request.url.raw_path.split(b"?", 1)[0].decode()
        signed = signature_base_string(request.method, f"http://{host}{path}", params)
        digest = hmac.new(f"{self._secret}&".encode(), signed.encode(), hashlib.sha256).digest()
        params["oauth_signature"] = base64.b64encode(digest).decode()
        request.url = request.url.copy_with(params=params)
        yield request
