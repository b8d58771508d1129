"""The README's table of error codes, rendered from the declarations the schema is built
from. ``python -m resolvers.error_table`` prints it; a test fails when the README's differs."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin, is_typeddict

from gateway import errors
from resolvers.errors import wire_key
from resolvers.types.errors import EXTENSIONS, details, shape_of


def _entry_keys(hint: Any) -> str:
    """``[{sku, locationId, ...}]`` for a list of typed entries, else nothing."""
    union = get_origin(hint) in (Union, types.UnionType)
    for option in [a for a in get_args(hint) if a is not type(None)] if union else [hint]:
        items = get_args(option) if get_origin(option) is not None else ()
        if len(items) == 1 and is_typeddict(shape := shape_of(items[0])):
            return "[{" + ", ".join(d.key for d in details(shape)) + "}]"
    return ""


def _details(code: errors.ErrorCode, previous: errors.ErrorCode | None) -> str:
    name = EXTENSIONS[code].__name__
    declaration = errors.details_of(code)
    if previous is not None and EXTENSIONS[previous] is EXTENSIONS[code]:
        return f"`{name}`, as above"
    if declaration is None:
        return f"`{name}`: the code alone"
    keys = ", ".join(f"`{wire_key(d.key)}{_entry_keys(d.type)}`" for d in details(declaration))
    return f"`{name}`: {keys}"


def error_table() -> str:
    rows = ["| Code | When | Details (`extensions` type: keys) |", "|---|---|---|"]
    previous = None
    for code in errors.ErrorCode:
        rows.append(f"| `{code}` | {code.description} | {_details(code, previous)} |")
        previous = code
    return "\n".join(rows)


if __name__ == "__main__":
    print(error_table())
