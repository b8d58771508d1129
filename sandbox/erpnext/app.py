"""The Frappe REST routes of the simulated ERPNext site, with auth, latency and faults.

Routes (each also under /api/v1/): ``GET /api/resource/{doctype}`` (frappe.client.get_list),
``GET /api/resource/{doctype}/{name}`` (the whole document), and ``GET|POST
/api/method/{method}`` for frappe.client.get_count, frappe.client.get_list, frappe.client.get
and frappe.auth.get_logged_user. Writes, for Sales Order, Stock Entry, Delivery Note and Stock
Reconciliation only: ``POST /api/resource/{doctype}`` (insert; docstatus 1 also submits),
``PUT /api/resource/{doctype}/{name}`` (save; docstatus 1 submits, 2 cancels) and the methods
frappe.client.insert, frappe.client.submit and frappe.client.cancel. The body is JSON or a
form whose ``data`` field holds the JSON (what the frappe-client library sends).

The Webhook doctype (sandbox.erpnext.webhook_routes): ``GET|POST /api/resource/Webhook``
and ``GET|PUT|DELETE /api/resource/Webhook/{name}``; the site then sends the requests its
Webhooks describe when documents change (sandbox.erpnext.webhooks). Stock moved by a
document leaves Stock Ledger Entries, readable like any other doctype.

Sandbox only, no credentials needed: ``POST /_sandbox/sales_orders/{name}/deliver`` ships a
submitted Sales Order: a Delivery Note for every open row, submitted (a warehouse shipping
on its own, without the gateway asking); ``/_sandbox/webhooks`` holds the webhook knobs
(sandbox.webhooks.control), and ``app.state.webhooks`` is the sender itself.

Every request is counted in ``app.state.calls`` under ``"METHOD /api/resource/<Doctype>"``
(``.../<Doctype>/{name}`` for one document), ``"METHOD /api/method/<method>"`` or
``"POST /_sandbox/sales_orders/{name}/deliver"``, injected faults and refused requests included.
``app.state.faults`` (sandbox.faults) holds the latency and failure knobs.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from time import monotonic
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.erpnext.bins import BinLedger
from sandbox.erpnext.delivery_note import DeliveryNotes
from sandbox.erpnext.documents import API_USER, Site, Submittable
from sandbox.erpnext.items import ItemEditor
from sandbox.erpnext.meta import PARENT_OF
from sandbox.erpnext.query import ListQuery, run_count, run_list
from sandbox.erpnext.selling import SalesOrders
from sandbox.erpnext.stock_entry import StockEntries
from sandbox.erpnext.stock_reconciliation import StockReconciliations
from sandbox.erpnext.store import ErpStore
from sandbox.erpnext.webhook_routes import WebhookResource
from sandbox.erpnext.webhooks import SiteWebhooks
from sandbox.erpnext.wire import (
    FrappeError,
    authentication_error,
    cint,
    json_param,
    not_found,
    permission_error,
    validation_error,
)
from sandbox.fault_routes import fault_routes
from sandbox.faults import NGINX_503_PAGE, Faults
from sandbox.json_response import FastJSONResponse
from sandbox.retailer import Dataset
from sandbox.webhooks import FlushAfterRequest, WebhookSender, control_routes

RATE_LIMITED = "You hit the rate limit because of too many requests. Please try after sometime."

Handler = Callable[[Request, dict[str, Any]], Awaitable[Any]]


def create_app(
    dataset: Dataset,
    *,
    api_key: str = "sandbox-key",
    api_secret: str = "sandbox-secret",
    timezone: str = "Europe/Berlin",
    latency_ms: float = 0,
    error_rate: float = 0.0,
    rng_seed: int = 0,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """A Frappe REST simulator over ``dataset``; see the module docstring for the routes.

    ``clock`` stamps written documents; by default the site's time starts at the dataset's
    base time and runs on, so new figures are never older than the seeded ones.
    """
    store = ErpStore(dataset, timezone)
    started = monotonic()
    site = Site(
        store,
        clock or (lambda: dataset.base_time + timedelta(seconds=monotonic() - started)),
    )
    bins = BinLedger(store, site.now)
    sender = WebhookSender()
    webhooks = WebhookResource(SiteWebhooks(store, sender, site.now))
    sales_orders = SalesOrders(site, bins)
    delivery_notes = DeliveryNotes(site, sales_orders)
    writers: dict[str, Submittable] = {
        "Sales Order": sales_orders,
        "Stock Entry": StockEntries(site, bins),
        "Delivery Note": delivery_notes,
        "Stock Reconciliation": StockReconciliations(site, bins),
    }
    items = ItemEditor(store)  # an Item's barcode table, saved by PUT
    calls: Counter[str] = Counter()
    faults = Faults(
        "ERPNext", _FAULTS, latency_ms=latency_ms, error_rate=error_rate, rng_seed=rng_seed
    )

    def authenticate(request: Request, guest_message: str) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.strip().partition(" ")
        if not header:
            # No credentials make the caller Guest, who may read none of these doctypes.
            raise permission_error(guest_message)
        if scheme.lower() == "basic":
            try:
                credentials = base64.b64decode(credentials, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise FrappeError(
                    401,
                    "InvalidAuthorizationToken",
                    "Failed to decode token, please provide a valid base64-encoded token.",
                ) from exc
        elif scheme.lower() != "token":
            raise authentication_error()
        key, _, secret = credentials.strip().partition(":")
        if not (
            hmac.compare_digest(key.encode(), api_key.encode())
            and hmac.compare_digest(secret.encode(), api_secret.encode())
        ):
            raise authentication_error()

    def writer(doctype: str) -> Submittable:
        store.table(doctype)  # an unknown doctype is a 404
        if doctype not in writers:
            raise permission_error(f"No permission for {doctype}")
        return writers[doctype]

    def endpoint(
        key: Callable[[Request], str], guest: Callable[[Request], str], *, sandbox: bool = False
    ) -> Any:
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def run(request: Request) -> Response:
                calls[f"{request.method} {key(request)}"] += 1
                await faults.delay()
                # Sandbox controls are the test's hands, not the backend: no faults, no auth.
                fault = None if sandbox else faults.next_failure()
                if fault is not None:
                    return fault
                try:
                    if not sandbox:
                        authenticate(request, guest(request))
                    params = await _form_dict(request)
                    answer = await handler(request, params)
                    return answer if isinstance(answer, Response) else FastJSONResponse(answer)
                except FrappeError as error:
                    return JSONResponse(error.body(), error.status, headers=error.headers)

            return run

        return wrap

    def doctype_of(request: Request) -> str:
        return str(request.path_params["doctype"])

    def method_of(request: Request) -> str:
        # frappe/api/v1.py: anything after a "/" is ignored (and a trailing slash is common).
        return str(request.path_params["method"]).split("/")[0]

    @endpoint(
        lambda r: f"/api/resource/{doctype_of(r)}",
        lambda r: f"Insufficient Permission for <strong>{doctype_of(r)}</strong>",
    )
    async def document_list(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        # frappe/api/v1.py: `limit` only stands in when limit_page_length is absent.
        if "limit_page_length" not in params:
            params["limit_page_length"] = params.get("limit") or 20
        rows = run_list(store, _list_query(doctype_of(request), params))
        if params.get("as_dict") in ("0", "false", "False", False, 0):
            return {"data": [list(row.values()) for row in rows]}
        return {"data": rows}

    @endpoint(
        lambda r: f"/api/resource/{doctype_of(r)}/{{name}}",
        lambda r: f"Insufficient Permission for <strong>{doctype_of(r)}</strong>",
    )
    async def read_doc(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        name = str(request.path_params["name"]).rstrip("/")
        return {"data": store.document(doctype_of(request), name)}

    @endpoint(
        lambda r: f"/api/resource/{doctype_of(r)}",
        lambda r: f"Insufficient Permission for <strong>{doctype_of(r)}</strong>",
    )
    async def insert_doc(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        target = writer(doctype_of(request))
        return {"data": target.document(target.insert(_request_data(request, params)))}

    @endpoint(
        lambda r: f"/api/resource/{doctype_of(r)}/{{name}}",
        lambda r: f"Insufficient Permission for <strong>{doctype_of(r)}</strong>",
    )
    async def update_doc(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        doctype = doctype_of(request)
        target = items if doctype == "Item" else writer(doctype)
        name = str(request.path_params["name"]).rstrip("/")
        target.update(name, _request_data(request, params))
        return {"data": target.document(name)}

    @endpoint(lambda r: "/_sandbox/sales_orders/{name}/deliver", lambda r: "", sandbox=True)
    async def deliver(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        name = str(request.path_params["name"])
        delivery_notes.deliver_everything(name)
        return {"data": sales_orders.document(name)}

    def write_method(method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "frappe.client.cancel":
            target = writer(str(params.get("doctype") or ""))
            name = str(params.get("name") or "")
            target.cancel(name)
            return {"message": target.document(name)}
        doc = params.get("doc")
        doc = json_param(doc, "doc") if isinstance(doc, str) else doc
        if not isinstance(doc, dict):
            raise validation_error(f"{method}() missing 1 required positional argument: 'doc'")
        target = writer(str(doc.get("doctype") or ""))
        if method == "frappe.client.insert":
            return {"message": target.document(target.insert(doc))}
        name = str(doc.get("name") or "")
        target.update(name, {**doc, "docstatus": 1})  # frappe.client.submit
        return {"message": target.document(name)}

    @endpoint(lambda r: f"/api/method/{method_of(r)}", lambda r: "Not permitted")
    async def call_method(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        method = method_of(request)
        if method == "frappe.auth.get_logged_user":
            return {"message": API_USER}
        if method in _WRITE_METHODS:
            if request.method != "POST":
                raise FrappeError(403, "PermissionError", "Not permitted")
            return write_method(method, params)
        doctype = params.get("doctype")
        if method not in _METHODS:
            raise not_found(
                f"Failed to get method for command {method} with No module named '{method}'"
            )
        if not isinstance(doctype, str) or not doctype:
            raise validation_error(f"{method}() missing 1 required positional argument: 'doctype'")
        if method == "frappe.client.get_count":
            query = _list_query(doctype, {**params, "limit_page_length": 0})
            distinct = str(params.get("distinct", "")).lower() in ("1", "true")
            return {"message": run_count(store, query, distinct=distinct)}
        if method == "frappe.client.get_list":
            return {"message": run_list(store, _list_query(doctype, params))}
        return {"message": _get(store, doctype, params)}

    hook_list = endpoint(lambda r: "/api/resource/Webhook", _guest_of_webhooks)
    hook_one = endpoint(lambda r: "/api/resource/Webhook/{name}", _guest_of_webhooks)
    routes = []
    for prefix in ("/api", "/api/v1"):
        # Before the generic resource routes, which would take Webhook for a doctype.
        webhook = f"{prefix}/resource/Webhook"
        routes += [
            Route(webhook, hook_list(webhooks.listed), methods=["GET"]),
            Route(webhook, hook_list(webhooks.insert), methods=["POST"]),
            Route(f"{webhook}/{{name:path}}", hook_one(webhooks.read), methods=["GET"]),
            Route(f"{webhook}/{{name:path}}", hook_one(webhooks.save), methods=["PUT"]),
            Route(f"{webhook}/{{name:path}}", hook_one(webhooks.delete), methods=["DELETE"]),
        ]
        routes += [
            Route(f"{prefix}/resource/{{doctype}}", document_list, methods=["GET"]),
            Route(f"{prefix}/resource/{{doctype}}", insert_doc, methods=["POST"]),
            Route(f"{prefix}/resource/{{doctype}}/{{name:path}}", read_doc, methods=["GET"]),
            Route(f"{prefix}/resource/{{doctype}}/{{name:path}}", update_doc, methods=["PUT"]),
            Route(f"{prefix}/method/{{method:path}}", call_method, methods=["GET", "POST"]),
        ]
    routes.append(Route("/_sandbox/sales_orders/{name}/deliver", deliver, methods=["POST"]))
    routes += control_routes(sender)
    routes += fault_routes(faults)
    app = Starlette(routes=routes)
    app.state.calls = calls
    app.state.faults = faults
    app.state.store = store
    app.state.dataset = dataset
    app.state.webhooks = sender
    app.state.site_webhooks = webhooks.webhooks
    app.add_middleware(FlushAfterRequest, sender=sender)
    return app


def _guest_of_webhooks(request: Request) -> str:
    return "Insufficient Permission for <strong>Webhook</strong>"


def _lost_database() -> Response:
    error = FrappeError(
        500,
        "OperationalError",
        "(2013, 'Lost connection to MySQL server during query')",
        module="pymysql.err",
    )
    body = {**error.body(), "exc": json.dumps(["Traceback (most recent call last): ..."])}
    return JSONResponse(body, status_code=500)


def _nginx_unavailable() -> Response:
    return HTMLResponse(NGINX_503_PAGE, status_code=503)


def _rate_limited() -> Response:
    error = FrappeError(429, "TooManyRequestsError", RATE_LIMITED)
    headers = {
        "Retry-After": "1",
        "X-RateLimit-Limit": "600000000",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1",
    }
    return JSONResponse(error.body(), status_code=429, headers=headers)


# The canned failures, in the order the seeded pick draws from.
_FAULTS = {500: _lost_database, 503: _nginx_unavailable, 429: _rate_limited}

_METHODS = ("frappe.client.get_count", "frappe.client.get_list", "frappe.client.get")
_WRITE_METHODS = ("frappe.client.insert", "frappe.client.submit", "frappe.client.cancel")


async def _form_dict(request: Request) -> dict[str, Any]:
    """frappe.form_dict: query string plus a form or JSON body."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method in ("POST", "PUT"):
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:  # a urlencoded form, read without python-multipart
            params.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    return params


