"""The Square client and the one way every Square module calls it: Bearer token and pinned
Square-Version on each request, the shared retry policy, and Square's error envelope mapped
to the project's typed errors."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http import RETRYABLE_STATUSES, build_client, default_error, json_body, send
from adapters.resilience.policy import BackendPolicy
from gateway.config import Settings
from gateway.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable

BACKEND = "square"


def build_square_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one Square client: Bearer token and the pinned Square-Version on every call."""
    headers = {
        "Authorization": f"Bearer {settings.square_access_token}",
        "Square-Version": settings.square_version,
        "Accept": "application/json",
    }
    return build_client(
        settings, settings.square_base_url, backend=BACKEND, headers=headers, transport=transport
    )


class SquareApi:
    """JSON in, JSON object out, or a typed error."""

    def __init__(
        self, client: httpx.AsyncClient, *, max_retries: int, policy: BackendPolicy | None = None
    ) -> None:
        self._client = client
        self._policy = policy or BackendPolicy(BACKEND)
        self._max_retries = max_retries

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await send(
            self._policy,
            lambda: self._client.request(method, path, **kwargs),
            parse_error,
            max_retries=self._max_retries,
        )
        body = json_body(response)
        if not isinstance(body, dict):
            raise BackendUnavailable(
                f"{BACKEND} answered {path} with a body that is not a JSON object",
                backend=BACKEND,
                status=response.status_code,
            )
        if dicts(body.get("errors")):
            # Bulk endpoints may answer 200 with errors in the body.
            raise parse_error(response)
        return body


def parse_error(response: httpx.Response) -> BackendError:
    """Square's {errors: [{category, code, detail, field}]}: the first error decides."""
    body = json_body(response)
    errors = dicts(body.get("errors")) if isinstance(body, dict) else []
    if not errors:
        return default_error(BACKEND, response)
    first = errors[0]
    status = response.status_code
    code = first.get("code") if isinstance(first.get("code"), str) else None
    category = first.get("category")
    detail = first.get("detail") or code or f"HTTP {status}"
    message = f"{BACKEND}: {detail}"
    details = {"category": category, "field": first.get("field")}
    kind: type[BackendError]
    if status in (401, 403) or category == "AUTHENTICATION_ERROR":
        kind = BackendAuthError
    elif status in RETRYABLE_STATUSES or status >= 500 or category == "RATE_LIMIT_ERROR":
        kind = BackendUnavailable
    else:
        kind = BackendRejected
    return kind(message, backend=BACKEND, status=status, backend_code=code, **details)


def dict_of(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def dicts(raw: Any) -> list[dict[str, Any]]:
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
