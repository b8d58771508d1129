"""WooCommerce (REST ``wc/v3``) as the gateway's StorefrontPort.

Listings are read with ``GET products?sku=A,B,...&per_page=100``: one request per 100 SKUs,
following ``Link: rel="next"`` to the end. WooCommerce's sku filter also searches variations,
so a variation's SKU comes back as the variation itself (``type: variation``, ``parent_id``).
Stock is written with an absolute ``stock_quantity``, so a retried PUT cannot double-count.

Authentication is what WooCommerce accepts per scheme: HTTP Basic over https, and over plain
http (where WooCommerce ignores Basic) OAuth 1.0a one-legged, signed as the server rebuilds
the signature (WC_REST_Authentication::check_oauth_signature).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from adapters.http import RETRYABLE_STATUSES, build_client, default_error, json_body, send
from gateway.config import Settings
from gateway.domain import Money, WebListing
from gateway.errors import (
    BackendAuthError,
    BackendError,
    BackendRejected,
    BackendUnavailable,
    NotFound,
)

BACKEND = "woocommerce"
API_PATH = "/wp-json/wc/v3/"
SKUS_PER_REQUEST = 100  # the largest per_page WooCommerce accepts
_HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_TAGS = re.compile(r"<[^>]+>")


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
        settings, base_url, headers={"Accept": "application/json"}, auth=auth, transport=transport
    )


class WooCommerceAdapter:
    """StorefrontPort over a client from build_woocommerce_client (base URL ends in wc/v3/)."""

    def __init__(
        self, client: httpx.AsyncClient, *, max_retries: int = 2, currency: str = "EUR"
    ) -> None:
        self._client = client
        self._max_retries = max_retries
        self._currency = currency

    async def listings_by_sku(self, skus: Sequence[str]) -> dict[str, WebListing]:
        # WooCommerce splits the filter on commas, so a SKU containing one cannot be asked for.
        wanted = list(dict.fromkeys(s for s in skus if s and "," not in s))
        chunks = [wanted[i : i + SKUS_PER_REQUEST] for i in range(0, len(wanted), SKUS_PER_REQUEST)]
        pages = await asyncio.gather(*(self._products_with_skus(chunk) for chunk in chunks))
        by_folded = {sku.casefold(): sku for sku in wanted}
        listings: dict[str, WebListing] = {}
        for item in (item for page in pages for item in page):
            # The filter compares case-insensitively; answer under the SKU the caller used.
            requested = by_folded.get(str(item.get("sku", "")).casefold())
            if requested is not None:
                listings[requested] = to_listing(item, self._currency)
        return listings

    async def set_stock(self, sku: str, quantity: int) -> WebListing:
        current = (await self.listings_by_sku([sku])).get(sku)
        if current is None:
            raise NotFound(f"The storefront has no product or variation with SKU {sku}", sku=sku)
        if current.variation_id is None:
            path = f"products/{current.product_id}"
        else:
            path = f"products/{current.product_id}/variations/{current.variation_id}"
        body = {"manage_stock": True, "stock_quantity": quantity}
        response = await self._send(lambda: self._client.put(path, json=body))
        # The variations endpoint answers without name and parent_id: carry them over.
        return to_listing(
            _decode(response, dict),
            self._currency,
            parent_id=current.product_id if current.variation_id is not None else None,
            name=current.name,
        )

    async def _products_with_skus(self, skus: list[str]) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        url: httpx.URL | str | None = "products"
        params: dict[str, str | int] | None = {"sku": ",".join(skus), "per_page": SKUS_PER_REQUEST}
        while url is not None:
            response = await self._send(
                lambda url=url, params=params: self._client.get(url, params=params)
            )
            items.extend(i for i in _decode(response, list) if isinstance(i, dict))
            url, params = self._next_page(response), None
        return items

    def _next_page(self, response: httpx.Response) -> httpx.URL | None:
        href = response.links.get("next", {}).get("url")
        if not href:
            return None
        link = httpx.URL(href)
        base = self._client.base_url
        if (link.scheme, link.netloc) == (base.scheme, base.netloc):
            return link
        # WordPress writes its own site URL into Link; stay on the host we were configured
        # with (where our credentials belong), keeping the path and query WordPress chose.
        return base.copy_with(raw_path=link.raw_path)

    async def _send(self, call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        return await send(BACKEND, call, woocommerce_error, max_retries=self._max_retries)


def woocommerce_error(response: httpx.Response) -> BackendError:
    """A WordPress error body ``{code, message, data: {status}}`` as the project's error."""
    body = json_body(response)
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return default_error(BACKEND, response)
    status = response.status_code
    code = body["code"]
    message = _TAGS.sub("", str(body.get("message") or "")).strip() or f"HTTP {status}"
    text = f"WooCommerce {code}: {message}"
    if status in (401, 403):
        return BackendAuthError(text, backend=BACKEND, status=status, backend_code=code)
    if status in RETRYABLE_STATUSES or status >= 500:
        return BackendUnavailable(text, backend=BACKEND, status=status, backend_code=code)
    return BackendRejected(text, backend=BACKEND, status=status, backend_code=code)


def to_listing(
    item: Mapping[str, Any],
    currency: str,
    *,
    parent_id: int | None = None,
    name: str | None = None,
) -> WebListing:
    """A product or variation payload as a WebListing; keys not read here are ignored.

    ``parent_id`` marks a payload from the variations endpoint, which does not carry it.
    """
    is_variation = parent_id is not None or item.get("type") == "variation"
    own_id = int(item["id"])
    product_id = parent_id or int(item.get("parent_id") or 0)
    return WebListing(
        sku=str(item.get("sku") or ""),
        product_id=product_id if is_variation else own_id,
        variation_id=own_id if is_variation else None,
        name=str(item.get("name") or name or ""),
        price=_money(item.get("price"), currency),
        status=str(item.get("status") or ""),
        permalink=item.get("permalink") or None,
        # 'parent' means the variation's stock is kept on its parent product.
        manage_stock=item.get("manage_stock") is True or item.get("manage_stock") == "parent",
        stock_quantity=_int(item.get("stock_quantity")),
        stock_status=str(item.get("stock_status") or ""),
        backorders=str(item.get("backorders") or "no"),
        low_stock_amount=_int(item.get("low_stock_amount")),
        modified=_utc(item.get("date_modified_gmt")),
    )


def _decode(response: httpx.Response, expected: type) -> Any:
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        body = None
    if not isinstance(body, expected):
        # A site without pretty permalinks answers /wp-json/ with its HTML home page and 200.
        raise BackendError(
            f"WooCommerce answered HTTP {response.status_code} without the expected JSON",
            backend=BACKEND,
            status=response.status_code,
        )
    return body


def _money(value: Any, currency: str) -> Money | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Money(Decimal(str(value)), currency)
    except InvalidOperation:
        return None


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(Decimal(str(value)))
    except InvalidOperation:
        return None


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # The _gmt fields are UTC without an offset.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
