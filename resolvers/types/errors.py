"""Errors in the schema: the ``ErrorCode`` enum, and for each code the type of the
``extensions`` an error with that code carries.

No field returns these types; they are in the schema so that clients can discover the codes
and their details by introspection. Both are generated from ``gateway.errors`` (the enum
with its descriptions, and the TypedDict each error class's ``__init__`` unpacks) under the
key names ``resolvers.errors.to_client_error`` writes, so the schema cannot drift from what
a response carries. A detail is non-null only where every error of its code carries it;
one not given, or given as None, is absent from the response.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

import strawberry
from strawberry.types.enum import has_enum_definition

from gateway import errors
from resolvers.errors import wire_key

ErrorCode = strawberry.enum(
    errors.ErrorCode,
    description="Every `extensions.code` an error can carry. Each value's description names "
    "the type of the `extensions` that come with it.",
)


@dataclass(frozen=True)
class Detail:
    """One key of a details TypedDict: its type with Required/NotRequired taken off."""

    key: str
    type: Any
    required: bool


def details(declaration: type) -> list[Detail]:
    """The keys a TypedDict declares, in order. ``__required_keys__`` cannot be trusted
    under postponed annotations, so requiredness is read from the hints themselves."""
    total: bool = getattr(declaration, "__total__", True)
    found = []
    for key, hint in get_type_hints(declaration, include_extras=True).items():
        required = total
        if get_origin(hint) in (Required, NotRequired):
            required = get_origin(hint) is Required
            hint = get_args(hint)[0]
        found.append(Detail(key, hint, required))
    return found


def shape_of(hint: Any) -> Any:
    """The type a detail is declared as, without its Annotated metadata; for an
    ``Annotated[Mapping[...], Shape]`` entry, the TypedDict it names."""
    if get_origin(hint) is Annotated:
        shapes = [m for m in hint.__metadata__ if is_typeddict(m)]
        return shapes[0] if shapes else get_args(hint)[0]
    return hint


def _doc(hint: Any) -> str | None:
    """A detail's description: the string in its Annotated metadata."""
    if get_origin(hint) is Annotated:
        return next((m for m in hint.__metadata__ if isinstance(m, str)), None)
    return None


def _extensions_name(declaration: type | None) -> str:
    if declaration is None:
        return "ErrorExtensions"
    return declaration.__name__.removesuffix("Details") + "Extensions"


def _description(text: str | None) -> str | None:
    # Docstrings are reStructuredText, descriptions Markdown.
    return None if text is None else inspect.cleandoc(text).replace("``", "`")


def _note(hint: Any) -> str | None:
    """A field's description: the detail's own, and the values it takes if declared."""
    declared = shape_of(hint)
    options = [a for a in get_args(declared) if a is not type(None)]
    literal = options[0] if get_origin(declared) in (Union, types.UnionType) else declared
    values = None
    if get_origin(literal) is Literal:
        values = "One of " + ", ".join(get_args(literal)) + "."
    return " ".join(part for part in (_doc(hint), values) if part) or None


_objects: dict[str, type] = {}


def _object(name: str, description: str | None, fields: dict[str, tuple[Any, str | None]]) -> type:
    """A strawberry type named ``name`` with the GraphQL fields given: name -> (annotation,
    description)."""
    if name in _objects:
        return _objects[name]
    namespace: dict[str, Any] = {"__module__": __name__, "__annotations__": {}}
    for graphql_name, (annotation, note) in fields.items():
        namespace["__annotations__"][graphql_name] = annotation
        namespace[graphql_name] = strawberry.field(name=graphql_name, description=note)
    created = strawberry.type(
        type(name, (), namespace), name=name, description=_description(description)
    )
    _objects[name] = created
    return created


def _nested(declaration: type) -> type:
    # Entries inside a detail keep their keys as written: to_client_error renames only the
    # top level.
    fields = {}
    for detail in details(declaration):
        annotation, nullable = _annotation(detail.type)
        if nullable or not detail.required:
            annotation = annotation | None
        fields[detail.key] = (annotation, _note(detail.type))
    return _object(declaration.__name__, declaration.__doc__, fields)


def _annotation(hint: Any) -> tuple[Any, bool]:
    """The GraphQL annotation of a declared Python type, and whether it may be null."""
    hint = shape_of(hint)
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        nullable = len(options) < len(get_args(hint))
        if set(options) == {str, int}:
            return strawberry.ID, nullable
        if len(options) == 1:
            inner, _ = _annotation(options[0])
            return inner, nullable
        raise TypeError(f"no GraphQL type for {hint!r}")
    if origin is Literal and all(isinstance(v, str) for v in get_args(hint)):
        return str, False
    if origin in (list, Sequence):
        inner, nullable = _annotation(get_args(hint)[0])
        item = inner | None if nullable else inner
        return list[item], False  # type: ignore[valid-type]  # built at runtime
    if is_typeddict(hint):
        return _nested(hint), False
    if hint in (str, int, float, bool):
        return hint, False
    raise TypeError(f"no GraphQL type for {hint!r}")


def _extensions_type(declaration: type | None, codes: list[errors.ErrorCode]) -> type:
    fields: dict[str, tuple[Any, str | None]] = {"code": (ErrorCode, None)}
    for detail in details(declaration) if declaration is not None else []:
        name = wire_key(detail.key)
        if name in fields:
            raise TypeError(f"{declaration}: the detail {detail.key!r} would replace {name!r}")
        annotation, nullable = _annotation(detail.type)
        # Top-level details are absent when not given or None, so only Required ones that
        # cannot be None are non-null.
        if nullable or not detail.required:
            annotation = annotation | None
        fields[name] = (annotation, _note(detail.type))
    listed = ", ".join(codes)
    return _object(
        _extensions_name(declaration),
        f"The `extensions` of an error whose code is {listed}.",
        fields,
    )


def _build() -> dict[errors.ErrorCode, type]:
    by_declaration: dict[str, list[errors.ErrorCode]] = {}
    declarations: dict[str, type | None] = {}
    for code in errors.ErrorCode:
        declaration = errors.details_of(code)
        name = _extensions_name(declaration)
        by_declaration.setdefault(name, []).append(code)
        declarations[name] = declaration
    built = {}
    for name, codes in by_declaration.items():
        created = _extensions_type(declarations[name], codes)
        built.update({code: created for code in codes})
    return built


EXTENSIONS: Mapping[errors.ErrorCode, type] = _build()
"""For each code, the strawberry type of the ``extensions`` its errors carry."""


def _describe_values() -> None:
    # strawberry.enum takes value descriptions only from strawberry.enum_value in the class
    # body; the domain enum stays free of strawberry, so they are set on its definition.
    assert has_enum_definition(ErrorCode)
    for value in ErrorCode.__strawberry_definition__.values:
        code = errors.ErrorCode(value.value)
        extensions = _extensions_name(errors.details_of(code))
        value.description = f"{code.description} Extensions: `{extensions}`."


_describe_values()

ERROR_TYPES: list[type] = [ErrorCode, *dict.fromkeys(EXTENSIONS.values())]
"""What the schema adds by ``types=``: reachable from no field, listed by introspection."""
