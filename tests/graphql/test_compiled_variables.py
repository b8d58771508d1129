"""A known operation's variables coerced by its own coercers (resolvers.compiled.variables)
are what graphql-core's ``get_variable_values`` gives, and anything it would refuse or
fill in is left to it."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    OperationDefinitionNode,
    parse,
)
from graphql.execution.values import get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.compiled.variables import VariableCoercion
from resolvers.schema import build_schema
from tests.graphql.input_values import raw_value

SCHEMA = build_schema()._schema
INPUT_TYPES = sorted(
    name
    for name, type_ in SCHEMA.type_map.items()
    if isinstance(type_, GraphQLInputObjectType) and not name.startswith("__")
)
WRAPPERS = ["{}", "{}!", "[{}!]", "[{}]!"]


def _definitions(declared: str) -> Any:
    document = parse(f"query($v: {declared}, $s: String) {{ __typename }}")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.variable_definitions


def _type(declared: str, name: str) -> Any:
    type_: Any = SCHEMA.type_map[name]
    if declared.endswith("!]") or declared.endswith("!]!"):
        type_ = GraphQLNonNull(type_)
    if declared.startswith("["):
        type_ = GraphQLList(type_)
    if declared.endswith("!") and not declared.endswith("!]"):
        type_ = GraphQLNonNull(type_)
    return type_


def _sources(sources: dict[str, Any]) -> dict[str, Any]:
    # A signature is made anew for each request: compared by what it says.
    return {
        name: (s.signature.name, str(s.signature.type), s.signature.default, s.value)
        for name, s in sources.items()
    }


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("name", INPUT_TYPES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_planned_coercion_agrees_with_graphql_core(
    name: str, wrapper: str, data: st.DataObject
) -> None:
    # Given variables a client sent, valid or not, for a declared input type
    declared = wrapper.format(name)
    definitions = _definitions(declared)
    wild = data.draw(st.booleans())
    sent = {"v": data.draw(raw_value(_type(declared, name), wild=wild)), "s": "x"}

    # When both coerce them
    planned = VariableCoercion(SCHEMA, definitions)(sent)
    reference = get_variable_values(SCHEMA, definitions, sent, max_errors=50)

    # Then the plan gives graphql-core's values when they are valid, and leaves the
    # request to graphql-core (which words the errors) when they are not
    if isinstance(reference, list):
        assert planned is None
    else:
        assert planned is not None
        assert planned.coerced == reference.coerced
        assert repr(planned.coerced) == repr(reference.coerced)
        assert _sources(planned.sources) == _sources(reference.sources)


def test_an_omitted_variable_with_a_default_is_left_to_graphql_core() -> None:
    # Given a variable with a default, omitted
    document = parse('query($s: String = "x", $n: Int) { __typename }')
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    coercion = VariableCoercion(SCHEMA, operation.variable_definitions)

    # Then graphql-core applies the default; a nullable one with none is simply omitted
    assert coercion({}) is None
    given_s = coercion({"s": "y"})
    assert given_s is not None and given_s.coerced == {"s": "y"}
    assert "n" in given_s.sources and "n" not in given_s.coerced
