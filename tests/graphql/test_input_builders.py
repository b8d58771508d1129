"""Input objects built from their plans (resolvers.input_builders) are exactly what
strawberry's own conversion builds, for generated values of every input type."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    coerce_input_value,
)
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strawberry.types.arguments import convert_argument

from resolvers.schema import build_schema
from tests.graphql.input_values import sent_value

SCHEMA = build_schema()
CONVERTER = SCHEMA.schema_converter
INPUTS = {
    name: concrete.definition
    for name, concrete in CONVERTER.type_map.items()
    if getattr(concrete.definition, "is_input", False)
}


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
    sent = data.draw(sent_value(graphql_type))
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
