"""Shopify's error shapes: mutation userErrors (HTTP 200) and the HTTP-level errors whose
body is ``{"errors": "<text>"}`` (a string, not the GraphQL list)."""

from __future__ import annotations

from typing import Any

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


class ShopifyHttpError(Exception):
    """An answer that never reached GraphQL: bad token, injected outage, unknown route."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"errors": self.message}


def user_error(field: list[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    """One entry of a mutation's userErrors. ``code`` only exists on the typed user errors
    (OrderCreateUserError, ReturnUserError, ...); the plain UserError type has no such field,
    so GraphQL never renders it there."""
    return {"field": field, "message": message, "code": code}
