"""gateway.request_json reads a body as strawberry's view does (``json.loads``)."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gateway.request_json import read_json

_leaves = st.one_of(
    st.none(),
    st.booleans(),
    # Across 64 bits and beyond, where orjson would read a float.
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)
_values = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, type for type (1 == 1.0 in Python, but not to an error message)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _json_module(body: bytes) -> tuple[str, Any]:
    try:
        return "read", json.loads(body)
    except ValueError as refused:
        return "refused", type(refused)


def _ours(body: bytes) -> tuple[str, Any]:
    try:
        return "read", read_json(body)
    except ValueError as refused:
        return "refused", type(refused)


def _assert_read_alike(body: bytes) -> None:
    theirs, ours = _json_module(body), _ours(body)
    assert theirs[0] == ours[0], body
    assert _same(theirs[1], ours[1]) if theirs[0] == "read" else theirs[1] is ours[1], body


@given(_values, st.booleans(), st.sampled_from(["", " ", "\n", "\ufeff"]))
def test_a_json_body_reads_as_the_json_module_reads_it(
    value: Any, ascii_only: bool, around: str
) -> None:
    # Given a body as a client may send it: escaped or raw UTF-8, with blanks or a BOM
    text = json.dumps(value, ensure_ascii=ascii_only)
    body = (around + text + around.strip("\ufeff")).encode("utf-8", "surrogatepass")
    # Then it reads as the json module reads it, type for type, refusals included
    _assert_read_alike(body)


@given(st.binary(max_size=40))
def test_any_bytes_read_or_are_refused_as_the_json_module_does(body: bytes) -> None:
    _assert_read_alike(body)


def test_an_integer_beyond_64_bits_stays_an_integer() -> None:
    body = b'{"variables": {"first": 18446744073709551616}}'
    assert read_json(body)["variables"]["first"] == 2**64
    assert type(read_json(body)["variables"]["first"]) is int


def test_the_layers_of_one_request_share_one_reading() -> None:
    body = b'{"query": "{ __typename }"}'
    first = read_json(body)
    # The same bytes object is read once: every layer sees the same reading
    assert read_json(body) is first
    # Equal bytes in another object (another request) are read again
    assert read_json(bytes(bytearray(body))) is not first