def _request_data(request: Request, params: dict[str, Any]) -> dict[str, Any]:
    """frappe.api's get_request_form_data: the form's ``data`` field, or else the body."""
    raw = params.get("data")
    if raw is None:
        data: Any = {k: v for k, v in params.items() if k not in request.query_params}
    else:
        data = json_param(raw, "data") if isinstance(raw, str) else raw
    if not isinstance(data, dict):
        raise validation_error("The request body must be a JSON object")
    return data


def _list_query(doctype: str, params: dict[str, Any]) -> ListQuery:
    def decoded(name: str) -> Any:
        value = params.get(name)
        return json_param(value, name) if isinstance(value, str) else value

    return ListQuery(
        doctype=doctype,
        fields=decoded("fields"),
        filters=decoded("filters"),
        or_filters=decoded("or_filters"),
        order_by=params.get("order_by") or None,
        limit_start=max(0, cint(params.get("limit_start"))),
        limit_page_length=max(0, cint(params.get("limit_page_length", params.get("limit", 20)))),
        parent_doctype=params.get("parent") or None,
    )


def _get(store: ErpStore, doctype: str, params: dict[str, Any]) -> dict[str, Any]:
    """frappe.client.get: by name, or the first document matching ``filters``."""
    if doctype in PARENT_OF and params.get("parent") != PARENT_OF[doctype]:
        raise permission_error(f"Insufficient Permission for <strong>{doctype}</strong>")
    name = params.get("name")
    if not name:
        query = _list_query(
            doctype,
            {"filters": params.get("filters"), "parent": params.get("parent"), "limit": 1},
        )
        rows = run_list(store, query)
        if not rows:
            raise validation_error("No document found for given filters")
        name = rows[0]["name"]
    return store.document(doctype, str(name))
