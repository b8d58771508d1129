"""``/graphql``'s edge for POST bodies: what is not a GraphQL request over HTTP is answered
400 with a GraphQL error here, instead of failing deeper down as an HTTP 500.

    not UTF-8                               400 BAD_USER_INPUT "the body is not UTF-8"
    JSON that is not an object ("hello")    400 BAD_USER_INPUT "the body must be a JSON
                                            object with a query"
    operationName neither a string nor null 400 BAD_USER_INPUT
    JSON nested too deeply to read          400 BAD_USER_INPUT
    a body over LIMITS__MAX_BODY_BYTES      413 REQUEST_TOO_LARGE (not read further)

Malformed JSON and other content types are left to strawberry, which already answers them
400 and 415 (GraphQL over HTTP).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from gateway.request_json import NestedTooDeep, read_json

Scope = dict[str, Any]


def body_problem(body: bytes, content_type: str) -> str | None:
    """Why this POST body is refused, or None (pure)."""
    if "json" not in content_type.lower():
        return None
    try:
        body.decode()
    except UnicodeDecodeError:
        return "the request body is not UTF-8"
    try:
        payload = read_json(body)
    except NestedTooDeep as refused:
        return str(refused)  # strawberry's own reading would fail with an HTTP 500
    except ValueError:
        return None  # strawberry's 400 says what is wrong with it
    if not isinstance(payload, dict):
        return "the request body must be a JSON object with a query"
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return "operationName must be a string or null"
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return "variables must be a JSON object or null"
    return None


class RequestGuard:
    def __init__(self, app: Any, *, max_body_bytes: int = 2_000_000) -> None:
        self._app = app
        self._max = max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        body = None
        if not (declared.isdigit() and int(declared) > self._max):
            body = await read_body_within(receive, self._max)
        if body is None:
            error = {
                "message": f"the request body is over {self._max} bytes",
                "extensions": {"code": "REQUEST_TOO_LARGE"},
            }
            await JSONResponse({"errors": [error]}, status_code=413)(scope, receive, send)
            return
        problem = body_problem(body, headers.get(b"content-type", b"").decode("latin-1"))
        if problem is not None:
            error = {"message": problem, "extensions": {"code": "BAD_USER_INPUT"}}
            await JSONResponse({"data": None, "errors": [error]}, status_code=400)(
                scope, receive, send
            )
            return

        await self._app(scope, replaying(body), send)


def content_type_and_accept(scope: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """The request's Content-Type and Accept headers as sent (b"" when absent; the last of
    several), read in one pass over the scope's headers."""
    content_type = accept = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"accept":
            accept = value
    return content_type, accept


async def read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def read_body_up_to(receive: Any, limit: int) -> tuple[bytes, bool]:
    """What was read of the body, and whether that is all of it: reading stops as soon as
    it is over ``limit`` bytes (``replaying`` passes it on, with the rest unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            return b"".join(chunks), not message.get("more_body")
        if not message.get("more_body"):
            return b"".join(chunks), True


def replaying(body: bytes, *, then: Any = None) -> Any:
    """An ASGI receive giving ``body`` again: all of it, or, with ``then``, as the first part
    of a body whose rest ``then`` gives."""
    if then is None:

        async def whole() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        return whole
    given = False

    async def first_then_rest() -> dict[str, Any]:
        nonlocal given
        if given:
            return await then()
        given = True
        return {"type": "http.request", "body": body, "more_body": True}

    return first_then_rest


async def read_body_within(receive: Any, limit: int) -> bytes | None:
    """The whole body; None as soon as it is over ``limit`` bytes (the rest is not read)."""
    body, whole = await read_body_up_to(receive, limit)
    return body if whole and len(body) <= limit else None
