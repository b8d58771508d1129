"""``/graphql``'s door: every request names who is asking before anything runs.

An accepted request carries its principal in ``scope["state"]["principal"]`` (Starlette's
``request.state.principal``). A refused one is answered here with UNAUTHENTICATED: HTTP 401
with ``WWW-Authenticate`` to a client that accepts ``application/graphql-response+json``,
as the GraphQL-over-HTTP spec allows, else 200 with the error, which is what the spec
asks of ``application/json`` responses. The GraphiQL page itself (a GET for HTML) holds no
data and opens without credentials; the queries it sends need them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse

from gateway.auth.authenticator import Authenticator
from gateway.domain.acting import begin_acting_for, end_acting
from gateway.errors import Unauthenticated

log = logging.getLogger(__name__)
Scope = dict[str, Any]
GRAPHQL_RESPONSE = "application/graphql-response+json"


class Authenticate:
    def __init__(self, app: Any, authenticator: Callable[[], Authenticator]) -> None:
        self._app = app
        # Built when the lifespan opens the database: looked up per request.
        self._authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        accept = headers.get(b"accept", b"").decode("latin-1")
        if scope["method"] == "GET" and "text/html" in accept:
            await self._app(scope, receive, send)  # the GraphiQL page
            return
        try:
            principal = await self._authenticator().principal(
                _header(headers, b"authorization"), _header(headers, b"x-api-key")
            )
        except Unauthenticated as refused:
            # Why, never what was presented; a caller trying key after key is one line a
            # minute with a count (gateway.observability.repeats).
            log.warning("credentials refused: %s", refused, extra={"repeat_key": str(refused)})
            await refusal(refused, accept)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        acting = begin_acting_for(principal.id)  # what it changes is recorded as asked by it
        try:
            await self._app(scope, receive, send)
        finally:
            end_acting(acting)


def refusal(refused: Unauthenticated, accept: str) -> JSONResponse:
    extensions = {"code": refused.code.value, **refused.details}
    body = {"errors": [{"message": str(refused), "extensions": extensions}]}
    if GRAPHQL_RESPONSE in accept:
        return JSONResponse(
            body,
            status_code=401,
            media_type=GRAPHQL_RESPONSE,
            headers={"WWW-Authenticate": 'Bearer realm="commerce-gateway"'},
        )
    return JSONResponse(body, status_code=200)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")
