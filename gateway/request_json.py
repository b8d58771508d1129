"""A request body's JSON as strawberry's view reads it (``json.loads`` of the bytes), read
once per request by whichever layer asks first (the micro-cache, the body guard, the
compiled path), and through orjson wherever orjson reads it the same way.

Three stdlib parses of every POST body were about 2 % of a gateway's CPU under reserves
(py-spy, bench/reservations.py). orjson is several times faster, but it reads some bodies
differently. It refuses NaN, Infinity, a byte-order mark, lone surrogates, numbers beyond
a double's range and nesting over 1,024 deep; the json module's reading is then taken. It
reads an integer beyond 64 bits as a float, where the json module keeps the integer (and
an error must name the value as it was sent): a body with a run of 19 digits goes to the
json module. tests/unit/test_request_json.py compares both readings on drawn bodies.

The layers pass one bytes object down (``replaying``), so the last reading is kept by
identity: the same object is the same bytes, and holding it keeps its id from being reused.
What is returned is shared by the layers: none may change it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# 2**63 has 19 digits: shorter integers are ones orjson keeps as integers.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")

_last: tuple[bytes, Any] | None = None


class NestedTooDeep(ValueError):
    """JSON nested deeper than the json module can read (it raised RecursionError, which
    reached the client as an HTTP 500)."""


def read_json(body: bytes) -> Any:
    """``json.loads(body)``, raising what it raises (ValueError: JSONDecodeError or
    UnicodeDecodeError), or NestedTooDeep."""
    global _last
    last = _last
    if last is not None and last[0] is body:
        return last[1]
    try:
        if _LONG_NUMBER.search(body) is None:
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError:
                payload = json.loads(body)
        else:
            payload = json.loads(body)
    except RecursionError:
        raise NestedTooDeep("the request body is nested too deeply to read") from None
    _last = (body, payload)
    return payload
