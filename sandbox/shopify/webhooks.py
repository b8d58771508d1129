"""The store's webhook subscriptions (webhookSubscriptionCreate / Update / Delete, the
webhookSubscription(s) queries) and the deliveries its mutations cause.

    mutation                     topics sent
    orderCreate                  orders/create
    orderCancel                  orders/cancelled, orders/updated, fulfillment_orders/cancelled
                                 (each fulfillment order it cancels)
    fulfillmentCreate            fulfillments/create, orders/fulfilled or
                                 orders/partially_fulfilled, orders/updated
    fulfillmentOrderHold         fulfillment_orders/placed_on_hold, orders/updated
    fulfillmentOrderReleaseHold  fulfillment_orders/hold_released, orders/updated
    fulfillmentOrderMove         fulfillment_orders/moved, orders/updated
    fulfillmentOrderCancel       fulfillment_orders/cancelled, orders/updated
    returnRequest / returnCreate returns/request / returns/approve, orders/updated
    returnApprove/Decline/Close  returns/approve / returns/decline / returns/close,
                                 orders/updated
    orderEditCommit              orders/edited, orders/updated
    (sandbox) picking starts     orders/updated

Which changes Shopify reports as orders/updated is the simulator's reading (any change to
the order or its fulfilment or returns); the fulfillment_orders/* and returns/* payloads are
not confirmed (sandbox.shopify.webhook_payloads). A delivery carries X-Shopify-Topic,
-Hmac-Sha256 (base64 HMAC-SHA256 of the body with the app's client secret), -Shop-Domain,
-API-Version (the subscription's), -Webhook-Id (per subscription and event, kept on
retries), -Event-Id (per event: the same for every subscription and retry) and
-Triggered-At (UTC, microseconds). A non-2xx answer is retried (Shopify: 8 times over 4
hours; the sandbox's schedule is seconds, times the sender's ``retry_scale``).
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from sandbox.shopify import webhook_payloads as payloads
from sandbox.shopify.catalog import gid
from sandbox.shopify.store import FulfillmentOrder, Order, Shop
from sandbox.shopify.wire import user_error
from sandbox.webhooks import Delivery, Message, Signer, WebhookSender

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
After = Callable[["StoreWebhooks", dict[str, Any], dict[str, Any], dict[str, str]], None]
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
# WebhookSubscriptionTopic -> the X-Shopify-Topic it is delivered under (those the
# simulator can send, then others a merchant may subscribe to and never hears from here).
TOPICS = {
    "ORDERS_CREATE": "orders/create",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "ORDERS_FULFILLED": "orders/fulfilled",
    "ORDERS_PARTIALLY_FULFILLED": "orders/partially_fulfilled",
    "ORDERS_EDITED": "orders/edited",
    "FULFILLMENTS_CREATE": "fulfillments/create",
    "FULFILLMENT_ORDERS_PLACED_ON_HOLD": "fulfillment_orders/placed_on_hold",
    "FULFILLMENT_ORDERS_HOLD_RELEASED": "fulfillment_orders/hold_released",
    "FULFILLMENT_ORDERS_MOVED": "fulfillment_orders/moved",
    "FULFILLMENT_ORDERS_CANCELLED": "fulfillment_orders/cancelled",
    "RETURNS_REQUEST": "returns/request",
    "RETURNS_APPROVE": "returns/approve",
    "RETURNS_DECLINE": "returns/decline",
    "RETURNS_CLOSE": "returns/close",
    "ORDERS_PAID": "orders/paid",
    "ORDERS_DELETE": "orders/delete",
    "FULFILLMENTS_UPDATE": "fulfillments/update",
    "FULFILLMENT_ORDERS_SPLIT": "fulfillment_orders/split",
    "FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE": "fulfillment_orders/order_routing_complete",
    "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_ACCEPTED": (
        "fulfillment_orders/fulfillment_request_accepted"
    ),
    "RETURNS_CANCEL": "returns/cancel",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "PRODUCTS_UPDATE": "products/update",
    "APP_UNINSTALLED": "app/uninstalled",
}
Args = dict[str, Any]
Payload = dict[str, Any]
Before = dict[str, str]


@dataclass(eq=False)
class Subscription:
    id: str
    topic: str  # the enum value, e.g. ORDERS_CREATE
    uri: str
    version: str
    created_at: str
    updated_at: str
    format: str = "JSON"
    include_fields: list[str] = field(default_factory=list)
    metafield_namespaces: list[str] = field(default_factory=list)
    filter: str | None = None
    name: str | None = None

    @property
    def callback_url(self) -> str:  # deprecated twin of uri
        return self.uri

    @property
    def legacy_resource_id(self) -> str:  # UnsignedInt64 travels as a string
        return self.id.rsplit("/", 1)[-1]

    @property
    def api_version(self) -> dict[str, Any]:
        return {"handle": self.version, "displayName": self.version, "supported": True}


class StoreWebhooks:
    def __init__(
        self, shop: Shop, sender: WebhookSender, *, client_secret: str, shop_domain: str
    ) -> None:
        self.shop = shop
        self.sender = sender
        self.client_secret = client_secret
        self.shop_domain = shop_domain
        self.subscriptions: dict[str, Subscription] = {}
        self._ids = itertools.count(1_480_000_001)
        self._changed_at: dict[str, str] = {}  # order gid -> when it last changed

    # --- the GraphQL fields -------------------------------------------------------------

    def create(self, topic: str, data: dict[str, Any], version: str) -> dict[str, Any]:
        uri, errors = self._uri(data)
        taken = any(s.topic == topic and s.uri == uri for s in self.subscriptions.values())
        if not errors and taken:
            errors = [_error("Address for this topic has already been taken")]
        if not errors and data.get("format", "JSON") != "JSON":
            errors = [user_error(["webhookSubscription", "format"], "The sandbox sends JSON only.")]
        if errors:
            return {"webhookSubscription": None, "userErrors": errors}
        now = self.shop.now()
        subscription = Subscription(
            id=gid("WebhookSubscription", next(self._ids)),
            topic=topic,
            uri=uri,
            version=version,
            created_at=now,
            updated_at=now,
            include_fields=list(data.get("includeFields") or []),
            metafield_namespaces=list(data.get("metafieldNamespaces") or []),
            filter=data.get("filter"),
        )
        self.subscriptions[subscription.id] = subscription
        return {"webhookSubscription": subscription, "userErrors": []}

    def update(self, subscription_id: str, data: dict[str, Any]) -> dict[str, Any]:
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            missing = user_error(["id"], "Webhook subscription does not exist")
            return {"webhookSubscription": None, "userErrors": [missing]}
        if data.get("uri") or data.get("callbackUrl"):
            uri, errors = self._uri(data)
            if errors:
                return {"webhookSubscription": None, "userErrors": errors}
            subscription.uri = uri
        if "includeFields" in data:
            subscription.include_fields = list(data["includeFields"] or [])
        if "filter" in data:
            subscription.filter = data["filter"]
        subscription.updated_at = self.shop.now()
        return {"webhookSubscription": subscription, "userErrors": []}

    def delete(self, subscription_id: str) -> dict[str, Any]:
        if self.subscriptions.pop(subscription_id, None) is None:
            missing = user_error(["id"], "Webhook subscription does not exist")
            return {"deletedWebhookSubscriptionId": None, "userErrors": [missing]}
        return {"deletedWebhookSubscriptionId": subscription_id, "userErrors": []}

    def listed(
        self,
        topics: list[str] | None = None,
        uri: str | None = None,
        callbackUrl: str | None = None,  # the GraphQL arguments' own names
        format: str | None = None,
    ) -> list[Subscription]:
        wanted_uri = uri or callbackUrl
        return [
            s
            for s in self.subscriptions.values()
            if (not topics or s.topic in topics)
            and (wanted_uri is None or s.uri == wanted_uri)
            and (format is None or s.format == format)
        ]

    def _uri(self, data: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        uri = data.get("uri") or data.get("callbackUrl")
        if not uri:
            return "", [_error("Address can't be blank")]
        scheme, sep, rest = str(uri).partition("://")
        # Shopify wants HTTPS; the sandbox also takes http, since its receivers run locally.
        if not sep or scheme.lower() not in ("http", "https") or not rest:
            return "", [_error("Address is invalid")]
        return str(uri), []

    # --- what a mutation causes ---------------------------------------------------------

    def before(self, name: str, args: dict[str, Any]) -> dict[str, str]:
        """What a mutation's events need to know of the state before it: the statuses of
        the fulfillment orders an orderCancel is about to cancel."""
        order = self.shop.orders.get(str(args.get("orderId"))) if name == "orderCancel" else None
        return {fo.id: fo.status for fo in order.fulfillment_orders} if order else {}

    def mutated(self, name: str, args: dict[str, Any], result: Any, before: dict[str, str]) -> None:
        """Called after each mutation with its arguments, payload and ``before``."""
        if not isinstance(result, dict) or result.get("userErrors"):
            return
        handler = _AFTER.get(name)
        if handler is not None:
            handler(self, args, result, before)

    def fulfillment_order_changed(self, fo: FulfillmentOrder) -> None:
        """The sandbox's own change (a warehouse starts picking)."""
        self._order_updated(fo.order)

    def _order_created(self, args: Args, result: Payload, before: Before) -> None:
        self._publish("orders/create", result["order"], lambda: self._order(result["order"]))

    def _order_cancelled(self, args: Args, result: Payload, before: Before) -> None:
        order = self.shop.orders[str(args["orderId"])]
        for fo in order.fulfillment_orders:
            if fo.status == "CANCELLED" and before.get(fo.id) != "CANCELLED":
                self._publish("fulfillment_orders/cancelled", order, _fixed(_fo_body(fo)))
        self._publish("orders/cancelled", order, lambda: self._order(order))
        self._order_updated(order)

    def _fulfilled(self, args: Args, result: Payload, before: Before) -> None:
        fulfillment = result["fulfillment"]
        order = fulfillment.order
        body = payloads.fulfillment_body(fulfillment)
        self._publish("fulfillments/create", order, lambda: body)
        done = all(line.fulfilled >= line.current_quantity for line in order.line_items)
        topic = "orders/fulfilled" if done else "orders/partially_fulfilled"
        self._publish(topic, order, lambda: self._order(order))
        self._order_updated(order)

    def _held(self, args: Args, result: Payload, before: Before) -> None:
        fo: FulfillmentOrder = result["fulfillmentOrder"]
        body = {
            "fulfillment_order": payloads.fulfillment_order_ref(fo),
            "remaining_fulfillment_order": payloads.fulfillment_order_ref(
                result.get("remainingFulfillmentOrder")
            ),
            "held_fulfillment_order_line_items": payloads.line_refs(fo.lines),
            "created_fulfillment_hold": payloads.hold_ref(result.get("fulfillmentHold")),
        }
        self._publish("fulfillment_orders/placed_on_hold", fo.order, lambda: body)
        self._order_updated(fo.order)

    def _released(self, args: Args, result: Payload, before: Before) -> None:
        fo: FulfillmentOrder = result["fulfillmentOrder"]
        body = {"fulfillment_order": payloads.fulfillment_order_ref(fo)}
        self._publish("fulfillment_orders/hold_released", fo.order, lambda: body)
        self._order_updated(fo.order)

    def _moved(self, args: Args, result: Payload, before: Before) -> None:
        original: FulfillmentOrder = result["originalFulfillmentOrder"]
        moved: FulfillmentOrder = result["movedFulfillmentOrder"]
        requested = args.get("fulfillmentOrderLineItems")
        body = {
            "original_fulfillment_order": payloads.fulfillment_order_ref(original),
            "moved_fulfillment_order": payloads.fulfillment_order_ref(moved),
            "destination_location_id": moved.location.id,
            "fulfillment_order_line_items_requested": (
                [{"id": x.get("id"), "quantity": x.get("quantity")} for x in requested]
                if requested
                else None
            ),
            "source_location": {"id": original.location.id if original is not moved else None},
        }
        self._publish("fulfillment_orders/moved", original.order, lambda: body)
        self._order_updated(original.order)

    def _fo_cancelled(self, args: Args, result: Payload, before: Before) -> None:
        fo: FulfillmentOrder = result["fulfillmentOrder"]
        body = {
            "fulfillment_order": payloads.fulfillment_order_ref(fo),
            "replacement_fulfillment_order": payloads.fulfillment_order_ref(
                result.get("replacementFulfillmentOrder")
            ),
        }
        self._publish("fulfillment_orders/cancelled", fo.order, lambda: body)
        self._order_updated(fo.order)

    def _edited(self, args: Args, result: Payload, before: Before) -> None:
        order: Order = result["order"]
        edit = order.events[-1].edit
        assert edit is not None  # the commit's own timeline entry
        body = payloads.order_edit_body(edit)
        self._publish("orders/edited", order, lambda: body)
        self._order_updated(order)

    # --- publishing ---------------------------------------------------------------------

    def _order_updated(self, order: Order) -> None:
        self._publish("orders/updated", order, lambda: self._order(order), merge=True)

    def _order(self, order: Order) -> dict[str, Any]:
        return payloads.order_body(order, self._changed_at.get(order.id, order.created_at))

    def _publish(
        self,
        topic: str,
        order: Order,
        body: Callable[[], dict[str, Any]],
        *,
        merge: bool = False,
    ) -> None:
        """One event of ``topic`` about ``order``: a delivery per subscription. ``merge``:
        several of them in one request are one (an order updated twice is updated once)."""
        self._changed_at[order.id] = self.shop.now()
        receivers = [s for s in self.subscriptions.values() if TOPICS.get(s.topic) == topic]
        if not receivers:
            return
        event_id = str(uuid.uuid4())
        triggered = self.shop.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for subscription in receivers:
            render = _renderer(self, subscription, topic, body, event_id, triggered)
            self.sender.enqueue(
                Delivery(
                    topic=topic,
                    url=subscription.uri,
                    render=render,
                    signer=Signer(SIGNATURE_HEADER, self.client_secret),
                    retries=RETRY_DELAYS,
                    key=("shopify", subscription.id, topic, order.id) if merge else None,
                )
            )


