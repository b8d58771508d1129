"""``/graphql``'s rate limit, right after authentication: one bucket per principal.

A caller over its limit is answered HTTP 429 with ``Retry-After`` and a GraphQL error
RATE_LIMITED carrying the limit (``limit``: requests at once, ``perSecond``: the refill,
``retryAfterSeconds``); nothing runs. If the shared store (Redis) cannot be reached, requests
go through: a rate limit protects the backends, it must not take the gateway down with it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse

from gateway.domain.principal import Principal
from gateway.errors import ErrorCode
from gateway.ratelimit import RateLimiter

logger = logging.getLogger(__name__)
Scope = dict[str, Any]


class RateLimit:
    def __init__(self, app: Any, limiter: Callable[[], RateLimiter]) -> None:
        self._app = app
        # Opened with the lifespan (a Redis connection): looked up per request.
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        principal: Principal | None = (scope.get("state") or {}).get("principal")
        limiter = self._limiter()
        if scope["type"] != "http" or principal is None or not limiter.settings.enabled:
            await self._app(scope, receive, send)
            return
        try:
            rule, verdict = await limiter.take(principal.id, principal.roles)
        except Exception as failure:  # the store is down: let it through, say so
            logger.warning("rate limit not checked (%s): %s", type(failure).__name__, failure)
            await self._app(scope, receive, send)
            return
        if verdict.allowed:
            await self._app(scope, receive, send)
            return
        wait = max(1, math.ceil(verdict.retry_after))
        refusal = {
            "message": f"{principal.id} asked more often than {rule.per_second:g} requests a "
            f"second (at most {rule.burst} at once); try again in {wait} s",
            "extensions": {
                "code": ErrorCode.RATE_LIMITED.value,
                "limit": rule.burst,
                "perSecond": rule.per_second,
                "retryAfterSeconds": round(verdict.retry_after, 3),
            },
        }
        response = JSONResponse(
            {"errors": [refusal]},
            status_code=429,
            headers={"Retry-After": str(wait), "RateLimit-Limit": str(rule.burst)},
        )
        await response(scope, receive, send)
