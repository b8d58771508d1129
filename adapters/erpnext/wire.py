"""Frappe's wire conventions as the adapter reads them: the error envelope, numbers that
arrive as JSON floats, HTML in messages and Text Editor fields, naive site-time datetimes,
``in`` lists that must fit in a request line, and money written as exact JSON numbers."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from adapters.http import default_error, json_body
from gateway.errors import BackendError

BACKEND = "erpnext"
_TAG = re.compile(r"<[^>]+>")
_DECIMAL = re.compile(r'"\\u0000decimal:([-0-9.]+)\\u0000"')
_URL_BUDGET = 6500  # percent-encoded characters of SKU list: the request line stays < 8 KB


def parse_error(response: httpx.Response) -> BackendError:
    """Frappe's {exc_type, exception, _server_messages} as the project's typed error."""
    fallback = default_error(BACKEND, response)
    body = json_body(response)
    if not isinstance(body, dict):
        return fallback  # an HTML page from nginx or a load balancer
    exc_type = body.get("exc_type") if isinstance(body.get("exc_type"), str) else None
    message = _server_messages(body.get("_server_messages")) or _exception_text(
        body.get("exception")
    )
    details: dict[str, Any] = {}
    if response.headers.get("Retry-After"):
        details["retry_after"] = response.headers["Retry-After"]
    return type(fallback)(
        message or fallback.message,
        backend=BACKEND,
        status=response.status_code,
        backend_code=exc_type,
        **details,
    )


def _server_messages(raw: Any) -> str | None:
    """``_server_messages`` is a JSON string of a list of JSON strings of message dicts."""
    if not isinstance(raw, str):
        return None
    try:
        entries = json.loads(raw)
    except ValueError:
        return plain(raw)
    messages = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            decoded = json.loads(entry) if isinstance(entry, str) else entry
        except ValueError:
            decoded = entry
        text = decoded.get("message") if isinstance(decoded, dict) else decoded
        if text:
            messages.append(plain(str(text)))
    return "; ".join(m for m in messages if m) or None


def _exception_text(raw: Any) -> str | None:
    # "frappe.exceptions.ValidationError: Row #1: ..." -> "Row #1: ..."
    if not isinstance(raw, str) or not raw:
        return None
    _, sep, text = raw.partition(": ")
    return plain(text) if sep else None


def plain(value: Any) -> str | None:
    """Frappe messages and Text Editor fields carry HTML (<strong>...</strong>)."""
    if value is None:
        return None
    text = html.unescape(_TAG.sub("", str(value))).strip()
    return text or None


def decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        # str() first: Decimal(5.1) would carry the binary float's error into money.
        return Decimal(str(value))
    except InvalidOperation:
        return None


def whole(value: Any, rounding: str) -> int:
    number = value if isinstance(value, Decimal) else decimal(value)
    return int(number.to_integral_value(rounding=rounding)) if number is not None else 0


def site_time_to_utc(value: Any, timezone: ZoneInfo) -> datetime | None:
    """A naive datetime string in the site's time zone as an aware UTC datetime.

    A wall time in the repeated autumn hour is read as its first (summer time) occurrence:
    Frappe keeps no offset, so the hour cannot be told apart.
    """
    if not value:
        return None
    return datetime.fromisoformat(str(value)).replace(tzinfo=timezone).astimezone(UTC)


def sku_chunks(skus: Sequence[str], size: int) -> Iterator[list[str]]:
    """``in``-filter lists of at most ``size`` codes that keep the URL under proxy limits."""
    chunk: list[str] = []
    budget = 0
    for sku in skus:
        cost = len(quote(json.dumps(sku), safe="")) + 6  # the quoted code and "%2C%20" after it
        if chunk and (len(chunk) >= size or budget + cost > _URL_BUDGET):
            yield chunk
            chunk, budget = [], 0
        chunk.append(sku)
        budget += cost
    if chunk:
        yield chunk


def json_content(body: Any) -> bytes:
    """``body`` as JSON with each Decimal written as the number it is (129.00, not a float's
    129.0 or 0.1's 0.1000000000000000055...): a marker string, then the bare digits."""

    def encode(value: Any) -> str:
        if isinstance(value, Decimal) and value.is_finite():
            return f"\0decimal:{value:f}\0"
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    text = json.dumps(body, default=encode)
    return _DECIMAL.sub(lambda m: m.group(1), text).encode()
