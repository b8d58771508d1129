"""WordPress's wire conventions: the WP_Error envelope, PHP's JSON encoding, and query strings
read the way PHP fills ``$_GET`` (repeated keys: the last one wins; ``a[b]=1`` nests)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote_plus

from starlette.responses import Response

JSON_TYPE = "application/json; charset=UTF-8"

# $_GET: a key maps to a string, or to an array when written with brackets (one level here).
QueryValue = str | dict[str, str]
Query = dict[str, QueryValue]


class WPError(Exception):
    """A WP_Error answer: ``{code, message, data: {status, ...}}`` with the HTTP status."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = {"status": status, **data}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": self.data}


def no_route() -> WPError:
    return WPError("rest_no_route", "No route was found matching the URL and request method.", 404)


def wp_json(payload: Any) -> str:
    """PHP's json_encode as WordPress calls it: ASCII only, and '/' written as '\\/'."""
    # '/' can only occur inside JSON strings, so escaping every one is safe.
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def wp_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    base = {"X-Content-Type-Options": "nosniff", "X-Robots-Tag": "noindex"}
    return Response(wp_json(payload), status, {**base, **(headers or {})}, media_type=JSON_TYPE)


def error_response(error: WPError) -> Response:
    return wp_response(error.body(), error.status)


def rawurlencode(value: str) -> str:
    """PHP's rawurlencode: RFC 3986, everything but A-Z a-z 0-9 - _ . ~ escaped."""
    return quote(value, safe="")


def php_empty(value: object) -> bool:
    """PHP's empty(): '', '0', null and empty arrays are all empty."""
    return value is None or value == "" or value == "0" or value == {}


def parse_query(raw: bytes | str) -> Query:
    """A query string as PHP's parse_str builds ``$_GET``.

    Repeated keys keep the last value (the official Python client sends every caller
    parameter twice over http); ``key[sub]=v`` and ``key[]=v`` become an array; spaces and
    dots in a key's name become underscores.
    """
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    result: Query = {}
    for part in text.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key, value = unquote_plus(raw_key), unquote_plus(raw_value)
        base, bracket, rest = key.partition("[")
        base = base.lstrip(" ").replace(" ", "_").replace(".", "_")
        if not base:
            continue
        if bracket and "]" in rest:
            sub = rest[: rest.index("]")]
            array = result.get(base)
            if not isinstance(array, dict):
                array = {}
                result[base] = array
            if sub == "":
                indexes = [int(k) for k in array if k.lstrip("-").isdigit()]
                sub = str(max(indexes) + 1 if indexes else 0)
            array[sub] = value
        else:
            # An unmatched '[' is turned into '_' like the other unsafe characters.
            result[base + ("_" + rest if bracket else "")] = value
    return result


def build_query(query: Query) -> str:
    """The inverse of parse_query, for Link headers; commas stay readable as WordPress's do."""
    parts: list[str] = []
    for key, value in query.items():
        if isinstance(value, dict):
            parts.extend(
                f"{key}[{quote(sub, safe='')}]={quote(v, safe=',')}" for sub, v in value.items()
            )
        else:
            parts.append(f"{quote(key, safe='')}={quote(value, safe=',')}")
    return "&".join(parts)
