"""The Frappe REST routes of the simulated ERPNext site, with auth, latency and faults.

Routes (each also under /api/v1/): ``GET /api/resource/{doctype}`` (frappe.client.get_list),
``GET /api/resource/{doctype}/{name}`` (the whole document), and ``GET|POST
/api/method/{method}`` for frappe.client.get_count, frappe.client.get_list, frappe.client.get
and frappe.auth.get_logged_user. Every request is counted in ``app.state.calls`` under
``"METHOD /api/resource/<Doctype>"`` (``.../<Doctype>/{name}`` for one document) or
``"METHOD /api/method/<method>"``, injected faults and refused requests included.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.erpnext.meta import PARENT_OF
from sandbox.erpnext.query import ListQuery, run_count, run_list
from sandbox.erpnext.store import ErpStore
from sandbox.erpnext.wire import (
    FrappeError,
    authentication_error,
    cint,
    json_param,
    not_found,
    permission_error,
    validation_error,
)
from sandbox.sample_data import Dataset

API_USER = "integration@northtrail.example"
RATE_LIMITED = "You hit the rate limit because of too many requests. Please try after sometime."
_NGINX_503 = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

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
) -> Starlette:
    """A Frappe REST simulator over ``dataset``; see the module docstring for the routes."""
    store = ErpStore(dataset, timezone)
    calls: Counter[str] = Counter()
    faults = random.Random(rng_seed)

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

    def injected_fault() -> Response | None:
        if error_rate <= 0 or faults.random() >= error_rate:
            return None
        kind = faults.choice(("500", "503", "429"))
        if kind == "503":
            return HTMLResponse(_NGINX_503, status_code=503)
        if kind == "429":
            error = FrappeError(429, "TooManyRequestsError", RATE_LIMITED)
            headers = {
                "Retry-After": "1",
                "X-RateLimit-Limit": "600000000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "1",
            }
            return JSONResponse(error.body(), status_code=429, headers=headers)
        error = FrappeError(
            500,
            "OperationalError",
            "(2013, 'Lost connection to MySQL server during query')",
            module="pymysql.err",
        )
        body = {**error.body(), "exc": json.dumps(["Traceback (most recent call last): ..."])}
        return JSONResponse(body, status_code=500)

    def endpoint(key: Callable[[Request], str], guest: Callable[[Request], str]) -> Any:
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def run(request: Request) -> Response:
                calls[f"{request.method} {key(request)}"] += 1
                if latency_ms > 0:
                    await asyncio.sleep(latency_ms / 1000)
                fault = injected_fault()
                if fault is not None:
                    return fault
                try:
                    authenticate(request, guest(request))
                    params = await _form_dict(request)
                    return JSONResponse(await handler(request, params))
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

    @endpoint(lambda r: f"/api/method/{method_of(r)}", lambda r: "Not permitted")
    async def call_method(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        method = method_of(request)
        if method == "frappe.auth.get_logged_user":
            return {"message": API_USER}
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

    routes = []
    for prefix in ("/api", "/api/v1"):
        routes += [
            Route(f"{prefix}/resource/{{doctype}}", document_list, methods=["GET"]),
            Route(f"{prefix}/resource/{{doctype}}/{{name:path}}", read_doc, methods=["GET"]),
            Route(f"{prefix}/method/{{method:path}}", call_method, methods=["GET", "POST"]),
        ]
    app = Starlette(routes=routes)
    app.state.calls = calls
    app.state.store = store
    app.state.dataset = dataset
    return app


_METHODS = ("frappe.client.get_count", "frappe.client.get_list", "frappe.client.get")


async def _form_dict(request: Request) -> dict[str, Any]:
    """frappe.form_dict: query string plus a form or JSON body."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:  # a urlencoded form, read without python-multipart
            params.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    return params


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
