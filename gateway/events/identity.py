"""What makes two webhook deliveries the same event (pure).

    backend      identity                                    why
    Shopify      X-Shopify-Event-Id                          one id per event, kept across retries
    Square       the body's event_id                         idem
    WooCommerce  topic, resource id, its date_modified_gmt   X-WC-Webhook-Delivery-ID hashes the
                                                             webhook id and the current second,
                                                             not the event
    ERPNext      doctype, name, modified                     Frappe sends no event id

A delivery without those fields (an ERPNext Webhook whose template leaves ``modified``
out) is known by a hash of its body: the same body twice is one event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from gateway.domain import SourceSystem


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def topic_of(system: SourceSystem, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
    match system:
        case SourceSystem.STOREFRONT:
            return _header(headers, "x-wc-webhook-topic") or ""
        case SourceSystem.OMS:
            return _header(headers, "x-shopify-topic") or ""
        case SourceSystem.POS:
            return str(payload.get("type") or "")
        case _:
            return str(payload.get("doctype") or "")


def event_key(
    system: SourceSystem, headers: Mapping[str, str], payload: Mapping[str, Any], body: bytes
) -> str:
    found: str | None = None
    match system:
        case SourceSystem.OMS:
            found = _header(headers, "x-shopify-event-id")
        case SourceSystem.POS:
            found = str(payload["event_id"]) if payload.get("event_id") else None
        case SourceSystem.STOREFRONT:
            resource = payload.get("id")
            modified = payload.get("date_modified_gmt") or payload.get("date_modified")
            if resource is not None and modified:
                found = f"{topic_of(system, headers, payload)}:{resource}:{modified}"
        case _:
            if payload.get("name") and payload.get("modified"):
                found = f"{payload.get('doctype')}:{payload['name']}:{payload['modified']}"
    return found or f"sha256:{hashlib.sha256(body).hexdigest()}"
