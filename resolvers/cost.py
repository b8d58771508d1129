"""What an operation costs: estimated from the document before anything runs, counted from
the answer after, and declared on the schema with the IBM GraphQL cost directives.

    @cost(weight: "5")                        what calling the field costs beyond its type
    @listSize(slicingArguments: ["first"],    how many items a list (or, through
              sizedFields: ["edges"],         sizedFields, a connection's edges) holds:
              assumedSize: 50)                the slicing argument's value, else assumed

The rules, as Shopify's Admin API counts them: a scalar or an enum costs 0, an object 1, a
mutation's root field 10 (its @cost weight when it has one); a list costs its size times
each item and its selection (the slicing argument's value, the length of a list-valued one,
else @listSize's assumedSize, else LIMITS__ASSUMED_LIST_SIZE). The actual cost counts the
items the answer holds. Both are in ``extensions.cost`` (requestedQueryCost,
actualQueryCost, maximumQueryCost); LIMITS__COST_MODE=enforce refuses an operation over
LIMITS__MAX_COST with QUERY_TOO_COSTLY before it runs, ``measure`` only reports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    type_from_ast,
    value_from_ast,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema_directive import Location
from strawberry.types import ExecutionResult

from gateway.config import QueryLimitSettings
from gateway.errors import QueryTooCostly

MUTATION_WEIGHT = 10
# Lists of fulfilment nodes: a retailer's stores and warehouses, assumed this many.
NODES = 50
_BACKREF = "strawberry-definition"


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="What calling this field costs beyond its type (IBM GraphQL cost directive).",
)
class Cost:
    weight: str


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="listSize",
    description="How many items this list, or the listed fields of this connection, hold.",
)
class ListSize:
    assumed_size: int | None = None
    slicing_arguments: list[str] | None = None
    sized_fields: list[str] | None = None
    require_one_slicing_argument: bool = True


def costs(weight: int) -> Cost:
    return Cost(weight=str(weight))


def sliced_by(*arguments: str, edges: bool = False, assumed: int | None = None) -> ListSize:
    """A list sized by ``arguments`` (a connection's edges, with ``edges``)."""
    return ListSize(
        assumed_size=assumed,
        slicing_arguments=list(arguments),
        sized_fields=["edges"] if edges else None,
    )


def assumed(size: int) -> ListSize:
    return ListSize(assumed_size=size)


@dataclass(frozen=True, slots=True)
class _Rules:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    assumed_list_size: int
    # Each selection set's fields, worked out once per request (an answer's list repeats
    # its items' selection set once per item).
    plans: dict[tuple[int, str], list[_Selected]] = field(default_factory=dict)
    # Whether a selection set can count anything at all (see _weighs).
    weighing: dict[tuple[int, str], bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _FieldRule:
    """What the schema says a field costs, read once per field."""

    weight: int
    listed: ListSize | None
    named: GraphQLNamedType
    item: int  # 1 for an object, 0 for a scalar or an enum
    is_list: bool


@dataclass(frozen=True, slots=True)
class _Selected:
    node: FieldNode
    field: GraphQLField
    rule: _FieldRule
    key: str  # the field's name in the answer (its alias, if any)


_RULES: dict[int, tuple[GraphQLField, _FieldRule]] = {}


def _rule(field: GraphQLField, parent: GraphQLObjectType, schema: GraphQLSchema) -> _FieldRule:
    known = _RULES.get(id(field))
    if known is not None and known[0] is field:
        return known[1]
    declared = _directive(field, Cost)
    mutation = schema.mutation_type
    if declared is not None:
        weight = int(declared.weight)
    else:
        weight = MUTATION_WEIGHT if mutation is not None and parent is mutation else 0
    named = get_named_type(field.type)
    rule = _FieldRule(
        weight,
        _directive(field, ListSize),
        named,
        1 if is_composite_type(named) else 0,
        isinstance(get_nullable_type(field.type), GraphQLList),
    )
    _RULES[id(field)] = (field, rule)
    return rule


def _selected(
    selections: SelectionSetNode | None, parent: GraphQLNamedType, rules: _Rules
) -> list[_Selected]:
    if selections is None:
        return []
    key = (id(selections), parent.name)
    plan = rules.plans.get(key)
    if plan is None:
        plan = []
        for node, on in _fields(selections, parent, rules):
            found = on.fields.get(node.name.value)
            if found is None:  # __typename and the introspection fields
                continue
            answer_key = node.alias.value if node.alias else node.name.value
            plan.append(_Selected(node, found, _rule(found, on, rules.schema), answer_key))
        rules.plans[key] = plan
    return plan


def _directive(field: GraphQLField, kind: type) -> Any:
    definition = (field.extensions or {}).get(_BACKREF)
    for directive in getattr(definition, "directives", None) or ():
        if isinstance(directive, kind):
            return directive
    return None


def _fields(
    selections: SelectionSetNode | None, parent: GraphQLNamedType, rules: _Rules
) -> Iterator[tuple[FieldNode, GraphQLObjectType]]:
    """Every field selected on ``parent``, through fragments; on an abstract parent, a
    fragment's fields on the type it names."""
    if selections is None:
        return
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            if isinstance(parent, GraphQLObjectType):
                yield selection, parent
        elif isinstance(selection, InlineFragmentNode):
            on = parent
            if selection.type_condition is not None:
                on = rules.schema.get_type(selection.type_condition.name.value) or parent
            yield from _fields(selection.selection_set, on, rules)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = rules.fragments.get(selection.name.value)
            if fragment is not None:
                on = rules.schema.get_type(fragment.type_condition.name.value) or parent
                yield from _fields(fragment.selection_set, on, rules)


def _size(field: GraphQLField, node: FieldNode, listed: ListSize | None, rules: _Rules) -> int:
    """How many items the list holds, by the document (before it runs)."""
    if listed is not None and listed.slicing_arguments:
        for name in listed.slicing_arguments:
            value = _argument(field, node, name, rules)
            # A variable is read as sent: one no Int can hold is refused when the variables
            # are coerced, and must not make the estimate (it was 2**64 items, and an answer
            # orjson cannot write).
            if isinstance(value, int) and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
                return max(value, 0)
            if isinstance(value, list):
                return len(value)
    if listed is not None and listed.assumed_size is not None:
        return listed.assumed_size
    return rules.assumed_list_size


def _argument(field: GraphQLField, node: FieldNode, name: str, rules: _Rules) -> Any:
    """An argument's value as the request gives it (literally or by a variable), else its
    default in the schema; None when it cannot be told (a malformed value: validation's)."""
    given = next((a for a in node.arguments or () if a.name.value == name), None)
    declared = field.args.get(name)
    if given is None:
        return None if declared is None else declared.default_value
    if isinstance(given.value, VariableNode):
        return rules.variables.get(given.value.name.value)
    if declared is None:
        return None
    value = value_from_ast(given.value, declared.type, dict(rules.variables))
    return None if value is Undefined else value


def _estimate(
    selections: SelectionSetNode | None,
    parent: GraphQLNamedType,
    rules: _Rules,
    sized: Mapping[str, int] | None = None,
) -> int:
    total = 0
    for chosen in _selected(selections, parent, rules):
        node, rule = chosen.node, chosen.rule
        listed = rule.listed
        if listed is not None and listed.sized_fields:
            # A connection: one object, its listed fields sized by the slicing argument.
            size = _size(chosen.field, node, listed, rules)
            inner = _estimate(
                node.selection_set, rule.named, rules, dict.fromkeys(listed.sized_fields, size)
            )
            total += rule.weight + rule.item + inner
            continue
        each = rule.item + _estimate(node.selection_set, rule.named, rules)
        if sized is not None and node.name.value in sized:
            count = sized[node.name.value]
        elif rule.is_list:
            count = _size(chosen.field, node, listed, rules)
        else:
            count = 1
        total += rule.weight + count * each
    return total


def _weighs(selections: SelectionSetNode, parent: GraphQLNamedType, rules: _Rules) -> bool:
    """Whether anything in ``selections`` can count: a set of leaves that cost nothing (a
    pickup row's location: id, name, type) counts 0 in every item, so it is not walked."""
    key = (id(selections), parent.name)
    known = rules.weighing.get(key)
    if known is None:
        known = rules.weighing[key] = any(
            chosen.rule.weight or chosen.rule.item or chosen.node.selection_set is not None
            for chosen in _selected(selections, parent, rules)
        )
    return known


def _actual(
    selections: SelectionSetNode | None, parent: GraphQLNamedType, rules: _Rules, data: Any
) -> int:
    """The same rules over what the answer holds: each list as long as it came back."""
    if not isinstance(data, dict):
        return 0
    total = 0
    for chosen in _selected(selections, parent, rules):
        if chosen.key not in data:
            continue
        rule = chosen.rule
        value = data[chosen.key]
        items = value if isinstance(value, list) else [value]
        subselection = chosen.node.selection_set
        if subselection is not None and not _weighs(subselection, rule.named, rules):
            subselection = None
        counted = 0
        for item in items:
            if item is not None:
                counted += rule.item
                if subselection is not None:
                    counted += _actual(subselection, rule.named, rules, item)
        total += rule.weight + counted
    return total


def variables_that_size(schema: GraphQLSchema, document: DocumentNode) -> frozenset[str]:
    """The variables an estimate of ``document`` can depend on: those inside an argument
    that some listed field of the schema is sized by (its slicing arguments). Every other
    variable leaves the estimate as it is, so it need not be worked out again for them."""
    slicing = {
        name
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType)
        for field in type_.fields.values()
        for name in (getattr(_directive(field, ListSize), "slicing_arguments", None) or ())
    }
    found: set[str] = set()

    class Sizing(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if node.name.value in slicing:
                visit(node.value, Used())

    class Used(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            found.add(node.name.value)

    visit(document, Sizing())
    return frozenset(found)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _rules(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    assumed_list_size: int,
) -> _Rules:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    given = dict(variables or {})
    # A variable left out takes its declared default, as execution would.
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        declared = type_from_ast(schema, definition.type)
        if name not in given and definition.default_value is not None and declared is not None:
            value = value_from_ast(definition.default_value, declared)  # type: ignore[arg-type]
            if value is not Undefined:
                given[name] = value
    return _Rules(schema, fragments, given, assumed_list_size)


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    return {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]


@dataclass(frozen=True, slots=True)
class _Prepared:
    selections: SelectionSetNode
    root: GraphQLObjectType
    rules: _Rules


def _prepared(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    assumed_list_size: int,
) -> _Prepared | None:
    """The operation to count and its rules; None when the document names no one operation."""
    operation = _operation(document, operation_name)
    root = None if operation is None else _root(schema, operation)
    if operation is None or root is None:
        return None
    rules = _rules(schema, document, operation, variables, assumed_list_size)
    return _Prepared(operation.selection_set, root, rules)


def estimated_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    *,
    assumed_list_size: int = 10,
) -> int | None:
    """The operation's cost before it runs; None when the document names no one operation."""
    found = _prepared(schema, document, operation_name, variables, assumed_list_size)
    return None if found is None else _estimate(found.selections, found.root, found.rules)


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    data: Any,
    *,
    assumed_list_size: int = 10,
) -> int | None:
    """What the answer ``data`` cost: each list as long as it came back."""
    found = _prepared(schema, document, operation_name, variables, assumed_list_size)
    return None if found is None else _actual(found.selections, found.root, found.rules, data)


def too_costly(requested: int | None, limits: QueryLimitSettings) -> GraphQLError | None:
    """The refusal of an operation estimated above the limit (when enforcing), or None."""
    if limits.cost_mode != "enforce" or requested is None or requested <= limits.max_cost:
        return None
    refused = QueryTooCostly(
        f"this operation would cost {requested} points; at most {limits.max_cost} may run "
        "at once (ask for fewer items with first, or split it)",
        requested_query_cost=requested,
        maximum_query_cost=limits.max_cost,
    )
    return GraphQLError(refused.message, original_error=refused)


def cost_extension(
    requested: int | None, actual: int | None, limits: QueryLimitSettings
) -> dict[str, Any]:
    """What ``extensions`` says of an operation's cost."""
    if requested is None:
        return {}
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "maximumQueryCost": limits.max_cost,
        }
    }


class OperationCost(SchemaExtension):
    """Estimates before execution (refusing over the limit when enforcing) and reports both
    figures in ``extensions.cost``."""

    def __init__(self, *, limits: QueryLimitSettings) -> None:
        self._limits = limits
        self._requested: int | None = None
        self._actual: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        limits = self._limits
        # One set of rules for both counts: the estimate's worked-out selections serve the
        # count of the answer too.
        found = (
            None
            if document is None
            else _prepared(
                context.schema._schema,
                document,
                context.operation_name,
                context.variables,
                limits.assumed_list_size,
            )
        )
        if found is not None:
            self._requested = _estimate(found.selections, found.root, found.rules)
        refused = too_costly(self._requested, limits)
        if refused is not None:
            context.result = ExecutionResult(data=None, errors=[refused])
            yield
            return
        yield
        result = context.result
        if found is not None and result is not None and result.data is not None:
            self._actual = _actual(found.selections, found.root, found.rules, result.data)

    def get_results(self) -> dict[str, Any]:
        return cost_extension(self._requested, self._actual, self._limits)
