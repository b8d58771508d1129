"""Every GraphQL request runs under a deadline (gateway.deadline) that each backend call it
makes respects, retries included: REQUEST_DEADLINE__QUERY_SECONDS for queries,
REQUEST_DEADLINE__MUTATION_SECONDS for mutations (a mutation's backend write may queue
instead, so it may wait longer). A subscription's events are not bounded here."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from gateway.deadline import deadline_in


class RequestDeadline(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        services = getattr(context.context, "services", None)
        if services is None:  # a schema run without the gateway's context (a test's)
            yield
            return
        deadlines = services.settings.request_deadline
        seconds = {
            OperationType.QUERY: deadlines.query_seconds,
            OperationType.MUTATION: deadlines.mutation_seconds,
        }.get(context.operation_type)
        with deadline_in(seconds):
            yield
