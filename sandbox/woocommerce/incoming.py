"""What every endpoint reads from a request: the authenticated user, the API base the client
called, and the parameters as WP_REST_Request merges them."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from sandbox.woocommerce.payloads import API_PATH
from sandbox.woocommerce.wire import WPError, parse_query


def require_user(request: Request, code: str, message: str) -> None:
    """The endpoint's permission check: anonymous requests get ``code`` with a 401."""
    if not request.scope.get("state", {}).get("wc_user"):
        raise WPError(code, message, 401)


def api_base(request: Request) -> str:
    host = request.headers.get("host") or "localhost"
    return f"{request.url.scheme}://{host}{API_PATH}"


async def params(request: Request) -> dict[str, Any]:
    """The query parameters overlaid with a JSON body, as WP_REST_Request merges them."""
    merged: dict[str, Any] = dict(parse_query(request.scope["query_string"]))
    raw = await request.body()
    if raw.strip() and "json" in request.headers.get("content-type", ""):
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise WPError(
                "rest_invalid_json",
                "Invalid JSON body passed.",
                400,
                json_error_code=4,
                json_error_message=str(exc),
            ) from exc
        if isinstance(body, dict):
            merged.update(body)
    return merged
