"""The host in front of WooCommerce: every request is recorded (``calls``), delayed
(``latency_ms``), failed at ``error_rate`` the way a struggling host fails (seeded, so a test
run is repeatable), and finally authenticated by WooCommerce before reaching a route."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter

from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.woocommerce.auth import Authenticator, RequestFacts
from sandbox.woocommerce.wire import WPError, error_response, parse_query, wp_response

# What a host in trouble answers: a PHP fatal (WordPress's JSON wp_die) or the proxy's page.
_FATAL = {
    "code": "internal_server_error",
    "message": "<p>There has been a critical error on this website.</p><p><a href="
    '"https://wordpress.org/documentation/article/faq-troubleshooting/">'
    "Learn more about troubleshooting WordPress.</a></p>",
    "data": {"status": 500},
    "additional_errors": [],
}
_PROXY_503 = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

_CONVERTER = re.compile(r"\{(\w+):\w+\}")


class FrontDoor:
    """Call recording, latency, host faults and WooCommerce authentication."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: list[BaseRoute],
        calls: Counter[str],
        authenticator: Authenticator,
        latency_ms: float,
        error_rate: float,
        rng: random.Random,
    ) -> None:
        self.app, self.routes, self.calls = app, routes, calls
        self.authenticator = authenticator
        self.latency_ms, self.error_rate, self.rng = latency_ms, error_rate, rng

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.calls[self._route_key(scope)] += 1
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.error_rate > 0 and self.rng.random() < self.error_rate:
            await self._fault()(scope, receive, send)
            return
        if scope["path"].startswith("/wp-json/wc/"):
            try:
                user = self.authenticator.authenticate(_facts(scope))
            except WPError as error:
                await error_response(error)(scope, receive, send)
                return
            scope.setdefault("state", {})["wc_user"] = user
        await self.app(scope, receive, send)

    def _route_key(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL and isinstance(route, Route):
                template = _CONVERTER.sub(r"{\1}", route.path)
                return f"{scope['method']} {template}"
        return f"{scope['method']} {scope['path']}"

    def _fault(self) -> Response:
        if self.rng.random() < 0.5:
            return wp_response(_FATAL, 500)
        return Response(_PROXY_503, 503, {"Retry-After": "1"}, media_type="text/html")


def _facts(scope: Scope) -> RequestFacts:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    raw_path = scope.get("raw_path") or scope["path"].encode()
    return RequestFacts(
        method=scope["method"],
        scheme=scope.get("scheme", "http"),
        host=headers.get("host", ""),
        path=raw_path.decode("latin-1").split("?", 1)[0],
        query=parse_query(scope["query_string"]),
        authorization=headers.get("authorization", ""),
    )
