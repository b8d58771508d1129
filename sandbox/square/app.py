"""The Starlette app: routes, Bearer auth, Square-Version, latency and fault injection, the
per-route call counter tests and benchmarks read (``app.state.calls``), and the webhook
subscriptions whose events the account sends (sandbox.square.webhooks)."""

from __future__ import annotations

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

from sandbox.fault_routes import fault_routes
from sandbox.faults import Faults
from sandbox.json_response import FastJSONResponse
from sandbox.retailer import Dataset
from sandbox.square.catalog import Catalog
from sandbox.square.changes import batch_change
from sandbox.square.history import retrieve_changes
from sandbox.square.inventory import Inventory
from sandbox.square.locations import list_locations
from sandbox.square.retrieve import batch_retrieve
from sandbox.square.search import search_catalog
from sandbox.square.webhooks import AccountWebhooks
from sandbox.square.wire import INVALID_REQUEST, SquareError, invalid, json_body
from sandbox.webhooks import FlushAfterRequest, WebhookSender, control_routes

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
        self.sender = WebhookSender()
        self.webhooks = AccountWebhooks(self.sender, clock)
        self.inventory.listeners.append(self.webhooks.counts_changed)
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


async def _locations(request: Request, sim: Simulator) -> dict[str, Any]:
    return list_locations(sim.dataset)


async def _catalog_list(request: Request, sim: Simulator) -> dict[str, Any]:
    params = request.query_params
    return sim.catalog.list_objects(params.get("types"), params.get("cursor"))


async def _catalog_search(request: Request, sim: Simulator) -> dict[str, Any]:
    return search_catalog(sim.catalog, await json_body(request))


async def _catalog_retrieve(request: Request, sim: Simulator) -> dict[str, Any]:
    return batch_retrieve(sim.catalog, await json_body(request))


async def _counts(request: Request, sim: Simulator) -> dict[str, Any]:
    return sim.inventory.batch_retrieve(await json_body(request))


async def _count(request: Request, sim: Simulator) -> dict[str, Any]:
    params = request.query_params
    vid = request.path_params["catalog_object_id"]
    return sim.inventory.retrieve_one(vid, params.get("location_ids"), params.get("cursor"))


async def _changes(request: Request, sim: Simulator) -> dict[str, Any]:
    return batch_change(sim.inventory, await json_body(request))


async def _history(request: Request, sim: Simulator) -> dict[str, Any]:
    return retrieve_changes(sim.inventory, await json_body(request))


async def _subscriptions(request: Request, sim: Simulator) -> dict[str, Any]:
    include = request.query_params.get("include_disabled", "").lower() in ("true", "1")
    return sim.webhooks.listed(include)


async def _subscribe(request: Request, sim: Simulator) -> dict[str, Any]:
    version = request.headers.get("square-version", DEFAULT_VERSION)
    return sim.webhooks.create(await json_body(request), version)


def _subscription_id(request: Request) -> str:
    return str(request.path_params["subscription_id"])


async def _subscription(request: Request, sim: Simulator) -> dict[str, Any]:
    return sim.webhooks.retrieve(_subscription_id(request))


async def _resubscribe(request: Request, sim: Simulator) -> dict[str, Any]:
    return sim.webhooks.update(_subscription_id(request), await json_body(request))


async def _unsubscribe(request: Request, sim: Simulator) -> dict[str, Any]:
    return sim.webhooks.delete(_subscription_id(request))


async def _rotate_key(request: Request, sim: Simulator) -> dict[str, Any]:
    return sim.webhooks.rotate_key(_subscription_id(request))


SUBSCRIPTION = "/v2/webhooks/subscriptions/{subscription_id}"
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/v2/locations", _locations),
    ("GET", "/v2/catalog/list", _catalog_list),
    ("POST", "/v2/catalog/search", _catalog_search),
    ("POST", "/v2/catalog/batch-retrieve", _catalog_retrieve),
    ("POST", "/v2/inventory/counts/batch-retrieve", _counts),
    ("POST", "/v2/inventory/batch-retrieve-counts", _counts),  # deprecated alias
    ("POST", "/v2/inventory/changes/batch-retrieve", _history),
    ("POST", "/v2/inventory/batch-retrieve-changes", _history),  # deprecated alias
    ("POST", "/v2/inventory/changes/batch-create", _changes),
    ("POST", "/v2/inventory/batch-change", _changes),  # deprecated alias
    ("GET", "/v2/inventory/{catalog_object_id}", _count),
    ("GET", "/v2/webhooks/subscriptions", _subscriptions),
    ("POST", "/v2/webhooks/subscriptions", _subscribe),
    ("GET", SUBSCRIPTION, _subscription),
    ("PUT", SUBSCRIPTION, _resubscribe),
    ("DELETE", SUBSCRIPTION, _unsubscribe),
    ("POST", f"{SUBSCRIPTION}/signature-key", _rotate_key),
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
    ``GET /_sandbox/calls`` answers ``calls`` for a process that does not hold the app.
    ``webhooks`` is the webhook sender (knobs, record, ``settle()``; /_sandbox/webhooks);
    ``POST /_sandbox/catalog/version`` plays a Dashboard edit of the catalogue, which
    sends catalog.version.updated."""
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

    async def catalog_edited(request: Request) -> Response:
        # Not Square's: the merchant changed the item library in the Dashboard.
        sim.webhooks.catalog_changed()
        return JSONResponse({})

    app = Starlette(
        routes=[
            *(_route(method, template, handler, sim) for method, template, handler in ROUTES),
            Route("/_sandbox/calls", tally, methods=["GET"]),
            Route("/_sandbox/catalog/version", catalog_edited, methods=["POST"]),
            *control_routes(sim.sender),
            *fault_routes(sim.faults),
        ],
        exception_handlers={SquareError: _square_error, 404: _no_route, 405: _no_route},
    )
    app.state.simulator = sim
    app.state.calls = sim.calls
    app.state.versions = sim.versions
    app.state.faults = sim.faults
    app.state.webhooks = sim.sender
    app.add_middleware(FlushAfterRequest, sender=sim.sender)
    return app
