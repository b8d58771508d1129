"""The host in front of WooCommerce: every request is recorded (``calls``), delayed
(``latency_ms``), failed at ``error_rate`` the way a struggling host fails (seeded, so a test
run is repeatable; sandbox.faults), and finally authenticated by WooCommerce before reaching a
route."""

from __future__ import annotations

import re
from collections import Counter

from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.faults import NGINX_503_PAGE, Faults
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

_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def _php_fatal() -> Response:
    return wp_response(_FATAL, 500)


def _proxy_unavailable() -> Response:
    return Response(NGINX_503_PAGE, 503, {"Retry-After": "1"}, media_type="text/html")


def _rate_limited() -> Response:
    # What a host's rate limiter (nginx limit_req, a CDN) answers in front of WordPress.
    return Response("Too Many Requests", 429, {"Retry-After": "1"}, media_type="text/plain")


class HostFaults(Faults[Response]):
    """A host in trouble fails with a PHP fatal as often as with the proxy's page. The pick
    is one ``random()`` draw against a half rather than the shared ``choice``: that is what
    this host's seeded runs have always drawn, so a seed still gives the same sequence."""

    def __init__(self, *, latency_ms: float, error_rate: float, rng_seed: int) -> None:
        super().__init__(
            "WooCommerce",
            {500: _php_fatal, 503: _proxy_unavailable, 429: _rate_limited},
            latency_ms=latency_ms,
            error_rate=error_rate,
            rng_seed=rng_seed,
        )

    def _pick(self) -> int:
        return 500 if self._rng.random() < 0.5 else 503


class FrontDoor:
    """Call recording, latency, host faults and WooCommerce authentication."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: list[BaseRoute],
        calls: Counter[str],
        authenticator: Authenticator,
        faults: Faults[Response],
    ) -> None:
        self.app, self.routes, self.calls = app, routes, calls
        self.authenticator = authenticator
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The sandbox's own controls are not the shop's: no count, no faults, no login.
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        self.calls[self._route_key(scope)] += 1
        await self.faults.delay()
        failure = self.faults.next_failure()
        if failure is not None:
            await failure(scope, receive, send)
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
