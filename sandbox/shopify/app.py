"""The Starlette app: ``POST /admin/api/<version>/graphql.json`` with X-Shopify-Access-Token,
calculated cost and throttling, latency and fault injection, the call counters tests read,
webhook deliveries signed with the app's client secret (sandbox.shopify.webhooks), and
sandbox-only routes: one plays a warehouse app starting to pick an order, the others are the
webhook knobs (sandbox.webhooks.control)."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLFormattedError,
    GraphQLSchema,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.fault_routes import fault_routes
from sandbox.faults import Faults
from sandbox.retailer import Dataset
from sandbox.shopify import fulfillment
from sandbox.shopify.catalog import gid
from sandbox.shopify.cost import MAX_QUERY_COST, Bucket, CostCalculator, actual_cost
from sandbox.shopify.resolvers import default_resolver, executable_schema
from sandbox.shopify.store import Shop
from sandbox.shopify.webhooks import StoreWebhooks
from sandbox.shopify.wire import INVALID_TOKEN, ShopifyHttpError
from sandbox.webhooks import FlushAfterRequest, WebhookSender, control_routes

GRAPHQL_ROUTE = "POST /admin/api/{version}/graphql.json"
_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
_UNDEFINED_FIELD = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'")
_RATE_DOC = "https://shopify.dev/api/usage/rate-limits"

# The canned failures, in the order the seeded pick draws from.
_FAULTS: dict[int, Callable[[], ShopifyHttpError]] = {
    429: partial(
        ShopifyHttpError,
        429,
        "Exceeded 2 calls per second for api client. Reduce request rates.",
        {"Retry-After": "1.0"},
    ),
    500: partial(ShopifyHttpError, 500, "Internal Server Error"),
    502: partial(ShopifyHttpError, 502, "Bad Gateway"),
    503: partial(ShopifyHttpError, 503, "Service Unavailable"),
}


class Simulator:
    """One store, its schema and bucket, the knobs and the counters."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        access_token: str,
        faults: Faults[ShopifyHttpError],
        clock: Callable[[], datetime],
        bucket: Bucket,
        client_secret: str = "shpss_sandbox",
        shop_domain: str = "northtrail-oms.myshopify.com",
    ) -> None:
        self.access_token = access_token
        self.faults = faults
        self.shop = Shop(dataset, clock)
        self.sender = WebhookSender()
        self.webhooks = StoreWebhooks(
            self.shop, self.sender, client_secret=client_secret, shop_domain=shop_domain
        )
        self.schema: GraphQLSchema = executable_schema(self.shop, self.webhooks)
        self.bucket = bucket
        self.calls: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()

    def run(self, body: Any, version: str = "2026-10") -> dict[str, Any]:
        """One GraphQL request body -> the response body (always HTTP 200 from here on).
        ``version``: the API version in the URL (webhook subscriptions are made at it)."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self._answer(errors=[{"message": "Parameter Missing or Invalid: query"}])
        variables = body.get("variables") or {}
        try:
            document = parse(body["query"])
        except GraphQLError as exc:
            return self._answer(errors=[exc.formatted])
        problems = validate(self.schema, document)
        if problems:
            return self._answer(errors=[_shopify_validation_error(e) for e in problems])
        operation = _operation(document, body.get("operationName"))
        if operation is None:
            return self._answer(errors=[{"message": "An operation name is required"}])
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        requested = CostCalculator(self.schema, fragments, variables).requested(operation)
        if requested > MAX_QUERY_COST:
            message = (
                f"Query cost is {requested}, which exceeds the single query max cost limit "
                f"({MAX_QUERY_COST})."
            )
            extensions = {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}
            return self._answer(
                errors=[{"message": message, "extensions": extensions}], requested=requested
            )
        if not self.bucket.take(requested):
            throttled = {"code": "THROTTLED", "documentation": _RATE_DOC}
            return self._answer(
                errors=[{"message": "Throttled", "extensions": throttled}],
                requested=requested,
                actual=None,
            )
        mutation = operation.operation.value == "mutation"
        for name in _root_fields(operation):
            self.calls[name if mutation else f"query {name}"] += 1
        result = execute_sync(
            self.schema,
            document,
            variable_values=variables,
            operation_name=body.get("operationName"),
            field_resolver=default_resolver,
            context_value={"api_version": version},
        )
        actual = actual_cost(result.data, requested, mutation)
        self.bucket.refund(requested - actual)
        errors = [e.formatted for e in result.errors or []]
        return self._answer(result.data, errors, requested=requested, actual=actual)

    def _answer(
        self,
        data: Any = None,
        errors: list[GraphQLFormattedError] | None = None,
        *,
        requested: int = 0,
        actual: int | None = 0,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if errors:
            body["errors"] = errors
        if data is not None:
            body["data"] = data
        body["extensions"] = {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.status(),
            }
        }
        return body


def _operation(document: DocumentNode, name: Any) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def _root_fields(operation: OperationDefinitionNode) -> list[str]:
    return [
        selection.name.value
        for selection in operation.selection_set.selections
        if hasattr(selection, "name") and selection.name is not None
    ]


def _shopify_validation_error(error: GraphQLError) -> GraphQLFormattedError:
    """Shopify's wording for the commonest mistake; other messages are graphql-core's."""
    formatted = error.formatted
    match = _UNDEFINED_FIELD.search(error.message)
    if match:
        field, type_name = match.groups()
        formatted["message"] = f"Field '{field}' doesn't exist on type '{type_name}'"
        formatted["extensions"] = {
            "code": "undefinedField",
            "typeName": type_name,
            "fieldName": field,
        }
    return formatted


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise ShopifyHttpError(400, "Bad Request: the body is not valid JSON") from exc


def _graphql_endpoint(sim: Simulator) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        version = request.path_params["version"]
        sim.calls[GRAPHQL_ROUTE] += 1
        await sim.faults.delay()
        failure = sim.faults.next_failure()
        if failure is not None:
            raise failure
        if request.headers.get("x-shopify-access-token") != sim.access_token:
            raise ShopifyHttpError(401, INVALID_TOKEN)
        if not _VERSION.match(version):
            raise ShopifyHttpError(404, "Not Found")
        sim.versions[version] += 1
        return JSONResponse(sim.run(await _json_body(request), version))

    return endpoint


def _sandbox_status_endpoint(sim: Simulator) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        raw_id = request.path_params["id"]
        fo_id = gid("FulfillmentOrder", int(raw_id)) if raw_id.isdigit() else raw_id
        body = await _json_body(request)
        status = body.get("status") if isinstance(body, dict) else None
        outcome = fulfillment.set_status(sim.shop, fo_id, str(status))
        if isinstance(outcome, str):
            return JSONResponse({"errors": outcome}, status_code=422)
        sim.webhooks.fulfillment_order_changed(outcome)
        return JSONResponse({"id": outcome.id, "status": outcome.status})

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShopifyHttpError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _no_route(request: Request, exc: Exception) -> Response:
    return JSONResponse({"errors": "Not Found"}, status_code=404)


def create_app(
    dataset: Dataset,
    *,
    access_token: str = "shpat_sandbox",
    latency_ms: float = 0,
    error_rate: float = 0.0,
    rng_seed: int = 0,
    clock: Callable[[], datetime] | None = None,
    bucket_size: float = 2000.0,
    restore_rate: float = 100.0,
    monotonic: Callable[[], float] = time.monotonic,
    client_secret: str = "shpss_sandbox",
    shop_domain: str = "northtrail-oms.myshopify.com",
) -> Starlette:
    """A Shopify store over ``dataset``. ``app.state``: ``calls`` (Counter: one count per
    mutation name, e.g. "orderCreate"; "query <field>" per root query field; and
    ``GRAPHQL_ROUTE`` per HTTP request), ``versions`` (API versions seen), ``faults``
    (``error_rate`` can be changed; ``script(503, 429)`` fails the next requests), ``bucket``
    (the cost bucket; ``drain(points)`` empties it), ``shop`` (the store's records) and
    ``simulator``. ``clock`` stamps documents (default: the wall clock, UTC).
    ``webhooks`` is the webhook sender (knobs, record, ``settle()``; /_sandbox/webhooks);
    deliveries are signed with ``client_secret`` and name ``shop_domain``."""
    sim = Simulator(
        dataset,
        access_token=access_token,
        faults=Faults(
            "Shopify", _FAULTS, latency_ms=latency_ms, error_rate=error_rate, rng_seed=rng_seed
        ),
        clock=clock or (lambda: datetime.now(UTC)),
        bucket=Bucket(bucket_size, restore_rate, monotonic),
        client_secret=client_secret,
        shop_domain=shop_domain,
    )
    app = Starlette(
        routes=[
            Route("/admin/api/{version}/graphql.json", _graphql_endpoint(sim), methods=["POST"]),
            Route(
                "/_sandbox/fulfillment_orders/{id:path}/status",
                _sandbox_status_endpoint(sim),
                methods=["POST"],
            ),
            *control_routes(sim.sender),
            *fault_routes(sim.faults),
        ],
        exception_handlers={ShopifyHttpError: _http_error, 404: _no_route, 405: _no_route},
    )
    app.state.simulator = sim
    app.state.calls = sim.calls
    app.state.versions = sim.versions
    app.state.faults = sim.faults
    app.state.bucket = sim.bucket
    app.state.shop = sim.shop
    app.state.webhooks = sim.sender
    app.add_middleware(FlushAfterRequest, sender=sim.sender)
    return app
