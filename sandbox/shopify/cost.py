"""Calculated query cost and the leaky bucket behind ``extensions.cost``.

Shopify charges the *requested* cost up front (from the document alone), refunds the
difference once the *actual* cost is known, and refills the bucket at ``restoreRate`` points
a second. A request whose requested cost the bucket cannot cover is THROTTLED and runs
nothing; one above the single-query maximum (1000) is refused outright.

The point values are the simulator's simplification of Shopify's published rules: an object
costs 1, a scalar or enum 0, a connection 2 plus ``first`` plus its children (Shopify
multiplies nested connections; the simulator adds, so the contract's larger documents stay
under the 1000-point ceiling as they do on Shopify), and a mutation 10. The figures will not
equal Shopify's to the point; the shape and the throttling behaviour do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql.type.definition import GraphQLInterfaceType

MAX_QUERY_COST = 1000
MUTATION_COST = 10
DEFAULT_PAGE = 10


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables

    def requested(self, operation: OperationDefinitionNode) -> int:
        if operation.operation.value == "mutation":
            return MUTATION_COST * len(operation.selection_set.selections)
        root = self._schema.query_type
        assert root is not None
        return self._selection(root, operation.selection_set)

    def _selection(self, parent: Any, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self._field(parent, node)
            elif isinstance(node, InlineFragmentNode):
                on = parent
                if node.type_condition is not None:
                    on = self._schema.get_type(node.type_condition.name.value) or parent
                total += self._selection(on, node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self._fragments.get(node.name.value)
                if fragment is not None:
                    on = self._schema.get_type(fragment.type_condition.name.value) or parent
                    total += self._selection(on, fragment.selection_set)
        return total

    def _field(self, parent: Any, node: FieldNode) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        children = self._selection(named, node.selection_set)
        if named.name.endswith("Connection"):
            return 2 + self._first(node) + children
        return 1 + children

    def _first(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                found = self._variables.get(value.name.value)
                return found if isinstance(found, int) else DEFAULT_PAGE
        return DEFAULT_PAGE


def actual_cost(data: Any, requested: int, mutation: bool) -> int:
    """What the answer really cost: the objects it holds, never more than requested."""
    if mutation:
        return min(requested, MUTATION_COST)
    return max(1, min(requested, _objects(data)))


def _objects(value: Any) -> int:
    if isinstance(value, dict):
        own = 0 if set(value) <= {"nodes", "edges", "pageInfo"} else 1
        return own + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


class Bucket:
    """The leaky bucket per app and store."""

    def __init__(
        self,
        maximum: float = 2000.0,
        restore_rate: float = 100.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._monotonic = monotonic
        self._available = maximum
        self._at = monotonic()

    def _refill(self) -> None:
        now = self._monotonic()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def take(self, requested: int) -> bool:
        """Charge ``requested`` if the bucket holds it; False means THROTTLED."""
        self._refill()
        if requested > self._available:
            return False
        self._available -= requested
        return True

    def refund(self, points: float) -> None:
        self._available = min(self.maximum, self._available + points)

    def drain(self, points: float) -> None:
        """Sandbox knob: spend points as another app on the same store would."""
        self._refill()
        self._available = max(0.0, self._available - points)

    def status(self) -> dict[str, float]:
        self._refill()
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": float(round(self._available)),
            "restoreRate": float(self.restore_rate),
        }
