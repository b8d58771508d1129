"""A plan per known document: what graphql-core works out for every request (which fields
each selection set has for each object type, their definitions, nodes, resolvers and the
way each value is completed) worked out once.

A plan is made only for a document that graphql-core would run the same way whatever the
request's variables are: no @skip or @include on a variable, no @defer or @stream, no
fragment variables. Anything else is not compiled (``None``) and runs through strawberry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_variable_values
from strawberry.types.graphql import OperationType as StrawberryOperationType

from resolvers.compiled.variables import VariableCoercion

BACKREF = "strawberry-definition"  # where strawberry keeps a GraphQLField's own field
# Where a GraphQLField keeps its resolver's direct call (resolvers.compiled.direct).
DIRECT = "gateway-direct-resolver"


@dataclass(slots=True)
class FieldPlan:
    """One response key of a selection set, for one parent type."""

    key: str
    name: str
    details: list[FieldDetails]
    nodes: list[FieldNode]
    parent: GraphQLObjectType
    definition: GraphQLField | None  # None: __typename
    completion: Completion | None
    resolve: Callable[..., Any] | None
    # A field with no resolver of its own (strawberry's "basic field"): its value is read
    # with the type's default resolver, and needs no Info.
    attribute: str | None = None
    read: Callable[[Any, str], Any] | None = None
    has_arguments: bool = False
    # Whether resolving or completing it needs a GraphQLResolveInfo.
    needs_info: bool = True


@dataclass(slots=True)
class Completion:
    """How a resolved value of ``type`` becomes part of the answer."""

    type: GraphQLOutputType
    kind: str  # "non_null", "list", "leaf", "object", "abstract"
    inner: Completion | None = None
    # object: the selection set's fields; abstract: per runtime type, made when first met.
    fields: list[FieldPlan] | None = None
    by_runtime_type: dict[str, list[FieldPlan]] = field(default_factory=dict)
    details: list[FieldDetails] | None = None


class _Refusal(Exception):
    """The document cannot be compiled (it runs through strawberry)."""


@dataclass(slots=True)
class OperationPlan:
    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    root: GraphQLObjectType
    fields: list[FieldPlan]
    _collect: Callable[[GraphQLObjectType, list[FieldDetails]], list[FieldPlan]]
    # The cost rules and estimate per request's variables (resolvers.compiled.operations).
    estimates: dict[bytes, tuple[Any, int | None]] = field(default_factory=dict)
    # The variables its cost estimate depends on (resolvers.cost), found at first use.
    sizing_variables: frozenset[str] | None = None
    # Its variables' coercion, made once (resolvers.compiled.variables).
    variables: VariableCoercion | None = None

    @property
    def is_mutation(self) -> bool:
        return self.operation.operation is OperationType.MUTATION

    @property
    def operation_type(self) -> StrawberryOperationType:
        return StrawberryOperationType(self.operation.operation.value)

    def runtime_fields(self, completion: Completion, runtime: GraphQLObjectType) -> list[FieldPlan]:
        known = completion.by_runtime_type.get(runtime.name)
        if known is None:
            assert completion.details is not None
            known = completion.by_runtime_type[runtime.name] = self._collect(
                runtime, completion.details
            )
        return known


def _varying(document: DocumentNode) -> bool:
    """Whether graphql-core's field collection could differ from request to request."""
    found = False

    class Finder(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> None:
            nonlocal found
            name = node.name.value
            if name in ("defer", "stream") or (
                name in ("skip", "include")
                and any(isinstance(a.value, VariableNode) for a in node.arguments or ())
            ):
                found = True

        def enter_fragment_definition(self, node: Any, *_: Any) -> None:
            nonlocal found
            if getattr(node, "variable_definitions", None):
                found = True

    visit(document, Finder())
    return found


def compile_operation(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> OperationPlan | None:
    """The plan of a parsed, validated document's operation; None if it is not compiled."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is OperationType.SUBSCRIPTION:
        return None
    if _varying(document):
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    fragment_definitions = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fragments = {name: FragmentDetails(d, None) for name, d in fragment_definitions.items()}
    # Collection reads variables only for @skip / @include, which use none here.
    no_variables = get_variable_values(schema, (), {})
    assert not isinstance(no_variables, list)

    def collect(parent: GraphQLObjectType, details: list[FieldDetails]) -> list[FieldPlan]:
        grouped, _defers, _forbidden = collect_subfields(
            schema, fragments, no_variables, operation, parent, details
        )
        return [field_plan(parent, key, group) for key, group in grouped.items()]

    def completion_of(type_: GraphQLOutputType, details: list[FieldDetails]) -> Completion:
        if is_non_null_type(type_):
            assert isinstance(type_, GraphQLNonNull)
            return Completion(type_, "non_null", completion_of(type_.of_type, details))
        if is_list_type(type_):
            assert isinstance(type_, GraphQLList)
            return Completion(type_, "list", completion_of(type_.of_type, details))
        if is_leaf_type(type_):
            return Completion(type_, "leaf")
        if is_abstract_type(type_):
            return Completion(type_, "abstract", details=details)
        if is_object_type(type_):
            assert isinstance(type_, GraphQLObjectType)
            return Completion(type_, "object", fields=collect(type_, details), details=details)
        raise _Refusal(f"unexpected output type {type_}")

    def field_plan(parent: GraphQLObjectType, key: str, details: list[FieldDetails]) -> FieldPlan:
        first = details[0].node
        name = first.name.value
        nodes = [d.node for d in details]
        if name == "__typename":
            return FieldPlan(key, name, details, nodes, parent, None, None, None)
        if name.startswith("__"):
            raise _Refusal("introspection runs through strawberry")
        definition = parent.fields.get(name)
        if definition is None:
            raise _Refusal(f"{parent.name}.{name} is not a field")
        plan = FieldPlan(
            key,
            name,
            details,
            nodes,
            parent,
            definition,
            completion_of(definition.type, details),
            (definition.extensions or {}).get(DIRECT) or definition.resolve,
            has_arguments=bool(definition.args or first.arguments),
        )
        own = (definition.extensions or {}).get(BACKREF)
        if getattr(definition.resolve, "_is_default", False) and own is not None:
            plan.attribute = own.python_name
            plan.read = own.default_resolver
            plan.needs_info = _needs_info(plan.completion)
        return plan

    try:
        grouped, _defers, _forbidden = collect_fields(
            schema, fragments, no_variables, root, operation
        )
        fields = [field_plan(root, key, group) for key, group in grouped.items()]
    except _Refusal:
        return None
    plan = OperationPlan(
        schema, document, operation, fragment_definitions, fragments, root, fields, collect
    )
    plan.variables = VariableCoercion(schema, operation.variable_definitions or ())
    return plan


def _needs_info(completion: Completion | None) -> bool:
    """Whether completing a value calls something that takes the field's info (an object
    type's is_type_of, an abstract type's resolve_type), directly or in its lists."""
    while completion is not None:
        if completion.kind == "abstract":
            return True
        if completion.kind == "object":
            return bool(getattr(completion.type, "is_type_of", None))
        completion = completion.inner
    return False


def leaf_type(completion: Completion) -> GraphQLLeafType:
    assert isinstance(completion.type, GraphQLLeafType)
    return completion.type


def abstract_type(completion: Completion) -> GraphQLAbstractType:
    return completion.type  # type: ignore[return-value]
