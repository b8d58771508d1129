"""What a client may send for an input type of the schema, as hypothesis strategies."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from graphql.pyutils import Undefined
from hypothesis import strategies as st

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


def raw_value(
    type_: GraphQLInputType, depth: int = 0, *, wild: bool = False
) -> st.SearchStrategy[Any]:
    """What a client may send for ``type_`` (nulls and omissions included); ``wild``: now
    and then something else (any JSON for a leaf, an unknown field, a null)."""
    if isinstance(type_, GraphQLNonNull):
        value = sent_value(type_.of_type, depth, wild=wild)
        return value | st.none() if wild else value
    return st.none() | sent_value(type_, depth, wild=wild)


def sent_value(
    type_: GraphQLInputType, depth: int = 0, *, wild: bool = False
) -> st.SearchStrategy[Any]:
    """A value of ``type_`` itself (not null)."""
    if isinstance(type_, GraphQLList):
        items = raw_value(type_.of_type, depth + 1, wild=wild)
        listed = st.lists(items, max_size=0 if depth > 3 else 3)
        return listed | items if wild else listed  # one value stands for a list of one
    if isinstance(type_, GraphQLEnumType):
        named = st.sampled_from(list(type_.values))
        return named | JSON_VALUES if wild else named
    if isinstance(type_, GraphQLScalarType):
        return SCALARS[type_.name] | JSON_VALUES if wild else SCALARS[type_.name]
    assert isinstance(type_, GraphQLInputObjectType)
    required = {
        name: raw_value(field.type, depth + 1, wild=wild)
        for name, field in type_.fields.items()
        if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
    }
    optional = {
        name: raw_value(field.type, depth + 1, wild=wild)
        for name, field in type_.fields.items()
        if name not in required
    }
    if wild:
        optional["unknownField"] = st.integers()
    return st.fixed_dictionaries(required, optional=optional)
