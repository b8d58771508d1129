"""How the storefront client authenticates: what WooCommerce accepts per scheme.

HTTP Basic over https, and over plain http (where WooCommerce ignores Basic) OAuth 1.0a
one-legged, signed as the server rebuilds the signature
(WC_REST_Authentication::check_oauth_signature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator, Iterable
from urllib.parse import quote

import httpx

from adapters.http import build_client
from adapters.woocommerce.connection import BACKEND
from gateway.config import Settings

API_PATH = "/wp-json/wc/v3/"
_HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}


class WooCommerceOAuth1(httpx.Auth):
    """OAuth 1.0a one-legged, the way WooCommerce verifies it over plain http.

    The ``oauth_*`` parameters travel in the query string; the signature covers the method,
    ``scheme://Host/path`` and every query parameter (each key once), each key and value
    rawurlencoded and then each ``key=value`` pair encoded again; the key is
    ``secret + "&"``. Any ``oauth_*`` already in the URL (a followed ``Link`` carries the
    previous request's) is replaced. Parameters with ``[brackets]`` are not supported.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        signature_method: str = "HMAC-SHA256",
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(20),
    ) -> None:
        if signature_method not in _HASHES:
            raise ValueError(f"unsupported signature method {signature_method!r}")
        self._key, self._secret = consumer_key, consumer_secret
        self._method, self._clock, self._nonce = signature_method, clock, nonce

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        params = [(k, v) for k, v in request.url.params.multi_items() if not k.startswith("oauth_")]
        oauth = [
            ("oauth_consumer_key", self._key),
            ("oauth_timestamp", str(int(self._clock()))),
            ("oauth_nonce", self._nonce()),
            ("oauth_signature_method", self._method),
        ]
        host = request.headers.get("host") or request.url.netloc.decode("ascii")
        path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        base_string = oauth_base_string(
            request.method, f"{request.url.scheme}://{host}{path}", [*params, *oauth]
        )
        digest = hmac.new(
            f"{self._secret}&".encode(), base_string.encode(), _HASHES[self._method]
        ).digest()
        signature = base64.b64encode(digest).decode("ascii")
        request.url = request.url.copy_with(
            params=[*params, *oauth, ("oauth_signature", signature)]
        )
        yield request


def oauth_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """WooCommerce's signature base string; a repeated key counts once, with its last value."""
    unique = dict(params)
    pairs = (
        _rawurlencode(f"{_rawurlencode(key)}={_rawurlencode(unique[key])}")
        for key in sorted(unique, key=lambda k: k.encode())
    )
    return f"{method.upper()}&{_rawurlencode(url)}&{'%26'.join(pairs)}"


def _rawurlencode(value: str) -> str:
    return quote(value, safe="")


def build_woocommerce_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The storefront's client: Basic auth over https, OAuth 1.0a over http."""
    base_url = settings.woo_base_url.rstrip("/") + API_PATH
    auth: httpx.Auth
    if base_url.startswith("https://"):
        auth = httpx.BasicAuth(settings.woo_consumer_key, settings.woo_consumer_secret)
    else:
        auth = WooCommerceOAuth1(settings.woo_consumer_key, settings.woo_consumer_secret)
    return build_client(
        settings,
        base_url,
        backend=BACKEND,
        headers={"Accept": "application/json"},
        auth=auth,
        transport=transport,
    )
