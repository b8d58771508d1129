"""The WooCommerce ``wc/v3`` simulator: products and variations (list, get, update, batch),
orders with their refunds (sandbox.woocommerce.order_routes), and webhooks
(sandbox.woocommerce.webhook_routes) that are sent when products and orders change.

Requests pass the host first (sandbox.woocommerce.host: call recording, latency, faults,
authentication; ``app.state.faults`` holds the fault knobs). Endpoints then run WordPress's
order: validate the arguments (400), check the permission (401 when anonymous), then act on
the simulator's own mutable catalog. ``app.state.webhooks`` is the webhook sender (its fault
knobs, record and ``settle()``; also ``/_sandbox/webhooks``, sandbox.webhooks.control).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.fault_routes import fault_routes
from sandbox.retailer import Dataset
from sandbox.webhooks import FlushAfterRequest, WebhookSender, control_routes
from sandbox.woocommerce.args import (
    PRODUCT_LIST_ARGS,
    PRODUCT_WRITE_ARGS,
    VARIATION_LIST_ARGS,
    VARIATION_WRITE_ARGS,
    validate,
)
from sandbox.woocommerce.auth import Authenticator
from sandbox.woocommerce.catalog import Catalog, Record
from sandbox.woocommerce.host import FrontDoor, HostFaults
from sandbox.woocommerce.incoming import api_base, params, require_user
from sandbox.woocommerce.listing import paginate, pagination_headers, select
from sandbox.woocommerce.order_book import OrderBook
from sandbox.woocommerce.order_routes import OrderDesk
from sandbox.woocommerce.orders_seed import seed_orders
from sandbox.woocommerce.payloads import API_PATH, permalink, product_payload, variation_payload
from sandbox.woocommerce.webhook_routes import WebhookDesk
from sandbox.woocommerce.webhooks import ShopWebhooks
from sandbox.woocommerce.wire import (
    WPError,
    error_response,
    no_route,
    parse_query,
    wp_response,
)

BATCH_LIMIT = 100
EDITABLE = ["POST", "PUT", "PATCH"]


def create_app(
    dataset: Dataset,
    *,
    consumer_key: str = "ck_sandbox",
    consumer_secret: str = "cs_sandbox",
    latency_ms: float = 0,
    error_rate: float = 0.0,
    rng_seed: int = 0,
    local_pickup: bool = False,
) -> Starlette:
    """``local_pickup``: the store offers local pickup, so orders may be ready-for-pickup."""
    shop = _Shop(Catalog(dataset))
    orders, sequences = seed_orders(dataset, shop.catalog)
    desk = OrderDesk(OrderBook(shop.catalog, sequences, orders), local_pickup=local_pickup)
    sender = WebhookSender()
    hooks = ShopWebhooks(shop.catalog, desk.book, sender)
    products = f"{API_PATH}/products"
    variations = f"{products}/{{product_id:int}}/variations"
    routes: list[BaseRoute] = [
        Route(products, shop.list_products, methods=["GET"]),
        Route(f"{products}/batch", shop.batch_products, methods=EDITABLE),
        Route(f"{products}/{{id:int}}", shop.get_product, methods=["GET"]),
        Route(f"{products}/{{id:int}}", shop.update_product, methods=EDITABLE),
        Route(variations, shop.list_variations, methods=["GET"]),
        Route(f"{variations}/batch", shop.batch_variations, methods=EDITABLE),
        Route(f"{variations}/{{id:int}}", shop.get_variation, methods=["GET"]),
        Route(f"{variations}/{{id:int}}", shop.update_variation, methods=EDITABLE),
        *desk.routes(),
        *WebhookDesk(hooks).routes(),
        *control_routes(sender),
    ]
    faults = HostFaults(latency_ms=latency_ms, error_rate=error_rate, rng_seed=rng_seed)
    routes += fault_routes(faults)
    app = Starlette(
        routes=routes,
        exception_handlers={WPError: _wp_error_handler, HTTPException: _http_error_handler},
    )
    app.state.calls = Counter()
    app.state.faults = faults
    app.state.catalog = shop.catalog
    app.state.orders = desk.book
    app.state.webhooks = sender
    app.state.shop_webhooks = hooks
    app.add_middleware(FlushAfterRequest, sender=sender)
    app.add_middleware(
        FrontDoor,
        routes=routes,
        calls=app.state.calls,
        authenticator=Authenticator(consumer_key, consumer_secret),
        faults=app.state.faults,
    )
    return app


class _Shop:
    """The endpoints, over one mutable catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # --- products ---------------------------------------------------------------------

    async def list_products(self, request: Request) -> Response:
        query = parse_query(request.scope["query_string"])
        args = validate(query, PRODUCT_LIST_ARGS)
        require_user(request, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        page = paginate(select(self.catalog, args), args)
        api = api_base(request)
        body = [product_payload(self.catalog, r, api) for r in page.items]
        return wp_response(body, headers=pagination_headers(page, f"{api}/products", query))

    async def get_product(self, request: Request) -> Response:
        record = self.catalog.get(request.path_params["id"])
        if record is None:
            raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        require_user(request, "woocommerce_rest_cannot_view", _CANNOT_VIEW)
        link = f'<{permalink(self.catalog, record)}>; rel="alternate"; type=text/html'
        payload = product_payload(self.catalog, record, api_base(request))
        return wp_response(payload, headers={"Link": link})

    async def update_product(self, request: Request) -> Response:
        args = validate(await params(request), PRODUCT_WRITE_ARGS)
        record = self.catalog.get(request.path_params["id"])
        if record is not None:
            require_user(request, "woocommerce_rest_cannot_edit", _CANNOT_EDIT)
        record = self._update_product(record, args)
        return wp_response(product_payload(self.catalog, record, api_base(request)))

    async def batch_products(self, request: Request) -> Response:
        body = await params(request)
        require_user(request, "woocommerce_rest_cannot_batch", _CANNOT_BATCH)
        api = api_base(request)

        def create(item: Mapping[str, Any]) -> Record:
            if item.get("id"):
                message = "Cannot create existing product."
                raise WPError("woocommerce_rest_product_exists", message, 400)
            return self.catalog.create_product(validate(item, PRODUCT_WRITE_ARGS))

        def update(item: Mapping[str, Any]) -> Record:
            record = self.catalog.get(_int_id(item.get("id")))
            return self._update_product(record, validate(item, PRODUCT_WRITE_ARGS))

        def render(record: Record) -> dict[str, Any]:
            return product_payload(self.catalog, record, api)

        def delete(record_id: int) -> dict[str, Any]:
            record = self.catalog.get(record_id)
            if record is None:
                raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            # Deletes are forced; the answer is the object as it was.
            payload = render(record)
            self.catalog.delete(record)
            return payload

        result = _batch(body, create, update, delete, render)
        return wp_response(result)

    def _update_product(self, record: Record | None, args: Mapping[str, Any]) -> Record:
        if record is None:
            # update_item answers an unknown id with 400, not 404 (WC_REST_CRUD_Controller).
            raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
        if record.type == "variation":
            raise WPError(
                "woocommerce_rest_invalid_product_id",
                "To manipulate product variations you should use the "
                "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
                404,
            )
        self.catalog.update_product(record, args)
        return record

    # --- variations -------------------------------------------------------------------

    async def list_variations(self, request: Request) -> Response:
        query = parse_query(request.scope["query_string"])
        args = validate(query, VARIATION_LIST_ARGS)
        require_user(request, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        product_id = request.path_params["product_id"]
        page = paginate(select(self.catalog, args, variations_of=product_id), args)
        api = api_base(request)
        body = [variation_payload(self.catalog, r, api) for r in page.items]
        collection = f"{api}/products/{product_id}/variations"
        return wp_response(body, headers=pagination_headers(page, collection, query))

    async def get_variation(self, request: Request) -> Response:
        record = self.catalog.get(request.path_params["id"])
        if record is None or record.type != "variation":
            raise WPError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
        require_user(request, "woocommerce_rest_cannot_view", _CANNOT_VIEW)
        return wp_response(variation_payload(self.catalog, record, api_base(request)))

    async def update_variation(self, request: Request) -> Response:
        args = validate(await params(request), VARIATION_WRITE_ARGS)
        record = self.catalog.get(request.path_params["id"])
        if record is not None:
            require_user(request, "woocommerce_rest_cannot_edit", _CANNOT_EDIT)
            if record.parent_id and record.parent_id != request.path_params["product_id"]:
                raise WPError(
                    "woocommerce_rest_cannot_edit",
                    "Parent product does not match current variation.",
                    403,
                )
        record = self._update_variation(record, request.path_params["product_id"], args)
        return wp_response(variation_payload(self.catalog, record, api_base(request)))

    async def batch_variations(self, request: Request) -> Response:
        body = await params(request)
        require_user(request, "woocommerce_rest_cannot_batch", _CANNOT_BATCH)
        product_id = request.path_params["product_id"]
        api = api_base(request)

        def create(item: Mapping[str, Any]) -> Record:
            parent = self.catalog.get(product_id)
            if parent is None or parent.type == "variation":
                raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            return self.catalog.create_variation(parent, validate(item, VARIATION_WRITE_ARGS))

        def update(item: Mapping[str, Any]) -> Record:
            record = self.catalog.get(_int_id(item.get("id")))
            return self._update_variation(record, product_id, validate(item, VARIATION_WRITE_ARGS))

        def render(record: Record) -> dict[str, Any]:
            return variation_payload(self.catalog, record, api)

        def delete(record_id: int) -> dict[str, Any]:
            record = self.catalog.get(record_id)
            if record is None or record.parent_id != product_id:
                raise WPError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
            payload = render(record)
            self.catalog.delete(record)
            return payload

        result = _batch(body, create, update, delete, render)
        return wp_response(result)

    def _update_variation(
        self, record: Record | None, product_id: int, args: Mapping[str, Any]
    ) -> Record:
        if record is None or record.type != "variation" or record.parent_id != product_id:
            # Also 400: update_item's answer to an id it cannot load.
            raise WPError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 400)
        self.catalog.update_variation(record, args)
        return record


_CANNOT_VIEW = "Sorry, you cannot view this resource."
_CANNOT_EDIT = "Sorry, you are not allowed to edit this resource."
_CANNOT_BATCH = "Sorry, you are not allowed to batch manipulate this resource."


def _int_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _batch(
    body: Mapping[str, Any],
    create: Callable[[Mapping[str, Any]], Record],
    update: Callable[[Mapping[str, Any]], Record],
    delete: Callable[[int], dict[str, Any]],
    render: Callable[[Record], dict[str, Any]],
) -> dict[str, list[dict[str, Any]]]:
    """WC_REST_Controller::batch_items: 413 over the limit, else 200 with per-item errors."""
    actions = {key: body[key] for key in ("create", "update", "delete") if body.get(key)}
    total = sum(len(v) for v in actions.values() if isinstance(v, list | dict))
    if total > BATCH_LIMIT:
        raise WPError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            413,
        )

    def created(item: Mapping[str, Any]) -> dict[str, Any]:
        return render(create(item))

    def updated(item: Mapping[str, Any]) -> dict[str, Any]:
        return render(update(item))

    result: dict[str, list[dict[str, Any]]] = {}
    for item in map(_obj, _as_list(actions.get("create"))):
        # A failed create has no id yet: WooCommerce reports it as 0.
        result.setdefault("create", []).append(_attempt(0, created, item))
    for item in map(_obj, _as_list(actions.get("update"))):
        result.setdefault("update", []).append(_attempt(item.get("id"), updated, item))
    for record_id in map(_int_id, _as_list(actions.get("delete"))):
        if record_id:
            result.setdefault("delete", []).append(_attempt(record_id, delete, record_id))
    return result


def _attempt(
    item_id: Any, action: Callable[[Any], dict[str, Any]], argument: Any
) -> dict[str, Any]:
    try:
        return action(argument)
    except WPError as error:
        return {"id": item_id, "error": error.body()}


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else []


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def _wp_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WPError)
    return error_response(exc)


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        # WordPress answers a wrong method on a known route exactly like an unknown route.
        return error_response(no_route())
    body = {"code": "http_error", "message": exc.detail, "data": {"status": exc.status_code}}
    return wp_response(body, exc.status_code)
