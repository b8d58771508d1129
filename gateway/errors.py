"""The project's one exception tree.

    GatewayError                      every expected failure; carries a machine-readable ``code``
    ├── NotFound                      NOT_FOUND: no such product, location, barcode
    ├── BadUserInput                  BAD_USER_INPUT: the request itself is wrong
    │   └── InvalidBarcode            ...a GTIN whose length or check digit is wrong
    ├── InsufficientStock             INSUFFICIENT_STOCK: fewer units free than asked for
    ├── IdempotencyKeyReused          IDEMPOTENCY_KEY_REUSED: same key, different request
    ├── IllegalTransition             ILLEGAL_TRANSITION: the order/hold is not in a state
    │                                 that allows this (e.g. confirm an expired hold)
    └── BackendError                  a backend answered badly or not at all
        ├── BackendUnavailable        BACKEND_UNAVAILABLE: connect/timeout/5xx/429 after retries
        ├── BackendAuthError          BACKEND_AUTH: the backend refused our credentials
        └── BackendRejected           BACKEND_REJECTED: a 4xx the backend meant (validation, ...)

Adapters translate httpx errors and backend error bodies into these at the boundary;
resolvers turn them into GraphQL errors with ``extensions.code``. Anything else is a bug
and is masked before it reaches a client.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(GatewayError):
    code = "NOT_FOUND"


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"


class InvalidBarcode(BadUserInput):
    code = "INVALID_BARCODE"


class InsufficientStock(GatewayError):
    """``shortfalls``: one entry per SKU and node that cannot be filled, with what is
    still available there, so a client can offer that quantity instead."""

    code = "INSUFFICIENT_STOCK"


class IdempotencyKeyReused(GatewayError):
    code = "IDEMPOTENCY_KEY_REUSED"


class IllegalTransition(GatewayError):
    code = "ILLEGAL_TRANSITION"


class BackendError(GatewayError):
    code = "BACKEND_ERROR"

    def __init__(
        self,
        message: str,
        *,
        backend: str,
        status: int | None = None,
        backend_code: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(
            message, backend=backend, status=status, backend_code=backend_code, **details
        )
        self.backend = backend
        self.status = status
        self.backend_code = backend_code


class BackendUnavailable(BackendError):
    code = "BACKEND_UNAVAILABLE"


class BackendAuthError(BackendError):
    code = "BACKEND_AUTH"


class BackendRejected(BackendError):
    code = "BACKEND_REJECTED"
