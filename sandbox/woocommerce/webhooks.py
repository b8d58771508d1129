"""WooCommerce's webhooks (WC_Webhook, includes/class-wc-webhook.php): the shop's subscriptions
and what happens when a product or an order is saved.

* A change to a product (or variation) or an order queues one delivery per active webhook
  of that topic, at most one per resource and request (``is_already_processed``). The
  payload is the resource as GET /wc/v3/<resource>s/<id> returns it (``build_payload``),
  built after the request's work, so it shows the record as saved; *.deleted sends only
  ``{"id"}``. Orders in checkout-draft never trigger order.* deliveries.
* The body is PHP's json_encode (``/`` as ``\\/``); X-WC-Webhook-Signature is the base64
  HMAC-SHA256 of those bytes with the webhook's secret; X-WC-Webhook-Delivery-ID hashes the
  webhook id and the current second (``get_new_delivery_id``), so it is not an event id.
* A 2xx, 300, 301 or 302 answer is a success and zeroes ``failure_count``; anything else
  (or no answer) is a failure: the count goes up to 6, and the next failure after that sets
  the webhook ``disabled`` (``failed_delivery``: "if $failures > 5"), after which it sends
  nothing. WooCommerce does not retry a failed delivery.
* Creating an active webhook sends the ping: ``webhook_id=<id>``, form-encoded, unsigned.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sandbox.retailer import SHOP_URL
from sandbox.webhooks import Delivery, Message, Signer, WebhookSender
from sandbox.woocommerce.catalog import Catalog, Record
from sandbox.woocommerce.order_book import OrderBook
from sandbox.woocommerce.order_payloads import WC_VERSION, order_payload
from sandbox.woocommerce.orders import Order
from sandbox.woocommerce.payloads import API_PATH, product_payload
from sandbox.woocommerce.wire import wp_json

USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/6.8.3)"
SIGNATURE_HEADER = "X-WC-Webhook-Signature"
# WC_Webhook::get_default_topic_hooks, for the resources the simulator has.
TOPIC_HOOKS: dict[str, list[str]] = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": [
        "woocommerce_update_order",
        "woocommerce_order_refunded",
        "woocommerce_delete_order_refund",
    ],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "product.created": [
        "woocommerce_process_product_meta",
        "woocommerce_new_product",
        "woocommerce_new_product_variation",
    ],
    "product.updated": [
        "woocommerce_process_product_meta",
        "woocommerce_update_product",
        "woocommerce_update_product_variation",
    ],
    "product.deleted": ["wp_trash_post", "woocommerce_delete_product_variation"],
    "product.restored": ["untrashed_post"],
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
}
STATUSES = ("active", "paused", "disabled")
MAX_FAILURES = 5  # the woocommerce_max_webhook_delivery_failures default
# The shop's REST base as its own site URL names it (rest_url()), for payload _links.
SHOP_API = f"{SHOP_URL}{API_PATH}"
_SUCCESS = range(200, 303)


def valid_topic(topic: str) -> bool:
    """wc_is_webhook_valid_topic: a core topic, or a custom ``action.<hook>``."""
    return topic in TOPIC_HOOKS or (topic.startswith("action.") and len(topic) > len("action."))


@dataclass
class Webhook:
    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    created: datetime  # aware UTC
    modified: datetime
    failure_count: int = 0

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[1] if "." in self.topic else ""

    @property
    def hooks(self) -> list[str]:
        if self.topic.startswith("action."):
            return [self.topic.removeprefix("action.")]
        return list(TOPIC_HOOKS.get(self.topic, []))


class ShopWebhooks:
    """The shop's webhooks, told of every save of a product or an order."""

    def __init__(
        self,
        catalog: Catalog,
        book: OrderBook,
        sender: WebhookSender,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.catalog = catalog
        self.book = book
        self.sender = sender
        self.hooks: dict[int, Webhook] = {}
        self._clock = clock
        self._next_id = 1
        catalog.listeners.append(self._product_saved)
        book.listeners.append(self._order_saved)

    # --- the subscriptions --------------------------------------------------------------

    def create(self, args: dict[str, Any]) -> Webhook:
        """A new webhook (arguments checked by the route); an active one is pinged."""
        now = self._now()
        webhook = Webhook(
            id=self._next_id,
            name=args.get("name") or f"Webhook created on {now:%b %d, %Y @ %I:%M %p}",
            status=args.get("status") or "active",
            topic=args["topic"].lower(),
            delivery_url=args["delivery_url"],
            # WooCommerce makes one up when none is sent; nobody can read it back.
            secret=args.get("secret") or secrets.token_urlsafe(32),
            created=now,
            modified=now,
        )
        self._next_id += 1
        self.hooks[webhook.id] = webhook
        if webhook.status == "active":
            self.sender.enqueue(self._ping(webhook))
        return webhook

    def update(self, webhook: Webhook, args: dict[str, Any]) -> Webhook:
        for name in ("name", "status", "delivery_url", "secret"):
            if args.get(name):
                setattr(webhook, name, args[name])
        if args.get("topic"):
            webhook.topic = args["topic"].lower()
        webhook.modified = self._now()
        return webhook

    def delete(self, webhook: Webhook) -> None:
        self.hooks.pop(webhook.id, None)

    # --- what a save queues -------------------------------------------------------------

    def _product_saved(self, record: Record, event: str) -> None:
        self._fire("product", event, record.id)

    def _order_saved(self, order: Order, event: str) -> None:
        if order.status not in ("checkout-draft", "draft", "auto-draft"):
            self._fire("order", event, order.id)

    def _fire(self, resource: str, event: str, resource_id: int) -> None:
        topic = f"{resource}.{event}"
        for webhook in self.hooks.values():
            if webhook.status != "active" or webhook.topic != topic:
                continue
            self.sender.enqueue(
                Delivery(
                    topic=topic,
                    url=webhook.delivery_url,
                    render=partial(self._render, webhook, resource, event, resource_id),
                    signer=Signer(SIGNATURE_HEADER, webhook.secret),
                    accepts=lambda status: status in _SUCCESS,
                    on_result=partial(self._delivered, webhook),
                    key=("wc", webhook.id, resource_id),
                    timeout=60.0,  # MINUTE_IN_SECONDS
                )
            )

    def _render(self, webhook: Webhook, resource: str, event: str, resource_id: int) -> Message:
        payload = (
            {"id": resource_id} if event == "deleted" else self._payload(resource, resource_id)
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": f"{SHOP_URL}/",
            "X-WC-Webhook-Topic": webhook.topic,
            "X-WC-Webhook-Resource": webhook.resource,
            "X-WC-Webhook-Event": webhook.event,
            "X-WC-Webhook-ID": str(webhook.id),
            "X-WC-Webhook-Delivery-ID": self._delivery_id(webhook),
        }
        body = wp_json(payload).strip().encode()
        return Message(body, headers, headers["X-WC-Webhook-Delivery-ID"])

    def _payload(self, resource: str, resource_id: int) -> dict[str, Any]:
        """What an internal GET /wc/v3/<resource>s/<id> answers (its error body if gone)."""
        if resource == "product":
            record = self.catalog.get(resource_id)
            if record is not None:
                return product_payload(self.catalog, record, SHOP_API)
            return _invalid_id("woocommerce_rest_product_invalid_id")
        order = self.book.get(resource_id)
        if order is not None:
            return order_payload(order, SHOP_API)
        return _invalid_id("woocommerce_rest_shop_order_invalid_id")

    def _delivery_id(self, webhook: Webhook) -> str:
        # wp_hash($id . strtotime('now')): the same for two deliveries in one second.
        second = int(self._clock().timestamp())
        return hashlib.md5(f"wp-salt|{webhook.id}{second}".encode()).hexdigest()

    def _delivered(self, webhook: Webhook, ok: bool) -> None:
        if ok:
            webhook.failure_count = 0
        elif webhook.failure_count > MAX_FAILURES:
            webhook.status = "disabled"
        else:
            webhook.failure_count += 1

    def _ping(self, webhook: Webhook) -> Delivery:
        message = Message(
            f"webhook_id={webhook.id}".encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
        )
        return Delivery(
            topic="ping",
            url=webhook.delivery_url,
            render=lambda: message,
            # deliver_ping wants exactly 200; a failed ping is reported, never counted.
            accepts=lambda status: status == 200,
        )

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)


def _invalid_id(code: str) -> dict[str, Any]:
    return {"code": code, "message": "Invalid ID.", "data": {"status": 404}}
