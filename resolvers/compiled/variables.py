"""A known operation's variables coerced by coercers made once per operation, as
graphql-core's ``get_variable_values`` coerces them.

graphql-core works out each variable's type from the document on every request and walks
it generically (``coerce_input_value``), after a separate walk checking how deep the value
is nested: for ``reserve`` that was about a third of the compiled execution. Here each
variable's signature is found once, and its type becomes a tree of small functions doing
what ``coerce_input_value`` does for that type, step for step (nulls, a single value as a
list of one, unknown or missing fields, field defaults, one-of inputs, ``out_type``, the
scalar's own ``coerce_input_value``).

Only the plain case is handled: every variable either given or nullable without a default,
every value valid, nothing nested deeper than ``MAX_DEPTH``. Anything else (a default to
apply, a value to refuse) answers None and the request takes graphql-core's path, which
words the errors. tests/graphql/test_compiled_variables.py compares both on generated
values.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    VariableDefinitionNode,
    is_required_input_field,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource
from graphql.pyutils import Undefined, is_iterable
from graphql.type import assert_leaf_type
from graphql.utilities.coerce_input_value import coerce_default_value

# Deeper than this, graphql-core decides (its own limit, MAX_NESTING_DEPTH, is higher).
MAX_DEPTH = 64

Coerce = Callable[[Any, int], Any]  # (value, depth) -> coerced value, or Undefined


class VariableCoercion:
    """The coercion of one operation's variables."""

    __slots__ = ("_variables",)

    def __init__(
        self, schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode]
    ) -> None:
        self._variables: list[tuple[str, Any, Coerce, bool]] | None = None
        variables = []
        for definition in definitions:
            signature = get_variable_signature(schema, definition)
            if isinstance(signature, GraphQLError):
                return
            variables.append(
                (
                    signature.name,
                    signature,
                    coercer(signature.type),
                    isinstance(signature.type, GraphQLNonNull)
                    or definition.default_value is not None,
                )
            )
        self._variables = variables

    def __call__(self, inputs: dict[str, Any]) -> VariableValues | None:
        """The coerced variables; None when graphql-core must decide."""
        variables = self._variables
        if variables is None:
            return None
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for name, signature, coerce, needs_value in variables:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if needs_value:  # a default to apply, or an error to word
                    return None
                sources[name] = VariableValueSource(signature)  # omitted, as graphql-core
                continue
            sources[name] = VariableValueSource(signature, value)
            result = coerce(value, 0)
            if result is Undefined:
                return None
            coerced[name] = result
        return VariableValues(sources, coerced)


def coercer(type_: GraphQLInputType) -> Coerce:
    """``coerce_input_value`` for ``type_``, decided now (Undefined: not valid here)."""
    if isinstance(type_, GraphQLNonNull):
        inner = _nullable_coercer(type_.of_type)

        def non_null(value: Any, depth: int) -> Any:
            if value is None or value is Undefined:
                return Undefined
            return inner(value, depth)

        return non_null
    nullable = _nullable_coercer(type_)

    def maybe_null(value: Any, depth: int) -> Any:
        if value is None or value is Undefined:
            return None
        return nullable(value, depth)

    return maybe_null


def _nullable_coercer(type_: Any) -> Coerce:
    if isinstance(type_, GraphQLList):
        return _list_coercer(type_)
    if isinstance(type_, GraphQLInputObjectType):
        return _object_coercer(type_)
    coerce_leaf = assert_leaf_type(type_).coerce_input_value

    def leaf(value: Any, depth: int) -> Any:
        try:
            return coerce_leaf(value)
        except Exception:
            return Undefined

    return leaf


def _list_coercer(type_: GraphQLList[Any]) -> Coerce:
    item: Coerce | None = None

    def coerce_list(value: Any, depth: int) -> Any:
        nonlocal item
        if item is None:  # made at first use: an input type may hold lists of itself
            item = coercer(type_.of_type)
        if depth >= MAX_DEPTH:
            return Undefined
        if not is_iterable(value):
            one = item(value, depth + 1)
            return Undefined if one is Undefined else [one]
        out = []
        for each in value:
            coerced = item(each, depth + 1)
            if coerced is Undefined:
                return Undefined
            out.append(coerced)
        return out

    return coerce_list


def _object_coercer(type_: GraphQLInputObjectType) -> Coerce:
    planned: list[tuple[str, str, Coerce, bool, Any]] | None = None

    def plan() -> list[tuple[str, str, Coerce, bool, Any]]:
        fields = []
        for name, field in type_.fields.items():
            required = is_required_input_field(field)
            default = Undefined if required else coerce_default_value(field)
            fields.append((name, field.out_name or name, coercer(field.type), required, default))
        return fields

    def coerce_object(value: Any, depth: int) -> Any:
        nonlocal planned
        if not isinstance(value, dict) or depth >= MAX_DEPTH:
            return Undefined
        if planned is None:
            planned = plan()
        fields = type_.fields
        given = 0
        for name, field_value in value.items():
            if field_value is Undefined:
                continue
            given += 1
            if name not in fields:
                return Undefined
        out: dict[str, Any] = {}
        for name, out_name, coerce, required, default in planned:
            field_value = value.get(name, Undefined)
            if field_value is Undefined:
                if required:
                    return Undefined
                if default is not Undefined:
                    out[out_name] = default
                continue
            coerced = coerce(field_value, depth + 1)
            if coerced is Undefined:
                return Undefined
            out[out_name] = coerced
        if type_.is_one_of:
            keys = list(out)
            if given != 1 or len(keys) != 1 or out[keys[0]] is None:
                return Undefined
        return type_.out_type(out)

    return coerce_object
