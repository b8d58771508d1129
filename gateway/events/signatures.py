"""Is a webhook really from its backend? Each product signs a delivery with an HMAC-SHA256
of what it sends, base64-encoded, in its own header (pure):

    backend      header                         signed
    WooCommerce  X-WC-Webhook-Signature         the raw body
    Square       x-square-hmacsha256-signature  the notification URL, then the raw body
    Shopify      X-Shopify-Hmac-Sha256          the raw body
    ERPNext      X-Frappe-Webhook-Signature     the raw body

Several secrets may be accepted at once (the new and the old one while a secret is
rotated); each is compared in constant time. The body is the bytes as received: a body
parsed and re-serialised would not verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from enum import StrEnum

from gateway.domain import SourceSystem

SIGNATURE_HEADER: dict[SourceSystem, str] = {
    SourceSystem.STOREFRONT: "x-wc-webhook-signature",
    SourceSystem.POS: "x-square-hmacsha256-signature",
    SourceSystem.OMS: "x-shopify-hmac-sha256",
    SourceSystem.ERP: "x-frappe-webhook-signature",
}


class Signature(StrEnum):
    VALID = "VALID"
    MISSING = "MISSING"  # no signature header (or no secret configured to check it with)
    INVALID = "INVALID"


def signature_of(system: SourceSystem, secret: str, body: bytes, notification_url: str) -> str:
    """What ``system`` puts in its signature header for ``body``."""
    signed = notification_url.encode() + body if system is SourceSystem.POS else body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(
    system: SourceSystem,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    notification_url: str = "",
) -> Signature:
    """``headers`` as received (any case); ``notification_url`` is the URL the backend was
    told to call (Square signs it)."""
    given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER[system]), None)
    if not given or not secrets:
        return Signature.MISSING
    for secret in secrets:
        expected = signature_of(system, secret, body, notification_url)
        if hmac.compare_digest(expected.encode(), given.strip().encode()):
            return Signature.VALID
    return Signature.INVALID
