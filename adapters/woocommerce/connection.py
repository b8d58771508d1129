"""One WooCommerce connection shared by the listings and orders halves of the adapter:
the retry policy, the error mapping, JSON decoding and following ``Link: rel="next"``.

Bodies are decoded with ``parse_float=Decimal``: a line's ``price`` is a JSON number, and
money must not pass through a float on its way in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

import httpx

from adapters.http import RETRYABLE_STATUSES, ErrorParser, default_error, json_body, send
from adapters.resilience.policy import BackendPolicy
from gateway.domain import Money
from gateway.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable

BACKEND = "woocommerce"
PER_PAGE = 100  # the largest per_page WooCommerce accepts
_TAGS = re.compile(r"<[^>]+>")
Call = Callable[[], Awaitable[httpx.Response]]


class WooCommerceConnection:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_retries: int = 2,
        currency: str = "EUR",
        policy: BackendPolicy | None = None,
    ) -> None:
        self.client = client
        self.policy = policy or BackendPolicy(BACKEND)
        self.max_retries = max_retries
        self.currency = currency

    async def send(
        self,
        call: Call,
        *,
        parse_error: ErrorParser | None = None,
        max_retries: int | None = None,
    ) -> httpx.Response:
        retries = self.max_retries if max_retries is None else max_retries
        return await send(self.policy, call, parse_error or woocommerce_error, max_retries=retries)

    async def get_all(self, path: str, params: Mapping[str, str | int]) -> list[dict[str, Any]]:
        """Every item of a collection, following ``Link: rel="next"`` to the end."""
        items: list[dict[str, Any]] = []
        url: httpx.URL | str | None = path
        query: Mapping[str, str | int] | None = params
        while url is not None:
            response = await self.send(partial(self.client.get, url, params=query))
            items.extend(i for i in decode(response, list) if isinstance(i, dict))
            url, query = self._next_page(response), None
        return items

    def _next_page(self, response: httpx.Response) -> httpx.URL | None:
        href = response.links.get("next", {}).get("url")
        if not href:
            return None
        link = httpx.URL(href)
        base = self.client.base_url
        if (link.scheme, link.netloc) == (base.scheme, base.netloc):
            return link
        # WordPress writes its own site URL into Link; stay on the host we were configured
        # with (where our credentials belong), keeping the path and query WordPress chose.
        return base.copy_with(raw_path=link.raw_path)


def woocommerce_error(response: httpx.Response) -> BackendError:
    """A WordPress error body ``{code, message, data: {status}}`` as the project's error."""
    body = json_body(response)
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return default_error(BACKEND, response)
    status = response.status_code
    code = body["code"]
    text = f"WooCommerce {code}: {error_message(body, status)}"
    if status in (401, 403):
        return BackendAuthError(text, backend=BACKEND, status=status, backend_code=code)
    if status in RETRYABLE_STATUSES or status >= 500:
        return BackendUnavailable(text, backend=BACKEND, status=status, backend_code=code)
    return BackendRejected(text, backend=BACKEND, status=status, backend_code=code)


def error_message(body: Mapping[str, Any], status: int) -> str:
    return _TAGS.sub("", str(body.get("message") or "")).strip() or f"HTTP {status}"


def decode(response: httpx.Response, expected: type) -> Any:
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


def money(value: Any, currency: str) -> Money | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Money(Decimal(str(value)), currency)
    except InvalidOperation:
        return None


def integer(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(Decimal(str(value)))
    except InvalidOperation:
        return None


def utc(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # The _gmt fields are UTC without an offset.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
