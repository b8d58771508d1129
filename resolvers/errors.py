"""GraphQL errors: expected failures carry ``extensions.code``; anything else is masked."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from gateway.errors import GatewayError

UNEXPECTED_MESSAGE = "Unexpected error. It has been logged."


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_client_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        extensions: dict[str, Any] = {"code": original.code}
        extensions.update({_camel(k): v for k, v in original.details.items() if v is not None})
        return GraphQLError(
            original.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            original_error=None,
            extensions=extensions,
        )
    if original is None:
        # graphql-core's own errors: syntax, validation, variable coercion. Safe to show.
        code = (
            "GRAPHQL_PARSE_FAILED"
            if error.message.startswith("Syntax Error")
            else (
                "BAD_USER_INPUT"
                if error.message.startswith("Variable")
                else "GRAPHQL_VALIDATION_FAILED"
            )
        )
        return GraphQLError(
            error.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
    return GraphQLError(
        UNEXPECTED_MESSAGE,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )
