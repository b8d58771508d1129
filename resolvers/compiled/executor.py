"""Runs an operation plan (resolvers.compiled.plan) as graphql-core's executor runs the
document: the same resolvers with the same arguments, the same completion of every value
(null checks, lists, leaf serialisation, abstract and object types), the same errors at
the same paths with the same messages, nulls propagated to the same parents.

What it leaves out is what a known document does not need per request: collecting fields
(the plan has them), building an Info (and a Path) for a field strawberry reads as a plain
attribute, middleware (there is none when traces are off), incremental delivery and abort
signals (the compiled path is not used for @defer / @stream).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard, cast

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    located_error,
)
from graphql.execution.executor import CollectedErrors, invalid_return_type_error
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, Undefined, gather_with_cancel, inspect, is_iterable
from strawberry.execution.is_awaitable import optimized_is_awaitable

from resolvers.compiled.plan import Completion, FieldPlan, OperationPlan, abstract_type

Data = dict[str, Any]
# strawberry's test for awaitables, as it passes it to graphql-core.
is_awaitable = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)
# What a resolver may use to gather or track work of its own (graphql-core's helpers do
# the same, bound to its executor's bookkeeping, which this path does not keep).
_HELPERS = GraphQLResolveInfoHelpers(
    gather=lambda awaitables: gather_with_cancel(*awaitables), track=lambda _values: None
)


class PlanRun:
    """One request's run of a plan."""

    __slots__ = ("_context", "_plan", "_schema", "_variables", "errors")

    def __init__(self, plan: OperationPlan, context: Any, variables: VariableValues) -> None:
        self._plan = plan
        self._schema: GraphQLSchema = plan.schema
        self._context = context
        self._variables = variables
        self.errors = CollectedErrors()

    # -- operation -------------------------------------------------------------------

    async def run(self) -> Data | None:
        plan = self._plan
        try:
            if plan.is_mutation:
                data: Any = {}
                for field in plan.fields:
                    value = self._execute_field(
                        plan.root, None, field, Path(None, field.key, plan.root.name)
                    )
                    if is_awaitable(value):
                        value = await value
                    data[field.key] = value
            else:
                data = self._execute_fields(plan.root, None, None, plan.fields)
                if is_awaitable(data):
                    data = await data
        except GraphQLError as error:
            self.errors.add(error, None)
            return None
        return data

    # -- fields ----------------------------------------------------------------------

    def _execute_fields(
        self, parent: GraphQLObjectType, source: Any, path: Path | None, fields: list[FieldPlan]
    ) -> Data | Awaitable[Data]:
        results: Data = {}
        awaiting: list[str] = []
        try:
            for field in fields:
                if field.definition is None:  # __typename
                    results[field.key] = parent.name
                    continue
                if field.needs_info:
                    result = self._execute_field(
                        parent, source, field, Path(path, field.key, parent.name)
                    )
                else:
                    result = self._read_attribute(source, field, path)
                results[field.key] = result
                if is_awaitable(result):
                    awaiting.append(field.key)
        except Exception:
            if awaiting:
                _settle([results[key] for key in awaiting])
            raise
        if not awaiting:
            return results

        async def gathered() -> Data:
            if len(awaiting) == 1:
                key = awaiting[0]
                results[key] = await results[key]
            else:
                values = await gather_with_cancel(*(results[key] for key in awaiting))
                results.update(zip(awaiting, values, strict=True))
            return results

        return gathered()

    def _read_attribute(self, source: Any, field: FieldPlan, path: Path | None) -> Any:
        """A basic field: its attribute, completed without an Info (leaf or plain object)."""
        assert field.read is not None and field.attribute is not None
        try:
            result = field.read(source, field.attribute)
            if is_awaitable(result):
                return self._complete_awaitable(
                    field, None, Path(path, field.key, field.parent.name), result
                )
            completed = self._complete(field, field.completion, None, path, field.key, result)
            if is_awaitable(completed):
                return self._await_completed(
                    field, field.completion, Path(path, field.key, field.parent.name), completed
                )
            return completed
        except Exception as raw:
            self._field_error(
                raw, field, field.completion, Path(path, field.key, field.parent.name)
            )
            return None

    def _execute_field(
        self, parent: GraphQLObjectType, source: Any, field: FieldPlan, path: Path
    ) -> Any:
        definition = field.definition
        assert definition is not None
        info = self._info(field, path)
        try:
            if field.read is not None and field.attribute is not None:
                result = field.read(source, field.attribute)
            else:
                args = (
                    get_argument_values(definition, field.details[0].node, self._variables)
                    if field.has_arguments
                    else {}
                )
                resolve = field.resolve
                result = (
                    resolve(source, info, **args)
                    if resolve is not None
                    else getattr(source, field.name, None)
                )
            if is_awaitable(result):
                return self._complete_awaitable(field, info, path, result)
            completed = self._complete(
                field, field.completion, info, path.prev, path.key, result, path
            )
            if is_awaitable(completed):
                return self._await_completed(field, field.completion, path, completed)
        except Exception as raw:
            self._field_error(raw, field, field.completion, path)
            return None
        return completed

    def _info(self, field: FieldPlan, path: Path) -> GraphQLResolveInfo:
        plan = self._plan
        definition = field.definition
        assert definition is not None
        return GraphQLResolveInfo(
            field.name,
            field.nodes,
            definition.type,
            field.parent,
            path,
            self._schema,
            plan.fragment_definitions,
            None,
            plan.operation,
            self._variables,
            self._context,
            is_awaitable,
            None,
            _HELPERS,
        )

    async def _complete_awaitable(
        self, field: FieldPlan, info: GraphQLResolveInfo | None, path: Path, result: Any
    ) -> Any:
        try:
            resolved = await result
            completed = self._complete(
                field, field.completion, info, path.prev, path.key, resolved, path
            )
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw:
            self._field_error(raw, field, field.completion, path)
            completed = None
        return completed

    async def _await_completed(
        self, field: FieldPlan, completion: Completion | None, path: Path, completed: Any
    ) -> Any:
        """A completion that had to wait (a field's, or a list item's with ``completion``)."""
        try:
            return await completed
        except Exception as raw:
            self._field_error(raw, field, completion, path)
            return None

    def _field_error(
        self, raw: Exception, field: FieldPlan, completion: Completion | None, path: Path
    ) -> None:
        error = located_error(raw, field.nodes, path.as_list())
        if completion is not None and completion.kind == "non_null":
            raise error
        self.errors.add(error, path)

    # -- completion ------------------------------------------------------------------

    def _complete(
        self,
        field: FieldPlan,
        completion: Completion | None,
        info: GraphQLResolveInfo | None,
        parent_path: Path | None,
        key: str | int,
        result: Any,
        path: Path | None = None,
    ) -> Any:
        """graphql-core's complete_value. ``path`` is made from ``parent_path`` and ``key``
        only where a list or an object needs it."""
        assert completion is not None
        if isinstance(result, Exception):
            raise result
        kind = completion.kind
        if kind == "non_null":
            inner = completion.inner
            assert inner is not None
            if inner.kind == "leaf" and result is not None and result is not Undefined:
                # Most fields: a non-null leaf with a value, coerced here rather than in a
                # second call (a leaf coerced to null is refused below either way).
                coerced = inner.type.coerce_output_value(result)  # type: ignore[union-attr]
                if coerced is Undefined or coerced is None:
                    raise _null_leaf(inner, result, coerced)
                return coerced
            completed = self._complete(field, inner, info, parent_path, key, result, path)
            if completed is None:
                raise TypeError(
                    f"Cannot return null for non-nullable field {field.parent}.{field.name}."
                )
            return completed
        if result is None or result is Undefined:
            return None
        if kind == "leaf":
            coerced = completion.type.coerce_output_value(result)  # type: ignore[union-attr]
            if coerced is Undefined or coerced is None:
                raise _null_leaf(completion, result, coerced)
            return coerced
        if path is None:
            path = Path(parent_path, key, field.parent.name if isinstance(key, str) else None)
        if kind == "list":
            return self._complete_list(field, completion, info, path, result)
        if kind == "abstract":
            return self._complete_abstract(field, completion, info, path, result)
        return self._complete_object(field, completion, info, path, result)

    def _complete_list(
        self,
        field: FieldPlan,
        completion: Completion,
        info: GraphQLResolveInfo | None,
        path: Path,
        items: Any,
    ) -> Any:
        if not is_iterable(items):
            raise GraphQLError(
                f"Expected Iterable, but did not find one for field '{field.parent}.{field.name}'."
            )
        item_completion = completion.inner
        assert item_completion is not None
        completed: list[Any] = []
        awaiting: list[int] = []
        for index, item in enumerate(items):
            item_path = path.add_key(index, None)
            if is_awaitable(item):
                completed.append(
                    self._complete_awaitable_item(field, item_completion, info, item_path, item)
                )
                awaiting.append(index)
                continue
            try:
                value = self._complete(field, item_completion, info, path, index, item, item_path)
                if is_awaitable(value):
                    completed.append(
                        self._await_completed(field, item_completion, item_path, value)
                    )
                    awaiting.append(index)
                    continue
                completed.append(value)
            except Exception as raw:
                self._field_error(raw, field, item_completion, item_path)
                completed.append(None)
        if not awaiting:
            return completed

        async def gathered() -> list[Any]:
            if len(awaiting) == 1:
                completed[awaiting[0]] = await completed[awaiting[0]]
            else:
                values = await gather_with_cancel(*(completed[i] for i in awaiting))
                for index, value in zip(awaiting, values, strict=True):
                    completed[index] = value
            return completed

        return gathered()

    async def _complete_awaitable_item(
        self,
        field: FieldPlan,
        completion: Completion,
        info: GraphQLResolveInfo | None,
        path: Path,
        item: Any,
    ) -> Any:
        try:
            resolved = await item
            completed = self._complete(field, completion, info, path.prev, path.key, resolved, path)
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw:
            self._field_error(raw, field, completion, path)
            return None
        return completed

    def _complete_abstract(
        self,
        field: FieldPlan,
        completion: Completion,
        info: GraphQLResolveInfo | None,
        path: Path,
        result: Any,
    ) -> Any:
        abstract = abstract_type(completion)
        assert info is not None and abstract.resolve_type is not None
        runtime_name = abstract.resolve_type(result, info, abstract)
        if is_awaitable(runtime_name):

            async def resolved() -> Any:
                runtime = self._runtime_type(field, completion, await runtime_name, result)
                value = self._complete_object(field, completion, info, path, result, runtime)
                return await value if is_awaitable(value) else value

            return resolved()
        runtime = self._runtime_type(field, completion, runtime_name, result)
        return self._complete_object(field, completion, info, path, result, runtime)

    def _runtime_type(
        self, field: FieldPlan, completion: Completion, name: Any, result: Any
    ) -> GraphQLObjectType:
        abstract = abstract_type(completion)
        where = f"{field.parent}.{field.name}"
        if name is None:
            message = (
                f"Abstract type '{abstract}' must resolve to an Object type at runtime"
                f" for field '{where}'. Either the '{abstract}' type should provide"
                " a 'resolve_type' function or each possible type should provide"
                " an 'is_type_of' function."
            )
            raise GraphQLError(message, field.nodes)
        if not isinstance(name, str):
            message = (
                f"Abstract type '{abstract}' must resolve to an Object type at runtime"
                f" for field '{where}' with value {inspect(result)}, received"
                f" '{inspect(name)}', which is not a valid Object type name."
            )
            raise GraphQLError(message, field.nodes)
        runtime = self._schema.get_type(name)
        if runtime is None:
            message = (
                f"Abstract type '{abstract}' was resolved to a type '{name}'"
                " that does not exist inside the schema."
            )
            raise GraphQLError(message, field.nodes)
        if not isinstance(runtime, GraphQLObjectType):
            raise GraphQLError(
                f"Abstract type '{abstract}' was resolved to a non-object type '{name}'.",
                field.nodes,
            )
        if not self._schema.is_sub_type(abstract, runtime):
            raise GraphQLError(
                f"Runtime Object type '{runtime}' is not a possible type for '{abstract}'.",
                field.nodes,
            )
        return runtime

    def _complete_object(
        self,
        field: FieldPlan,
        completion: Completion,
        info: GraphQLResolveInfo | None,
        path: Path,
        result: Any,
        runtime: GraphQLObjectType | None = None,
    ) -> Any:
        object_type = runtime or completion.type
        assert isinstance(object_type, GraphQLObjectType)
        fields = (
            completion.fields if runtime is None else self._plan.runtime_fields(completion, runtime)
        )
        assert fields is not None
        if object_type.is_type_of:
            assert info is not None
            matches = object_type.is_type_of(result, info)
            if is_awaitable(matches):

                async def checked() -> Any:
                    if not await matches:
                        raise invalid_return_type_error(object_type, result, field.details)
                    value = self._execute_fields(object_type, result, path, fields)
                    return (await value) if is_awaitable(value) else value

                return checked()
            if not matches:
                raise invalid_return_type_error(object_type, result, field.details)
        return self._execute_fields(object_type, result, path, fields)


def _null_leaf(completion: Completion, result: Any, coerced: Any) -> TypeError:
    """graphql-core's complete_leaf_value's error: a leaf coerced to nothing."""
    return TypeError(
        f"Expected `{inspect(completion.type)}.coerce_output_value("
        f"{inspect(result)})` to return non-nullable value, returned:"
        f" {inspect(coerced)}"
    )


def _settle(awaitables: list[Any]) -> None:
    """Close coroutines never awaited (a sibling raised first), as graphql-core's settling
    does, so none is left un-awaited."""
    for awaitable in awaitables:
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()