def _renderer(
    hooks: StoreWebhooks,
    subscription: Subscription,
    topic: str,
    body: Callable[[], dict[str, Any]],
    event_id: str,
    triggered: str,
) -> Callable[[], Message]:
    webhook_id = str(uuid.uuid4())

    def render() -> Message:
        payload = body()
        if subscription.include_fields:
            payload = {k: v for k, v in payload.items() if k in subscription.include_fields}
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": hooks.shop_domain,
            "X-Shopify-API-Version": subscription.version,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": triggered,
        }
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return Message(data, headers, event_id)

    return render


def _fo_body(fo: FulfillmentOrder) -> dict[str, Any]:
    return {"fulfillment_order": payloads.fulfillment_order_ref(fo)}


def _fixed(body: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: body


def _returned(topic: str) -> After:
    def after(hooks: StoreWebhooks, args: Args, result: Payload, before: Before) -> None:
        ret = result["return"]
        body = payloads.return_body(ret)
        hooks._publish(topic, ret.order, lambda: body)
        hooks._order_updated(ret.order)

    return after


def _error(message: str) -> dict[str, Any]:
    return user_error(["webhookSubscription", "callbackUrl"], message)


_AFTER: dict[str, After] = {
    "orderCreate": StoreWebhooks._order_created,
    "orderCancel": StoreWebhooks._order_cancelled,
    "fulfillmentCreate": StoreWebhooks._fulfilled,
    "fulfillmentOrderHold": StoreWebhooks._held,
    "fulfillmentOrderReleaseHold": StoreWebhooks._released,
    "fulfillmentOrderMove": StoreWebhooks._moved,
    "fulfillmentOrderCancel": StoreWebhooks._fo_cancelled,
    "orderEditCommit": StoreWebhooks._edited,
    "returnRequest": _returned("returns/request"),
    # A return the merchant creates is open at once (not confirmed which topic Shopify sends).
    "returnCreate": _returned("returns/approve"),
    "returnApproveRequest": _returned("returns/approve"),
    "returnDeclineRequest": _returned("returns/decline"),
    "returnClose": _returned("returns/close"),
}
