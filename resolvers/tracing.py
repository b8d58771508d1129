"""One span per GraphQL operation, when tracing is on (gateway.observability.tracing).

Named as the OpenTelemetry GraphQL conventions name it (``query ProductPage``), with the
operation's type and name, the caller's roles, and the codes of the errors it answered
with (the span is an error when one of them is the gateway's or a backend's failure). The
backend calls and SQL statements the operation makes are its children. Not a span per
field as strawberry's OpenTelemetryExtension makes: a product page resolves hundreds of
fields, and a span each would cost more than the page. Beneath it, a span for each root
field and for the few fields that do real work of their own (``NOTED``: a product's
availability, an order's routing decision), so a trace shows which part of an operation
its time went to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from inspect import isawaitable
from typing import Any

from graphql import GraphQLResolveInfo
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, Tracer
from strawberry.extensions import SchemaExtension

from resolvers.errors import to_client_error

# Fields below the root whose resolvers read backends or decide: each gets a span.
NOTED = frozenset({"Product.availability", "Order.routing", "Product.webListing"})


class OperationSpan(SchemaExtension):
    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        name = f"{info.parent_type.name}.{info.field_name}"
        if info.path.prev is not None and name not in NOTED:
            return _next(root, info, *args, **kwargs)
        return self._traced(name, _next, root, info, *args, **kwargs)

    async def _traced(
        self, name: str, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        with self._tracer.start_as_current_span(name) as span:
            span.set_attribute("graphql.field.path", ".".join(map(str, info.path.as_list())))
            result = _next(root, info, *args, **kwargs)
            if isawaitable(result):
                result = await result
            return result

    def on_operation(self) -> Iterator[None]:
        span = self._tracer.start_span("graphql")
        # Current while the operation runs, so the backend and SQL spans are its children.
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            self._describe(span)
            otel_context.detach(token)
            span.end()

    def _describe(self, span: trace.Span) -> None:
        execution = self.execution_context
        name = execution.operation_name
        try:
            kind = execution.operation_type.value
        except RuntimeError:  # the document did not parse
            kind = None
        span.update_name(" ".join(part for part in (kind, name) if part) or "graphql")
        if kind is not None:
            span.set_attribute("graphql.operation.type", kind)
        if name is not None:
            span.set_attribute("graphql.operation.name", name)
        principal = getattr(execution.context, "principal", None)
        if principal is not None:
            span.set_attribute("gateway.principal.roles", sorted(principal.roles))
        result = execution.result
        errors = (result.errors if result is not None else None) or execution.pre_execution_errors
        if errors:
            codes = sorted(
                {str((to_client_error(e).extensions or {}).get("code", "")) for e in errors}
            )
            span.set_attribute("graphql.error.codes", codes)
            # A failure of the gateway or a backend; a caller's mistake (NOT_FOUND,
            # FORBIDDEN, a bad argument) is an answer, and would only dim the dashboards.
            failed = [c for c in codes if c == "INTERNAL_SERVER_ERROR" or c.startswith("BACKEND_")]
            if failed:
                span.set_status(Status(StatusCode.ERROR, ", ".join(failed)))
