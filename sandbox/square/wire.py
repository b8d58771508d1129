"""Square's wire conventions: the error envelope, opaque cursors, RFC 3339 times, decimal
quantities, and the typed reading of request bodies (Square answers a wrongly typed field
with EXPECTED_STRING / EXPECTED_ARRAY / ... rather than a generic 400)."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request

INVALID_REQUEST = "INVALID_REQUEST_ERROR"

_QUANTITY = re.compile(r"^-?\d{1,20}(\.\d{1,5})?$")


class SquareError(Exception):
    """An error answer: HTTP status plus Square's {errors: [...]} list."""

    def __init__(
        self,
        status: int,
        category: str,
        code: str,
        detail: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(detail or code)
        error: dict[str, str] = {"category": category, "code": code}
        if detail is not None:
            error["detail"] = detail
        if field is not None:
            error["field"] = field
        self.status = status
        self.errors = [error]

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors}


def invalid(code: str, detail: str, field: str | None = None, status: int = 400) -> SquareError:
    return SquareError(status, INVALID_REQUEST, code, detail, field)


def not_found(detail: str) -> SquareError:
    return SquareError(404, INVALID_REQUEST, "NOT_FOUND", detail)


# --- cursors -------------------------------------------------------------------------------
# A cursor is only valid for the query that produced it: it carries a fingerprint of the
# filters, so replaying it with other filters is INVALID_CURSOR, as on the real API.


def fingerprint(*parts: object) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.blake2b(raw, digest_size=6).hexdigest()


def encode_cursor(query: str, offset: int) -> str:
    raw = json.dumps({"q": query, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: object, query: str, field: str = "cursor") -> int:
    """The offset a cursor points at; 0 when there is no cursor."""
    if cursor is None or cursor == "":
        return 0
    bad = invalid("INVALID_CURSOR", "The pagination cursor is invalid.", field)
    if not isinstance(cursor, str):
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad from exc
    if not isinstance(data, dict) or data.get("q") != query:
        raise bad
    offset = data.get("o")
    if not isinstance(offset, int) or offset < 0:
        raise bad
    return offset


def page(rows: list[Any], offset: int, size: int, query: str) -> tuple[list[Any], str | None]:
    chunk = rows[offset : offset + size]
    more = offset + size < len(rows)
    return chunk, encode_cursor(query, offset + size) if more else None


# --- times and quantities --------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)  # counts share their calculated_at: format each once
@functools.lru_cache(maxsize=4096)  # millions of counts share a few hundred moments
def rfc3339(moment: datetime) -> str:
    """Square's style: UTC, millisecond precision, trailing Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise invalid("EXPECTED_STRING", f"Expected `{field}` to be a string.", field)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Square sends nanoseconds; datetime takes at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise invalid("INVALID_TIME", f"`{value}` is not a valid RFC 3339 time.", field) from exc
    if moment.tzinfo is None:
        raise invalid("INVALID_TIME", f"`{value}` has no UTC offset.", field)
    return moment.astimezone(UTC)


@functools.lru_cache(maxsize=1024)  # and a few dozen quantities
def format_quantity(quantity: Decimal) -> str:
    """Decimal string without exponent or trailing zeros: "18", "2.5", "-1"."""
    text = format(quantity.normalize(), "f")
    return "0" if text in ("-0", "") else text


def parse_quantity(value: object, field: str) -> Decimal:
    if not isinstance(value, str):
        raise invalid("EXPECTED_STRING", f"Expected `{field}` to be a decimal string.", field)
    if not _QUANTITY.match(value):
        raise invalid(
            "INVALID_VALUE",
            f"`{value}` is not a decimal quantity with at most 5 decimal places.",
            field,
        )
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already checked it
        raise invalid("INVALID_VALUE", f"`{value}` is not a number.", field) from exc


# --- typed access to request bodies ----------------------------------------------------------

_EXPECTED = {
    str: "EXPECTED_STRING",
    bool: "EXPECTED_BOOLEAN",
    int: "EXPECTED_INTEGER",
    list: "EXPECTED_ARRAY",
    dict: "EXPECTED_OBJECT",
}


def field_of(body: dict[str, Any], name: str, kind: type, path: str | None = None) -> Any:
    """``body[name]`` when present and of ``kind``; None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    wrong = (kind is int and isinstance(value, bool)) or not isinstance(value, kind)
    if wrong:
        where = path or name
        raise invalid(_EXPECTED[kind], f"Expected `{where}` to be {kind.__name__}.", where)
    return value


def string_list(body: dict[str, Any], name: str, path: str | None = None) -> list[str] | None:
    values = field_of(body, name, list, path)
    if values is None:
        return None
    where = path or name
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise invalid("EXPECTED_STRING", "Expected a string.", f"{where}[{i}]")
    return values


async def json_body(request: Request) -> dict[str, Any]:
    """A request's JSON object body ({} when empty), or Square's refusal."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid("BAD_REQUEST", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise invalid("EXPECTED_OBJECT", "The request body must be a JSON object.")
    return body
