"""How the four products sign a delivery: base64 of an HMAC-SHA256, in a header of their own.

    product      header                         signed
    WooCommerce  X-WC-Webhook-Signature         the raw body
    Square       x-square-hmacsha256-signature  the notification URL, then the raw body
    Shopify      X-Shopify-Hmac-Sha256          the raw body
    ERPNext      X-Frappe-Webhook-Signature     the raw body

Computed here rather than imported from the gateway: the simulators stand for the products,
and the gateway's verifier must be checked against them, not against itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


def hmac_base64(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class Signer:
    header: str
    secret: str
    signs_url: bool = False  # Square: the URL it was told to call, then the body

    def sign(self, url: str, body: bytes, *, forged: bool = False) -> str:
        # A forged delivery is signed with a secret nobody was given.
        secret = f"forged-{self.secret}" if forged else self.secret
        return hmac_base64(secret, (url.encode() if self.signs_url else b"") + body)
