"""Schema assembly: types, document caches, and the error policy on the way out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
)
from opentelemetry.trace import Tracer
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.execution import PreExecutionError

from gateway.config import QueryLimitSettings
from gateway.errors import BadUserInput, GatewayError
from resolvers import input_builders
from resolvers.admin import AdminMutation, AdminQuery
from resolvers.commerce_queries import CommerceQuery
from resolvers.compiled import direct
from resolvers.cost import OperationCost
from resolvers.deadline import RequestDeadline
from resolvers.error_order import in_answer_order
from resolvers.errors import to_client_error
from resolvers.input_limits import first_problem
from resolvers.mutations import Mutation as CommerceMutation
from resolvers.operations import OperationsQuery
from resolvers.queries import Query as CatalogQuery
from resolvers.subscriptions import Subscription
from resolvers.tracing import OperationSpan
from resolvers.truth import TruthMutation, TruthQuery
from resolvers.types.errors import ERROR_TYPES

Query = merge_types("Query", (CatalogQuery, CommerceQuery, TruthQuery, OperationsQuery, AdminQuery))
Mutation = merge_types("Mutation", (CommerceMutation, TruthMutation, AdminMutation))

logger = logging.getLogger("commerce_gateway.graphql")


class PerEventMemo(StrawberryGraphQLCoreExecutionContext):
    """graphql-core 3.3 runs each event of a subscription on a shallow copy of the
    subscription's executor, so every copy shares the executor's memo of sub-fields per
    object, and each event adds to it for as long as the subscription lives (measured with
    1,000 subscribers: about 3.3 KiB more per subscriber per event, never freed). Each
    event's copy gets a memo of its own, let go with it."""

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor


def refused_input(query: Any, variables: Any) -> GraphQLError | None:
    """BAD_USER_INPUT for a request carrying a string too long or with a NUL byte."""
    found = first_problem(query, variables if isinstance(variables, dict) else None)
    if found is None:
        return None
    message, where = found
    return to_client_error(GraphQLError(message, original_error=BadUserInput(message, field=where)))


def _refused(args: tuple[Any, ...], kwargs: dict[str, Any]) -> GraphQLError | None:
    query = args[0] if args else kwargs.get("query")
    return refused_input(query, args[1] if len(args) > 1 else kwargs.get("variable_values"))


def answered(result: ExecutionResult) -> ExecutionResult:
    """The result as it leaves: every error with an extensions.code, parse and validation
    errors included (unexpected ones masked: they were logged with their trace first), in
    the order of their places in the answer."""
    if result.errors:
        coded = [to_client_error(e) for e in result.errors]
        result.errors = in_answer_order(coded, result.data)
    return result


class GatewaySchema(strawberry.Schema):
    # What a document must pass to run here (graphql-core's rules, the limits, and no
    # introspection where it is off), and the limits: resolvers.compiled checks a known
    # document against the same once.
    document_rules: tuple[type[ASTValidationRule], ...] = ()
    limits: QueryLimitSettings = QueryLimitSettings()

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        refused = _refused(args, kwargs)
        if refused is not None:  # before anything reaches a backend or the database
            return ExecutionResult(data=None, errors=[refused])
        return answered(await super().execute(*args, **kwargs))

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        # What WebSocket subscriptions (and streaming transports) run: the same edge checks
        # and the same error policy as execute.
        refused = _refused(args, kwargs)
        if refused is not None:
            return _once(PreExecutionError(data=None, errors=[refused]))
        return _coded(await super().stream(*args, **kwargs))

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected failures are answers, not incidents: log only the unexpected, with traces.
        for error in errors:
            original = error.original_error
            # A variable that does not fit its type comes with the scalar's complaint as its
            # original error: the request's fault, like every error of no field (no path).
            if error.path is None or isinstance(original, GraphQLError):
                continue
            if original is not None and not isinstance(original, GatewayError):
                logger.error("unexpected error at %s", error.path, exc_info=original)


def build_schema(
    limits: QueryLimitSettings | None = None,
    *,
    tracer: Tracer | None = None,
    introspection: bool = True,
) -> GatewaySchema:
    limits = limits or QueryLimitSettings()
    # __schema and __type refused (GRAPHQL_VALIDATION_FAILED) where introspection is off.
    closed = [] if introspection else [NoSchemaIntrospectionCustomRule]
    # A span per operation, only when tracing is on (gateway.observability.tracing): first,
    # so parsing, validation and the other extensions run inside it.
    traced = [] if tracer is None else [lambda: OperationSpan(tracer)]
    # The depth and alias rules are classes made once here: strawberry's limiters make a new
    # class per instance, and the validation cache is keyed by the rules, so one made per
    # request never hit it (measured: validation was 23 % of an executed product page).
    limit_rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
        *closed,
    ]
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=PerEventMemo,
        # The error codes and each code's extensions: no field returns them, so they are
        # named here to be introspectable.
        types=ERROR_TYPES,
        extensions=[
            *traced,
            # Parsing and validation dominate strawberry's cost for small queries, and a
            # client sends the same few documents over and over. Both caches live at
            # module level, shared by every request.
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            # What one request may ask for, checked before anything runs.
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: AddValidationRules(limit_rules),
            # Its cost, from @cost and @listSize, before it runs (and after, in extensions).
            lambda: OperationCost(limits=limits),
            RequestDeadline,
        ],
    )
    schema.document_rules = (*specified_rules, *limit_rules)
    schema.limits = limits
    converter = schema.schema_converter
    input_builders.install(
        [
            concrete.definition
            for concrete in converter.type_map.values()
            if isinstance(concrete.definition, StrawberryObjectDefinition)
        ],
        converter.scalar_registry,
        schema.config,
    )
    direct.install(schema)
    return schema


async def _once(result: ExecutionResult) -> AsyncIterator[ExecutionResult]:
    yield result


async def _coded(source: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """Each result's errors with their codes (unexpected ones masked), as execute gives."""
    try:
        async for result in source:
            if isinstance(result, ExecutionResult) and result.errors:
                result.errors = [to_client_error(e) for e in result.errors]
            yield result
    finally:
        # A subscription closed by its client ends its resolver too (its feed let go).
        closing = getattr(source, "aclose", None)
        if closing is not None:
            await closing()
