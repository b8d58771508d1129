"""No secrets and no customer data in logs or span attributes (pure).

Two nets, since a value can arrive either way:

* by key: a log line's field named like a credential (``authorization``, ``api_key``,
  ``password``, any ``*token*`` / ``*secret*``) or like a customer's data (``email``,
  ``phone``, ``address``, ``customer_name``, ``billing``...) is replaced whole, however it
  is nested;
* by shape, inside any text (messages, exception messages, URLs): ``Bearer ...``, ERPNext's
  ``token key:secret``, this gateway's ``cgk_`` API keys, JWTs, WooCommerce/Shopify/Square
  key prefixes, credentials in a URL (``user:pass@``, ``?consumer_key=``, ``oauth_*``) and
  e-mail addresses.

Names and phone numbers inside free text have no shape to find them by: the gateway's own
log calls never put them there (tests/e2e/test_logs.py holds it to that).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

MASK = "[REDACTED]"

# Compared with the key lower-cased, "-" as "_".
_SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "api_key",
        "apikey",
        "x_api_key",
        "password",
        "passwd",
        "consumer_key",
        "consumer_secret",
        "client_secret",
        "signature",
        "oauth_signature",
        "credentials",
        "dsn",
    }
)
_SECRET_PARTS = ("token", "secret", "password")
_PERSONAL_KEYS = frozenset(
    {
        "email",
        "e_mail",
        "customer_email",
        "phone",
        "phone_number",
        "telephone",
        "mobile",
        "address",
        "address_1",
        "address_2",
        "line1",
        "line2",
        "street",
        "postal_code",
        "postcode",
        "customer",
        "customer_name",
        "first_name",
        "last_name",
        "full_name",
        "billing",
        "shipping",
        "recipient",
    }
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Credentials in a URL's userinfo: scheme://user:password@host
    (re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@"), MASK + "@"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]+"), "Bearer " + MASK),
    # ERPNext's "token key:secret" and Basic credentials, as the headers spell them.
    (re.compile(r"\btoken\s+[A-Za-z0-9._\-]+:[A-Za-z0-9._\-]+"), "token " + MASK),
    (re.compile(r"\bBasic\s+[A-Za-z0-9+/]{8,}={0,2}"), "Basic " + MASK),
    (re.compile(r"\bcgk_[A-Za-z0-9_\-]+"), "cgk_" + MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), MASK),
    # WooCommerce REST keys, Shopify and Square tokens.
    (re.compile(r"\b(ck|cs|shpat|shpss|shpca|shppa)_[A-Za-z0-9]{6,}"), r"\1_" + MASK),
    (re.compile(r"\bsq0[a-z]{3}-[A-Za-z0-9_\-]{10,}"), MASK),
    # Credentials in a query string (WooCommerce's OAuth 1.0a over http, ?api_key=...).
    (
        re.compile(
            r"(?i)([?&;](?:oauth_[a-z_]+|consumer_key|consumer_secret|api_key|apikey|"
            r"access_token|token|secret|password|signature|sig|key)=)[^&;#\s\"']*"
        ),
        r"\1" + MASK,
    ),
    (
        re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
        "[email]",
    ),
]
# A cheap test before the patterns: text with none of these characters has nothing to find.
_SUSPECT = re.compile(r"[@=]|bearer|token|basic|cgk_|eyJ|ck_|cs_|shp|sq0", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)  # a process logs the same few keys over and over
def is_sensitive_key(key: str) -> bool:
    normal = key.lower().replace("-", "_")
    return (
        normal in _SECRET_KEYS
        or normal in _PERSONAL_KEYS
        or any(part in normal for part in _SECRET_PARTS)
    )


def scrub_text(text: str) -> str:
    """``text`` with every credential and e-mail address in it masked."""
    if not _SUSPECT.search(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, _depth: int = 0) -> Any:
    """``value`` with sensitive keys masked and texts scrubbed, nested mappings and lists
    included (a copy where anything changed; the original is left alone)."""
    if isinstance(value, str):
        return scrub_text(value)
    if _depth > 8:  # a cycle or a pathological nesting: say so instead of recursing on
        return MASK
    if isinstance(value, Mapping):
        return {
            key: MASK
            if isinstance(key, str) and is_sensitive_key(key) and item is not None
            else redact(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, _depth + 1) for item in value]
    return value


def redact_url(url: str) -> str:
    """A URL fit for a log line or a span attribute."""
    return scrub_text(url)
