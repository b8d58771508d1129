"""Known operations, run through their plans instead of strawberry's pipeline.

A document is known when the gateway was told of it (the persisted operations manifest:
PERSISTED__MANIFEST) or, with COMPILED__OPERATIONS=all, once it has been asked for. It is
parsed and checked once, against the rules strawberry would check it against (graphql-core's,
the depth, alias and token limits, introspection where it is off); one that fails them, or
that cannot be compiled (resolvers.compiled.plan), is not known and runs through strawberry,
which answers with the errors.

For a known document each request does what strawberry's pipeline does after the checks:
the edge checks of its variables, the cost estimate (refused over the limit), the coercion
of its variables, execution under the request deadline, the logging of unexpected errors,
the error codes, and the cost in extensions; ``answered`` gives the same result strawberry
would have given (tests/graphql/test_compiled.py compares them byte for byte).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from graphql.execution.values import get_variable_values
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperationType

from gateway.deadline import deadline_in
from resolvers.compiled.executor import PlanRun
from resolvers.compiled.plan import OperationPlan, compile_operation
from resolvers.cost import (
    _actual,
    _estimate,
    _Prepared,
    _prepared,
    cost_extension,
    too_costly,
    variables_that_size,
)
from resolvers.deadline import deadline_seconds
from resolvers.schema import GatewaySchema, answered, refused_input

_TYPES = {
    OperationType.QUERY: StrawberryOperationType.QUERY,
    OperationType.MUTATION: StrawberryOperationType.MUTATION,
}


class CompiledOperations:
    def __init__(
        self,
        schema: GatewaySchema,
        documents: Iterable[str] = (),
        *,
        compile_any: bool = False,
        max_entries: int = 512,
    ) -> None:
        self._schema = schema
        self._compile_any = compile_any
        self._max = max_entries
        self._plans: OrderedDict[tuple[str, str | None], OperationPlan | None] = OrderedDict()
        self._known = set(documents)
        # Plans live as long as this object, so their ids are stable keys.
        self._estimates: dict[
            tuple[int, str | None, bytes], tuple[_Prepared | None, int | None]
        ] = {}
        for document in self._known:
            for name in _operation_names(document):
                self.plan_for(document, name)

    @property
    def active(self) -> bool:
        return self._compile_any or bool(self._known)

    def plan_for(self, query: Any, operation_name: Any) -> OperationPlan | None:
        """The plan of this request's operation, or None: it runs through strawberry."""
        if not isinstance(query, str) or not (
            operation_name is None or isinstance(operation_name, str)
        ):
            return None
        key = (query, operation_name)
        if key in self._plans:
            return self._plans[key]
        if not self._compile_any and query not in self._known:
            return None
        plan = self._compile(query, operation_name)
        self._plans[key] = plan
        while len(self._plans) > self._max and self._compile_any:
            self._plans.popitem(last=False)
        return plan

    def _compile(self, query: str, operation_name: str | None) -> OperationPlan | None:
        schema = self._schema
        try:
            document = parse(query, max_tokens=schema.limits.max_tokens)
        except GraphQLError:
            return None
        try:
            if validate_document(schema._schema, document, schema.document_rules):
                return None
        except Exception:  # a rule that breaks on this document: strawberry reports it
            return None
        return compile_operation(schema._schema, document, operation_name)

    def _estimated(
        self, plan: OperationPlan, operation_name: str | None, variables: dict[str, Any] | None
    ) -> tuple[_Prepared | None, int | None]:
        """The cost rules and the estimate of the plan for these variables, remembered: a
        product page asked for another SKU costs the same, and only the variables a list is
        sized by can change it (a reservation's idempotency key cannot)."""
        sizing = plan.sizing_variables
        if sizing is None:
            sizing = plan.sizing_variables = variables_that_size(plan.schema, plan.document)
        given = variables or {}
        try:
            key: bytes | None = orjson.dumps(
                {name: given[name] for name in sizing if name in given},
                option=orjson.OPT_SORT_KEYS,
            )
        except TypeError:  # not JSON (a test's own value): worked out afresh
            key = None
        estimates = plan.estimates
        known = None if key is None else estimates.get(key)
        if known is not None:
            return known
        schema = self._schema
        found = _prepared(
            schema._schema,
            plan.document,
            operation_name,
            variables,
            schema.limits.assumed_list_size,
        )
        requested = None if found is None else _estimate(found.selections, found.root, found.rules)
        if key is not None:
            if len(estimates) >= 256:
                estimates.clear()
            estimates[key] = (found, requested)
        return found, requested

    async def execute(
        self,
        plan: OperationPlan,
        *,
        query: str,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None,
    ) -> ExecutionResult:
        refused = refused_input(query, variables)
        if refused is not None:
            return ExecutionResult(data=None, errors=[refused])
        schema = self._schema
        limits = schema.limits
        found, requested = self._estimated(plan, operation_name, variables)
        too_much = too_costly(requested, limits)
        if too_much is not None:
            data, errors = None, [too_much]
        else:
            given = variables or {}
            planned = None if plan.variables is None else plan.variables(given)
            # None: a default to apply or an error to word, graphql-core's to do.
            coerced = (
                planned
                if planned is not None
                else get_variable_values(
                    schema._schema,
                    plan.operation.variable_definitions or (),
                    given,
                    max_errors=50,
                )
            )
            if isinstance(coerced, list):
                data, errors = None, coerced
            else:
                seconds = deadline_seconds(context, _TYPES.get(plan.operation.operation))
                run = PlanRun(plan, context, coerced)
                with deadline_in(seconds):
                    data = await run.run()
                errors = run.errors.errors
        if errors:
            schema.process_errors(errors)
        actual = None
        if found is not None and data is not None and too_much is None:
            actual = _actual(found.selections, found.root, found.rules, data)
        result = ExecutionResult(
            data=data,
            errors=errors or None,
            extensions=cost_extension(requested, actual, limits),
        )
        return answered(result)


def _operation_names(document: str) -> list[str | None]:
    """The names a request may give this document's operations with (None for the only
    one); a document that does not parse names none (strawberry answers it)."""
    try:
        parsed = parse(document)
    except GraphQLError:
        return []
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    names: list[str | None] = [o.name.value for o in operations if o.name is not None]
    return [None, *names] if len(operations) == 1 else names
