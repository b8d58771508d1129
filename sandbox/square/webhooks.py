"""Square's webhook subscriptions (Webhook Subscriptions API) and the events the simulated
account sends them.

* ``inventory.count.updated``: every accepted inventory change set (batch-create, so a
  till sale too) sends one event carrying the counts it moved, as the contract's fixture
  shows them (``data.type`` "inventory_counts", quantities as strings).
* ``catalog.version.updated``: sent when the catalogue changes; the simulator's catalogue
  is the dataset's, so only the sandbox's "merchant edited the catalogue" helper changes
  it. The payload names no object, as Square's does not: ``data.id`` is "".
* Each event is one body with one ``event_id``, sent to every enabled subscription for
  its type; ``x-square-hmacsha256-signature`` is base64 HMAC-SHA256 of the subscription's
  notification URL followed by the body, keyed with its signature key.
* A non-2xx answer (or none) is retried with backoff (Square retries for up to a day; the
  sandbox's schedule is seconds, times the sender's ``retry_scale``), the same body and
  event_id each time, with ``square-retry-number``, ``square-retry-reason`` and
  ``square-initial-delivery-timestamp``. Those header names are documented by Square; their
  values, and the full set of headers, are not confirmed (the contract says as much).

Subscription timestamps use the Webhook Subscriptions API's own format ("2022-01-10 23:29:48
+0000 UTC"), as its documented examples show; ``signature_key`` is answered on create,
retrieve and update, not in lists (not confirmed).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.square.locations import MERCHANT_ID
from sandbox.square.wire import fingerprint, invalid, not_found, rfc3339
from sandbox.webhooks import Delivery, Message, Retry, Signer, WebhookSender

SIGNATURE_HEADER = "x-square-hmacsha256-signature"
# Seconds before each retry at retry_scale 1 (Square's own schedule runs over 24 hours).
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)
EVENT_TYPES = frozenset(
    {
        "inventory.count.updated",
        "catalog.version.updated",
        # Accepted so a merchant's usual subscription validates; the simulator has none of
        # these resources, so they are never sent.
        "order.created",
        "order.updated",
        "payment.created",
        "payment.updated",
        "refund.created",
        "refund.updated",
        "location.created",
        "location.updated",
    }
)


@dataclass
class Subscription:
    id: str
    name: str
    enabled: bool
    event_types: list[str]
    notification_url: str
    api_version: str
    signature_key: str
    created_at: datetime
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def body(self, *, with_key: bool = True) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "event_types": list(self.event_types),
            "notification_url": self.notification_url,
            "api_version": self.api_version,
        }
        if with_key:
            answer["signature_key"] = self.signature_key
        answer["created_at"] = _subscription_time(self.created_at)
        answer["updated_at"] = _subscription_time(self.updated_at)
        return answer


class AccountWebhooks:
    """The account's subscriptions, told of every count an inventory change moves."""

    def __init__(
        self,
        sender: WebhookSender,
        clock: Callable[[], datetime],
        *,
        environment: str = "Production",
    ) -> None:
        self.sender = sender
        self.subscriptions: dict[str, Subscription] = {}
        self._clock = clock
        self._environment = environment
        self._idempotency: dict[str, tuple[str, dict[str, Any]]] = {}

    # --- the Webhook Subscriptions API --------------------------------------------------

    def create(self, body: dict[str, Any], api_version: str) -> dict[str, Any]:
        key = body.get("idempotency_key")
        if key is not None and not isinstance(key, str):
            raise invalid("EXPECTED_STRING", "Expected a string value.", "idempotency_key")
        request = fingerprint(body)
        if key and key in self._idempotency:
            seen, answer = self._idempotency[key]
            if seen != request:
                raise invalid(
                    "IDEMPOTENCY_KEY_REUSED",
                    "The idempotency key can only be retried with the same request data.",
                    "idempotency_key",
                )
            return answer
        wanted = body.get("subscription")
        if not isinstance(wanted, dict):
            raise invalid("MISSING_REQUIRED_PARAMETER", "Field must be set", "subscription")
        url = _notification_url(wanted)
        now = self._clock()
        subscription = Subscription(
            id=f"wbhk_{uuid.uuid4().hex}",
            name=str(wanted.get("name") or ""),
            enabled=wanted.get("enabled", True) is not False,
            event_types=_event_types(wanted.get("event_types")),
            notification_url=url,
            api_version=str(wanted.get("api_version") or api_version),
            signature_key=secrets.token_urlsafe(16),
            created_at=now,
            updated_at=now,
        )
        self.subscriptions[subscription.id] = subscription
        answer = {"subscription": subscription.body()}
        if key:
            self._idempotency[key] = (request, answer)
        return answer

    def listed(self, include_disabled: bool) -> dict[str, Any]:
        found = [
            s.body(with_key=False)
            for s in self.subscriptions.values()
            if include_disabled or s.enabled
        ]
        return {"subscriptions": found} if found else {}

    def retrieve(self, subscription_id: str) -> dict[str, Any]:
        return {"subscription": self._get(subscription_id).body()}

    def update(self, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        subscription = self._get(subscription_id)
        wanted = body.get("subscription")
        if not isinstance(wanted, dict):
            raise invalid("MISSING_REQUIRED_PARAMETER", "Field must be set", "subscription")
        if "name" in wanted:
            subscription.name = str(wanted["name"] or "")
        if "enabled" in wanted:
            subscription.enabled = wanted["enabled"] is not False
        if "event_types" in wanted:
            subscription.event_types = _event_types(wanted["event_types"])
        if "notification_url" in wanted:
            subscription.notification_url = _notification_url(wanted)
        subscription.updated_at = self._clock()
        return {"subscription": subscription.body()}

    def delete(self, subscription_id: str) -> dict[str, Any]:
        self.subscriptions.pop(self._get(subscription_id).id)
        return {}

    def rotate_key(self, subscription_id: str) -> dict[str, Any]:
        subscription = self._get(subscription_id)
        subscription.signature_key = secrets.token_urlsafe(16)
        subscription.updated_at = self._clock()
        return {"signature_key": subscription.signature_key}

    def _get(self, subscription_id: str) -> Subscription:
        found = self.subscriptions.get(subscription_id)
        if found is None:
            raise not_found(f"Subscription `{subscription_id}` not found.")
        return found

    # --- the events ---------------------------------------------------------------------

    def _receivers(self, event_type: str) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if s.enabled and event_type in s.event_types]

    def counts_changed(self, counts: list[dict[str, Any]]) -> None:
        if not self._receivers("inventory.count.updated"):
            return  # the common case in benchmarks: nobody subscribed, nothing to build
        data = {
            "type": "inventory_counts",
            "id": str(uuid.uuid4()),
            "object": {"inventory_counts": [dict(c) for c in counts]},
        }
        self.publish("inventory.count.updated", data)

    def catalog_changed(self) -> None:
        updated = rfc3339(self._clock())
        data = {
            "type": "catalog_version",
            "id": "",
            "object": {"catalog_version": {"updated_at": updated}},
        }
        self.publish("catalog.version.updated", data)

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        receivers = self._receivers(event_type)
        if not receivers:
            return
        event_id = str(uuid.uuid4())
        event = {
            "merchant_id": MERCHANT_ID,
            "type": event_type,
            "event_id": event_id,
            "created_at": _event_time(self._clock()),
            "data": data,
        }
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Square Connect v2",
            "square-environment": self._environment,
        }
        message = Message(body, headers, event_id)
        for subscription in receivers:
            self.sender.enqueue(
                Delivery(
                    topic=event_type,
                    url=subscription.notification_url,
                    render=lambda: message,
                    signer=Signer(SIGNATURE_HEADER, subscription.signature_key, signs_url=True),
                    retries=RETRY_DELAYS,
                    retry_headers=_retry_headers,
                )
            )


