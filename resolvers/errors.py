"""GraphQL errors: expected failures carry ``extensions.code``; anything else is masked."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from gateway.errors import ErrorCode, GatewayError

UNEXPECTED_MESSAGE = "Unexpected error. It has been logged."


def wire_key(name: str) -> str:
    """A detail's key as ``extensions`` carries it: ``backend_code`` -> ``backendCode``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_client_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        extensions: dict[str, Any] = {"code": original.code.value}
        extensions.update({wire_key(k): v for k, v in original.details.items() if v is not None})
        return GraphQLError(
            original.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            original_error=None,
            extensions=extensions,
        )
    if original is None or _is_variable_coercion(error):
        # graphql-core's own errors: syntax, validation, variable coercion; and the query
        # limits' (resolvers/schema.py). Safe to show.
        code = _code_of(error.message)
        return GraphQLError(
            error.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            extensions={**(error.extensions or {}), "code": code.value},
        )
    return GraphQLError(
        UNEXPECTED_MESSAGE,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value},
    )


def _code_of(message: str) -> ErrorCode:
    """The code of an error graphql-core or a strawberry limit raised, by what it says."""
    if "tokens. Parsing aborted" in message:
        return ErrorCode.TOO_MANY_TOKENS
    if message.startswith("Syntax Error"):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if message.startswith("Variable"):
        return ErrorCode.BAD_USER_INPUT
    if "exceeds maximum operation depth of" in message:
        return ErrorCode.QUERY_TOO_DEEP
    if "aliases found. Allowed:" in message:
        return ErrorCode.TOO_MANY_ALIASES
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


def _is_variable_coercion(error: GraphQLError) -> bool:
    """A variable's value that does not fit its declared type: graphql-core reports it
    before anything runs (no path), with the scalar's own complaint as original_error."""
    return error.path is None and error.message.startswith("Variable '$")
