"""Input objects built from plans made once per type, through strawberry's own hook for
this (``StrawberryObjectDefinition.from_input``), instead of strawberry working each
input's type out again on every request.

Strawberry converts an argument by walking its type on every call: it resolves each
field's annotation, converts each field's name to camel case and asks ``isinstance`` of
abstract types all the way down. For ``reserve``'s input that was a fifth of the whole
request's CPU (bench/reservations.py, ``--profile``). A plan here does the same walk once:
per field its GraphQL name, its Python name and a converter for its type, each doing
exactly what ``strawberry.types.arguments.convert_argument`` does for that type (None
and UNSET kept, leaf values and enums as graphql-core coerced them, lists of leaves
copied, nested input objects built by their own plans, a field without a default set to
None before the given ones). tests/graphql/test_input_builders.py compares both on
generated values of every input type in the schema.

A type this does not cover (a ``Maybe`` field, a GlobalID, a type another integration
builds) keeps strawberry's own conversion.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import InputContext, StrawberryArgument
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]
Registry = Mapping[object, Any]


class Unsupported(Exception):
    """A type whose conversion is left to strawberry."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    graphql_name: str
    python_name: str
    convert: Convert


class InputBuilder:
    """``from_input`` of one input type: its fields' plan, and the type built from it."""

    def __init__(self, definition: StrawberryObjectDefinition, planner: _Planner) -> None:
        self._fields: tuple[_Field, ...] = ()
        # As strawberry: a field without a default is None unless the input gives it.
        self._nulls = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING
        }
        self._definition = definition
        self._planner = planner

    def plan(self) -> None:
        """Made after the builder is known to its planner: a type nested in itself finds
        it under way rather than planning itself forever."""
        definition = self._definition
        names = self._planner.config.name_converter
        self._fields = tuple(
            _Field(
                names.from_field(field),
                field.python_name,
                self._planner.converter(field.resolve_type(type_definition=definition)),
            )
            for field in definition.fields
        )

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext | None) -> Any:
        kwargs: dict[str, Any] = dict(self._nulls)
        for field in self._fields:
            if field.graphql_name in value:
                kwargs[field.python_name] = field.convert(value[field.graphql_name])
        return cls(**kwargs)


class _Planner:
    def __init__(self, registry: Registry, config: StrawberryConfig) -> None:
        self.registry = registry
        self.config = config
        self.builders: dict[type, InputBuilder] = {}

    def converter(self, type_: Any) -> Convert:
        """What convert_argument does for ``type_``, decided now."""
        if isinstance(type_, StrawberryMaybe):
            raise Unsupported("Maybe")
        if isinstance(type_, StrawberryOptional):
            return self.converter(type_.of_type)
        if isinstance(type_, StrawberryList):
            of = type_.of_type
            if self._is_leaf(of) or (
                isinstance(of, StrawberryOptional) and self._is_leaf(of.of_type)
            ):
                # Copied: graphql-core gives one default list to every request omitting it.
                return _nullable(list)
            item = self.converter(type_.of_type)
            return _nullable(lambda values: [item(value) for value in values])
        if type_ is GlobalID:
            raise Unsupported("GlobalID")
        if self._is_leaf(type_):
            return _as_given
        if isinstance(type_, LazyType):
            return self.converter(type_.resolve_type())
        if has_enum_definition(type_):
            return _as_given
        if has_object_definition(type_):
            definition = type_.__strawberry_definition__
            builder = self.builders.get(type_)
            if builder is None and isinstance(definition.from_input, InputBuilder):
                builder = definition.from_input  # planned and installed already
            if builder is None:
                if definition.from_input is not None or not definition.is_input:
                    raise Unsupported(f"{type_!r} builds its own input")
                builder = self.builders[type_] = InputBuilder(definition, self)
                builder.plan()
            cls = type_
            return _nullable(lambda value: builder(cls, value, None))
        raise Unsupported(repr(type_))

    def _is_leaf(self, type_: Any) -> bool:
        if type_ is GlobalID:
            return False
        if is_scalar(type_, self.registry) or isinstance(type_, StrawberryEnumDefinition):
            return True
        return isinstance(type_, LazyType) and self._is_leaf(type_.resolve_type())


def _as_given(value: Any) -> Any:
    return value


def _nullable(convert: Convert) -> Convert:
    def converted(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        return convert(value)

    return converted


def argument_converters(
    arguments: Sequence[StrawberryArgument], registry: Registry, config: StrawberryConfig
) -> tuple[tuple[str, str, Convert], ...]:
    """Per argument of a field: its GraphQL name, its Python name and what
    ``convert_arguments`` does to its value, decided now; raises Unsupported."""
    planner = _Planner(registry, config)
    names = config.name_converter
    return tuple(
        (names.from_argument(argument), argument.python_name, planner.converter(argument.type))
        for argument in arguments
    )


def install(
    definitions: list[StrawberryObjectDefinition], registry: Registry, config: StrawberryConfig
) -> list[type]:
    """Give each input type among ``definitions`` a planned builder, where strawberry's own
    conversion is not needed; the types given one."""
    builders: dict[type, InputBuilder] = {}
    for definition in definitions:
        if not definition.is_input or definition.from_input is not None:
            continue
        # A planner per type: a nested type that cannot be planned leaves no half-made
        # builder behind for another type to use.
        planner = _Planner(registry, config)
        try:
            planner.converter(definition.origin)
        except Unsupported:
            continue
        builders[definition.origin] = planner.builders[definition.origin]
    for cls, builder in builders.items():
        cls.__strawberry_definition__.from_input = builder  # type: ignore[attr-defined]
    return list(builders)
