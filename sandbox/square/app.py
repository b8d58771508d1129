"""The Starlette app: routes, Bearer auth, Square-Version, latency and fault injection, and
the per-route call counter tests and benchmarks read (``app.state.calls``)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.faults import Faults
from sandbox.json_response import FastJSONResponse
from sandbox.retailer import Dataset
from sandbox.square.catalog import Catalog
from sandbox.square.changes import batch_change
from sandbox.square.inventory import Inventory
from sandbox.square.locations import list_locations
from sandbox.square.retrieve import batch_retrieve
from sandbox.square.search import search_catalog
from sandbox.square.wire import INVALID_REQUEST, SquareError, invalid

DEFAULT_VERSION = "2025-08-20"  # the version the (simulated) app is pinned to in its console
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The canned failures, in the order the seeded pick draws from.
_FAULTS: dict[int, Callable[[], SquareError]] = {
    429: partial(
        SquareError, 429, "RATE_LIMIT_ERROR", "RATE_LIMITED", "Request rate limit exceeded."
    ),
    500: partial(
        SquareError,
        500,
        "API_ERROR",
        "INTERNAL_SERVER_ERROR",
        "An internal error has occurred, and the API was unable to service your request.",
    ),
    503: partial(
        SquareError,
        503,
        "API_ERROR",
        "SERVICE_UNAVAILABLE",
        "The service is temporarily unavailable.",
    ),
}


class Simulator:
    """Everything one simulated Square account holds; handlers read and change it."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        access_token: str,
        faults: Faults[SquareError],
        clock: Callable[[], datetime],
    ) -> None:
        self.dataset = dataset
        self.access_token = access_token
        self.faults = faults
        self.catalog = Catalog(dataset)
        self.inventory = Inventory(self.catalog, clock)
        self.calls: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()

    def authorize(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.access_token:
            raise SquareError(
                401, "AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized."
            )

    def pin_version(self, request: Request) -> str:
        version = request.headers.get("square-version", DEFAULT_VERSION)
        if not _VERSION.match(version) or not _is_date(version):
            raise invalid(
                "INVALID_SQUARE_VERSION_FORMAT",
                f"`{version}` is not a valid Square-Version; expected YYYY-MM-DD.",
                "Square-Version",
            )
        self.versions[version] += 1
        return version


Handler = Callable[[Request, Simulator], Awaitable[dict[str, Any]]]


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid("BAD_REQUEST", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise invalid("EXPECTED_OBJECT", "The request body must be a JSON object.")
    return body


async def _locations(request: Request, sim: Simulator) -> dict[str, Any]:
    return list_locations(sim.dataset)


async def _catalog_list(request: Request, sim: Simulator) -> dict[str, Any]:
    params = request.query_params
    return sim.catalog.list_objects(params.get("types"), params.get("cursor"))


async def _catalog_search(request: Request, sim: Simulator) -> dict[str, Any]:
    return search_catalog(sim.catalog, await _json(request))


async def _catalog_retrieve(request: Request, sim: Simulator) -> dict[str, Any]:
    return batch_retrieve(sim.catalog, await _json(request))


async def _counts(request: Request, sim: Simulator) -> dict[str, Any]:
    return sim.inventory.batch_retrieve(await _json(request))


async def _count(request: Request, sim: Simulator) -> dict[str, Any]:
    params = request.query_params
    vid = request.path_params["catalog_object_id"]
    return sim.inventory.retrieve_one(vid, params.get("location_ids"), params.get("cursor"))


async def _changes(request: Request, sim: Simulator) -> dict[str, Any]:
    return batch_change(sim.inventory, await _json(request))


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/v2/locations", _locations),
    ("GET", "/v2/catalog/list", _catalog_list),
    ("POST", "/v2/catalog/search", _catalog_search),
    ("POST", "/v2/catalog/batch-retrieve", _catalog_retrieve),
    ("POST", "/v2/inventory/counts/batch-retrieve", _counts),
    ("POST", "/v2/inventory/batch-retrieve-counts", _counts),  # deprecated alias
    ("POST", "/v2/inventory/changes/batch-create", _changes),
    ("POST", "/v2/inventory/batch-change", _changes),  # deprecated alias
    ("GET", "/v2/inventory/{catalog_object_id}", _count),
)


def _route(method: str, template: str, handler: Handler, sim: Simulator) -> Route:
    key = f"{method} {template}"

    async def endpoint(request: Request) -> Response:
        sim.calls[key] += 1
        await sim.faults.delay()
        failure = sim.faults.next_failure()
        if failure is not None:
            raise failure
        sim.authorize(request)
        sim.pin_version(request)
        return FastJSONResponse(await handler(request, sim))

    return Route(template, endpoint, methods=[method])


async def _square_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SquareError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _no_route(request: Request, exc: Exception) -> Response:
    detail = (
        f"API endpoint for URL path `{request.url.path}` and HTTP method "
        f"`{request.method}` is not found."
    )
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    error = SquareError(
        404 if status in (404, 405) else status, INVALID_REQUEST, "NOT_FOUND", detail
    )
    return JSONResponse(error.body(), status_code=error.status)


def create_app(
    dataset: Dataset,
    *,
    access_token: str = "sandbox-square-token",
    latency_ms: float = 0,
    error_rate: float = 0.0,
    rng_seed: int = 0,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """A Square account over ``dataset``. ``app.state``: ``calls`` (Counter of
    "METHOD /v2/route-template"), ``versions`` (Square-Version values seen), ``faults``
    (``error_rate`` can be changed; ``script(503, 429)`` fails the next requests), and
    ``simulator`` itself. ``clock`` stamps changes (default: the wall clock, UTC).
    ``GET /_sandbox/calls`` answers ``calls`` for a process that does not hold the app."""
    sim = Simulator(
        dataset,
        access_token=access_token,
        faults=Faults(
            "Square", _FAULTS, latency_ms=latency_ms, error_rate=error_rate, rng_seed=rng_seed
        ),
        clock=clock or (lambda: datetime.now(UTC)),
    )

    async def tally(request: Request) -> Response:
        # Not Square's: how often each route was called, for benchmarks in other processes.
        return JSONResponse(dict(sim.calls))

    app = Starlette(
        routes=[
            *(_route(method, template, handler, sim) for method, template, handler in ROUTES),
            Route("/_sandbox/calls", tally, methods=["GET"]),
        ],
        exception_handlers={SquareError: _square_error, 404: _no_route, 405: _no_route},
    )
    app.state.simulator = sim
    app.state.calls = sim.calls
    app.state.versions = sim.versions
    app.state.faults = sim.faults
    return app