def _retry_headers(retry: Retry) -> dict[str, str]:
    return {
        "square-retry-number": str(retry.number),
        "square-retry-reason": retry.reason,
        "square-initial-delivery-timestamp": rfc3339(retry.first_attempt_at),
    }


def _notification_url(wanted: dict[str, Any]) -> str:
    url = wanted.get("notification_url")
    if not isinstance(url, str) or not url:
        raise invalid(
            "MISSING_REQUIRED_PARAMETER", "Field must be set", "subscription.notification_url"
        )
    scheme, sep, rest = url.partition("://")
    # Square wants HTTPS; the sandbox also takes http, since its receivers run on loopback.
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        raise invalid(
            "INVALID_VALUE", "The notification URL is not valid.", "subscription.notification_url"
        )
    return url


def _event_types(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise invalid("MISSING_REQUIRED_PARAMETER", "Field must be set", "subscription.event_types")
    for index, event_type in enumerate(value):
        if event_type not in EVENT_TYPES:
            raise invalid(
                "INVALID_VALUE",
                f"`{event_type}` is not a supported event type.",
                f"subscription.event_types[{index}]",
            )
    return [str(v) for v in value]


def _subscription_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def _event_time(moment: datetime) -> str:
    """RFC 3339 in UTC to the nanosecond, as Square stamps events."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"
