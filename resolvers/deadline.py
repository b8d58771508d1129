"""Every GraphQL request runs under a deadline (gateway.deadline) that each backend call it
makes respects, retries included: REQUEST_DEADLINE__QUERY_SECONDS for queries,
REQUEST_DEADLINE__MUTATION_SECONDS for mutations (a mutation's backend write may queue
instead, so it may wait longer). A subscription's events are not bounded here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from gateway.deadline import deadline_in


def deadline_seconds(context: Any, operation_type: OperationType | None) -> float | None:
    """The deadline of an operation of this type, for a request with this context."""
    services = getattr(context, "services", None)
    if services is None or operation_type is None:  # a test's schema, without the gateway
        return None
    deadlines = services.settings.request_deadline
    return {
        OperationType.QUERY: deadlines.query_seconds,
        OperationType.MUTATION: deadlines.mutation_seconds,
    }.get(operation_type)


class RequestDeadline(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        with deadline_in(deadline_seconds(context.context, context.operation_type)):
            yield
