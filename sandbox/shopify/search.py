"""Shopify's list conventions: the ``query`` search syntax and cursor connections.

Search: terms ``key:value`` (value optionally quoted) joined by whitespace (AND) or ``OR``;
``-key:value`` or ``NOT key:value`` negates. That is a subset of Shopify's search syntax,
enough for ``sku:A OR sku:B``, ``status:open`` and ``source_identifier:wc-10482``. Keys a
resource does not know are ignored, as Shopify ignores unknown filters (it also reports them
in ``extensions.search``, which the simulator does not).

Connections: sorted by id; a cursor is base64 JSON ``{"last_id", "last_value"}`` as in the
contract's ``endCursor``, so ``after`` means "ids greater than this one".
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from collections.abc import Callable, Sequence
from typing import Any

from graphql import GraphQLError

from sandbox.shopify.catalog import gid_number

MAX_PAGE = 250
_TERM = re.compile(r"^(?P<neg>-)?(?P<key>[a-z_]+):(?P<value>.*)$")

Term = tuple[str, str, bool]  # (key, value, negated)
Values = Callable[[Any, str], Sequence[str] | None]  # record, key -> its values (None: unknown)


def parse_query(text: str | None) -> list[list[Term]]:
    """Disjunctive form: a list of AND-groups, any of which may match."""
    if not text or not text.strip():
        return []
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError:
        tokens = text.split()
    groups: list[list[Term]] = [[]]
    negate_next = False
    for token in tokens:
        if token == "OR":
            groups.append([])
            continue
        if token in ("AND", ""):
            continue
        if token == "NOT":
            negate_next = True
            continue
        match = _TERM.match(token)
        if match is None:
            continue  # free text: Shopify searches default fields; the sandbox has none
        negated = bool(match["neg"]) != negate_next
        negate_next = False
        groups[-1].append((match["key"], match["value"].strip("'\""), negated))
    return [group for group in groups if group]


def matches(record: Any, groups: list[list[Term]], values: Values) -> bool:
    if not groups:
        return True
    return any(all(_term(record, term, values) for term in group) for group in groups)


def _term(record: Any, term: Term, values: Values) -> bool:
    key, wanted, negated = term
    found = values(record, key)
    if found is None:
        return True  # unknown filter key: ignored
    hit = any(value.casefold() == wanted.casefold() for value in found)
    return hit != negated


# --- connections -----------------------------------------------------------------------------


def encode_cursor(record_id: str) -> str:
    number = gid_number(record_id)
    raw = json.dumps({"last_id": number, "last_value": str(number)}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        data = json.loads(base64.b64decode(cursor + "=" * (-len(cursor) % 4), validate=True))
        return int(data["last_id"])
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise GraphQLError(
            f"Invalid cursor for current pagination sort. ({cursor})",
            extensions={"code": "BAD_REQUEST"},
        ) from exc


def check_page_size(first: int | None) -> int:
    if first is None:
        raise GraphQLError(
            "you must provide one of first or last", extensions={"code": "BAD_REQUEST"}
        )
    if first < 0 or first > MAX_PAGE:
        raise GraphQLError(
            f"The first argument must be between 0 and {MAX_PAGE}.",
            extensions={"code": "BAD_REQUEST"},
        )
    return first


def connection(
    records: Sequence[Any], first: int | None, after: str | None = None
) -> dict[str, Any]:
    """A page of ``records`` (each with an ``id`` gid, or a dict with "id") as a connection."""
    size = check_page_size(first)
    ordered = sorted(records, key=lambda r: gid_number(_id(r)))
    if after:
        last = decode_cursor(after)
        ordered = [r for r in ordered if gid_number(_id(r)) > last]
    page = ordered[:size]
    edges = [{"cursor": encode_cursor(_id(r)), "node": r} for r in page]
    return {
        "nodes": page,
        "edges": edges,
        "pageInfo": {
            "hasNextPage": len(ordered) > size,
            "hasPreviousPage": bool(after),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _id(record: Any) -> str:
    return str(record["id"] if isinstance(record, dict) else record.id)
