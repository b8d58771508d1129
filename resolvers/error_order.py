"""Errors in the order of their places in the answer.

graphql-core lists field errors as they happen, which for fields resolved concurrently
depends on which backend answered first. The gateway lists them in the order of the
fields they belong to in the answer (the document's order, list items by index), errors of
no field first, so one request asked twice with the same outcome answers with the same
bytes, whichever path executed it (resolvers.compiled).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError

_AFTER = 1 << 30  # a place under a parent that was nulled: after every place that exists


def _place(path: Sequence[str | int] | None, data: Any) -> tuple[tuple[int, str], ...]:
    if path is None:
        return ()
    place: list[tuple[int, str]] = []
    node = data
    for segment in path:
        if isinstance(node, dict) and segment in node:
            place.append((list(node).index(segment), ""))
            node = node[segment]
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            place.append((segment, ""))
            node = node[segment]
        else:
            place.append((_AFTER, str(segment)))
            node = None
    return tuple(place)


def in_answer_order(errors: list[GraphQLError], data: Any) -> list[GraphQLError]:
    if len(errors) < 2:
        return errors
    # Stable: errors at one place keep the order they were raised in.
    return sorted(errors, key=lambda error: (error.path is not None, _place(error.path, data)))
