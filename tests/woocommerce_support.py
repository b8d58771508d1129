"""Shared helpers for the WooCommerce simulator and adapter tests.

The contract files are read from ../shared/contracts/woocommerce/, which CI places beside
the clone; they double as fixtures.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
from woocommerce.oauth import OAuth

from sandbox.retailer import Dataset
from sandbox.sample_data import generate
from tests.contracts import load_contract

API = "/wp-json/wc/v3"
KEY, SECRET = "ck_sandbox", "cs_sandbox"


def contract(name: str) -> dict[str, Any]:
    return load_contract("woocommerce", name)


@cache
def dataset() -> Dataset:
    """A 300-SKU catalogue: 176 products (38 variable) and 162 variations."""
    return generate(7, 300, 4)


def client(app: Any, base_url: str = "https://woo.test", **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, **kwargs)


def signed_url(
    url: str,
    *,
    method: str = "GET",
    key: str = KEY,
    secret: str = SECRET,
    timestamp: int | None = None,
) -> str:
    """``url`` signed by the official client library's own OAuth class (HMAC-SHA256)."""
    extra = {} if timestamp is None else {"oauth_timestamp": timestamp}
    return OAuth(url, key, secret, version="wc/v3", method=method, **extra).get_oauth_url()
