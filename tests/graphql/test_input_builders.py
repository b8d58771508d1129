"""Input objects built from their plans (resolvers.input_builders) are exactly what
strawberry's own conversion builds, for generated values of every input type."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    coerce_input_value,
)
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strawberry.types.arguments import convert_argument

from resolvers.schema import build_schema

SCHEMA = build_schema()
CONVERTER = SCHEMA.schema_converter
INPUTS = {
    name: concrete.definition
    for name, concrete in CONVERTER.type_map.items()
    if getattr(concrete.definition, "is_input", False)
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": st.text(max_size=8),
    "ID": st.text(max_size=8) | st.integers(0, 10**6),
    "Int": st.integers(-(2**31), 2**31 - 1),
    "Float": st.floats(allow_nan=False, allow_infinity=False),
    "Boolean": st.booleans(),
    "Date": st.dates().map(lambda d: d.isoformat()),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat()),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    "JSON": JSON_VALUES,
}


def raw_values(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """What a client may send for ``type_`` (nulls and omissions included)."""
    if isinstance(type_, GraphQLNonNull):
        return _given(type_.of_type, depth)
    return st.none() | _given(type_, depth)


def _given(type_: GraphQLInputType, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        return st.lists(raw_values(type_.of_type, depth + 1), max_size=0 if depth > 3 else 3)
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(list(type_.values))
    if isinstance(type_, GraphQLScalarType):
        return SCALARS[type_.name]
    assert isinstance(type_, GraphQLInputObjectType)
    required = {
        name: raw_values(field.type, depth + 1)
        for name, field in type_.fields.items()
        if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
    }
    optional = {
        name: raw_values(field.type, depth + 1)
        for name, field in type_.fields.items()
        if name not in required
    }
    return st.fixed_dictionaries(required, optional=optional)


@contextmanager
def strawberrys_own_conversion() -> Iterator[None]:
    kept = {name: definition.from_input for name, definition in INPUTS.items()}
    for definition in INPUTS.values():
        definition.from_input = None
    try:
        yield
    finally:
        for name, definition in INPUTS.items():
            definition.from_input = kept[name]


def test_every_input_type_of_the_schema_is_built_from_a_plan() -> None:
    assert INPUTS
    assert [name for name, definition in INPUTS.items() if definition.from_input is None] == []


@pytest.mark.parametrize("name", sorted(INPUTS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_planned_input_is_what_strawberry_builds(name: str, data: st.DataObject) -> None:
    # Given what a client sent for the input type, as graphql-core coerced it
    graphql_type = SCHEMA._schema.type_map[name]
    assert isinstance(graphql_type, GraphQLInputObjectType)
    sent = data.draw(_given(graphql_type, 0))
    try:
        coerced = coerce_input_value(sent, graphql_type)
    except GraphQLError:
        coerced = Undefined
    assume(coerced is not Undefined)  # refused before any resolver would see it
    cls = INPUTS[name].origin
    registry, config = CONVERTER.scalar_registry, SCHEMA.config

    # When it is built from its plan and by strawberry's own walk of its type
    planned = convert_argument(coerced, cls, registry, config)
    with strawberrys_own_conversion():
        reference = convert_argument(coerced, cls, registry, config)

    # Then both are the same value, down to the types of every nested part
    assert type(planned) is type(reference)
    assert planned == reference
    assert repr(planned) == repr(reference)
