"""``GET /metrics``: the app's metrics in Prometheus' text format.

Operational figures only (counts, latencies, states, backends and kinds; no SKU, order,
customer or principal), so by default it is open, for a scraper on the internal network,
as ``/healthz`` and ``/readyz`` are. With ``METRICS__TOKEN`` set, a scrape must send
``Authorization: Bearer <token>`` (Prometheus: ``authorization: {credentials: ...}``), and
anything else is answered 401. It is a token of its own rather than an API key: a scraper
needs no role, and an OPS key kept in a scraper's configuration could retry and skip writes.

Each scrape reads the outbox and the discrepancy queue from the database first
(gateway.observability.metrics.Metrics.refresh).
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gateway.observability.metrics import Metrics


async def metrics_endpoint(request: Request) -> Response:
    state = request.app.state
    metrics: Metrics = state.metrics
    token = state.services.settings.metrics.token
    if token is not None and not _bearer_matches(request, token.get_secret_value()):
        return PlainTextResponse(
            "a bearer token is needed for /metrics\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    await metrics.refresh(state.services)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # In constant time: how much of the token a guess got right must not show.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )
