"""The outermost layer of the HTTP app: a request id on every response, bound for the logs,
and one access line per request.

A pure ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which runs the endpoint in
another task, buffers streaming and does not see WebSockets). It sits outside Starlette's
own error handling (``ObservedStarlette``), so even a 500 carries ``X-Request-Id``, and so
do the answers the layers inside give themselves (401, 413, the micro-cache's replays).
The header is added to a copy of the response's start message: the micro-cache keeps the
messages it replays, and a replay must not carry the first caller's id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.routing import Match, Route, Router
from starlette.types import ASGIApp

from gateway.observability.context import RequestLog, bind, request_id_from, unbind

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

REQUEST_ID_HEADER = b"x-request-id"
# Probes ask every few seconds; a line for each answered one would bury everything else.
_QUIET_PATHS = frozenset({"/healthz", "/readyz"})

access_log = logging.getLogger("commerce_gateway.access")


class RequestContext:
    def __init__(self, app: ASGIApp, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self._app = app
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":  # lifespan
            await self._app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                given = value
                break
        request = RequestLog(request_id_from(given))
        header = (REQUEST_ID_HEADER, request.request_id.encode("ascii"))
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.accept"):
                status = message.get("status", 101)
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = bind(request)
        started = self._clock()
        try:
            await self._app(scope, receive, send_with_id)
        finally:
            if kind == "http" and access_log.isEnabledFor(logging.INFO):
                self._access_line(scope, status, self._clock() - started, request)
        # Not on an exception: the server reports it from this same task (uvicorn's
        # "Exception in ASGI application"), and that line should name the request too.
        unbind(token)

    @staticmethod
    def _access_line(scope: Scope, status: int, seconds: float, request: RequestLog) -> None:
        path = scope.get("path", "")
        if status == 200 and path in _QUIET_PATHS:
            return
        principal = (scope.get("state") or {}).get("principal")
        # The path only: a GET's query string may carry variables with customer data.
        access_log.info(
            "%s %s %d",
            scope.get("method", ""),
            path,
            status,
            extra={
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                # The edge's acting_for has ended by now; the scope still names it.
                "principal": getattr(principal, "id", None),
            },
        )


class ObservedStarlette(Starlette):
    """Starlette with ``RequestContext`` outside its error middleware, and whatever wraps
    the app when tracing is on (``wrap``: gateway.observability.tracing.ServerSpans)
    between the two, so the span covers the answer and the log lines know its trace.

    The first route (``/graphql``, nearly every request) is taken straight to its endpoint
    when nothing but Starlette's error middleware stands between them (no CORS, no
    exception handlers, no body limit): Starlette's exception middleware and router do
    nothing for it, and cost 2.5 % of a reserve and a tenth of a micro-cache replay."""

    def __init__(
        self, *args: Any, wrap: Callable[[ASGIApp], ASGIApp] | None = None, **kwargs: Any
    ) -> None:
        self._wrap = wrap
        super().__init__(*args, **kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        first = self.router.routes[0] if self.router.routes else None
        plain = not (self.user_middleware or self.exception_handlers or self.max_body_size)
        if plain and isinstance(first, Route):
            direct = ServerErrorMiddleware(first.app, debug=self.debug)
            app = RouteFirst(app, self.router, first, direct)
        if self._wrap is not None:
            app = self._wrap(app)
        return RequestContext(app)


class RouteFirst:
    """A request ``route`` matches in full (path and method) goes to ``direct``, its
    endpoint behind the error middleware, with what Starlette's router would have put in its
    scope; any other goes through ``app``, Starlette's whole stack."""

    def __init__(self, app: ASGIApp, router: Router, route: Route, direct: ASGIApp) -> None:
        self._app = app
        self._router = router
        self._route = route
        self._direct = direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match, child_scope = self._route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self._router)
                scope["route"] = self._route
                scope.update(child_scope)
                await self._direct(scope, receive, send)
                return
        await self._app(scope, receive, send)
