"""Every string a request carries, checked before anything runs: no NUL byte (PostgreSQL
refuses one in text, a backend's URL breaks on one) and no longer than its documented
maximum (a 100,000-character SKU made an invalid backend URL; a 300-character name
overflowed a column). Both the variables and the strings written into the document are
checked; the first string at fault is named, e.g. ``$input.customer.name``.

    argument or input field                       at most
    reason, note, instructions, description       2,000 characters (free text)
    query documents                               100,000 characters
    any other string or ID                        256 characters
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    ObjectFieldNode,
    StringValueNode,
    parse,
    visit,
)
from graphql.language import Visitor

DEFAULT_MAX = 256
FREE_TEXT_MAX = 2_000
FREE_TEXT = frozenset({"reason", "note", "instructions", "description", "detail", "comment"})
QUERY_MAX = 100_000


def limit_of(name: str) -> int:
    return FREE_TEXT_MAX if name in FREE_TEXT else DEFAULT_MAX


def problem(text: str, where: str, name: str) -> str | None:
    """Why this string is refused, or None."""
    if "\x00" in text:
        return f"{where} holds a NUL byte"
    limit = limit_of(name)
    if len(text) > limit:
        return f"{where} is {len(text):,} characters long; at most {limit:,}"
    return None


def first_problem(query: str | None, variables: dict[str, Any] | None) -> tuple[str, str] | None:
    """(message, where) of the first string at fault in a request, or None."""
    if query is not None:
        if "\x00" in query:
            return "the query document holds a NUL byte", "query"
        if len(query) > QUERY_MAX:
            return (
                f"the query document is {len(query):,} characters long; at most {QUERY_MAX:,}",
                "query",
            )
    # Most requests have nothing at fault: look first without writing any string's path.
    if variables and _any_at_fault(variables, ""):
        for where, name, text in _variable_strings(variables):
            found = problem(text, where, name)
            if found:
                return found, where
    if query is not None:
        for where, text in _literals(query):
            found = problem(text, where, where.rsplit(".", 1)[-1])
            if found:
                return found, where
    return None


def _any_at_fault(value: Any, name: str) -> bool:
    """Whether some string in ``value`` would be refused by ``problem`` (pure)."""
    if isinstance(value, str):
        return "\x00" in value or len(value) > limit_of(name)
    if isinstance(value, dict):
        return any(_any_at_fault(item, str(key)) for key, item in value.items())
    if isinstance(value, list):
        return any(_any_at_fault(item, name) for item in value)
    return False


def _variable_strings(
    value: Any, where: str = "$", name: str = ""
) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, str):
        yield where, name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            path = f"{where}{key_text}" if where == "$" else f"{where}.{key_text}"
            yield from _variable_strings(item, path, key_text)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _variable_strings(item, f"{where}[{index}]", name)


@lru_cache(maxsize=512)
def _literals(query: str) -> tuple[tuple[str, str], ...]:
    """The strings written into a document (clients send the same few over and over)."""
    try:
        document = parse(query)
    except GraphQLError:  # graphql-core says what is wrong with it, in its own words
        return ()
    return tuple(_literal_strings(document))


def _literal_strings(document: DocumentNode) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    class Strings(Visitor):
        def __init__(self) -> None:
            super().__init__()
            self.names: list[str] = []

        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            self.names.append(node.name.value)

        def leave_argument(self, node: ArgumentNode, *_: Any) -> None:
            self.names.pop()

        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
            self.names.append(node.name.value)

        def leave_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
            self.names.pop()

        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            if self.names:
                found.append((".".join(self.names), node.value))

    visit(document, Strings())
    return found
