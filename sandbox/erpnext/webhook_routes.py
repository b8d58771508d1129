"""``/api/resource/Webhook``: the Webhook doctype over Frappe's REST API (insert, list, get,
save, delete), behind the same authentication as every other resource. A Webhook reads back
as ``frappe.get_doc(...).as_dict()`` does: its child tables with their row fields, and the
secret, a Password field, as asterisks."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.erpnext.documents import API_USER
from sandbox.erpnext.webhooks import FrappeWebhook, SiteWebhooks
from sandbox.erpnext.wire import json_param, validation_error

_CHILD = {"webhook_data": "Webhook Data", "webhook_headers": "Webhook Header"}


class WebhookResource:
    def __init__(self, webhooks: SiteWebhooks) -> None:
        self.webhooks = webhooks

    async def listed(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        fields = params.get("fields") or '["name"]'
        wanted = json_param(fields, "fields") if isinstance(fields, str) else fields
        if not isinstance(wanted, list):
            raise validation_error("fields must be a list")
        rows = [document(w) for w in self.webhooks.hooks.values()]
        if "*" not in wanted:
            rows = [{k: row.get(k) for k in wanted} for row in rows]
        return {"data": rows}

    async def insert(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        return {"data": document(self.webhooks.insert(_data(request, params)))}

    async def read(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        return {"data": document(self.webhooks.get(_name(request)))}

    async def save(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        return {"data": document(self.webhooks.update(_name(request), _data(request, params)))}

    async def delete(self, request: Request, params: dict[str, Any]) -> Response:
        self.webhooks.delete(_name(request))
        return JSONResponse({"message": "ok"}, status_code=202)


def document(webhook: FrappeWebhook) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": webhook.name,
        "owner": API_USER,
        "creation": webhook.creation,
        "modified": webhook.modified,
        "modified_by": API_USER,
        "docstatus": 0,
        "idx": 0,
        "webhook_doctype": webhook.webhook_doctype,
        "webhook_docevent": webhook.webhook_docevent,
        "enabled": webhook.enabled,
        "condition": webhook.condition,
        "request_url": webhook.request_url,
        "timeout": webhook.timeout,
        "is_dynamic_url": webhook.is_dynamic_url,
        "request_method": webhook.request_method,
        "request_structure": webhook.request_structure or None,
        "enable_security": webhook.enable_security,
        "webhook_secret": "*" * len(webhook.webhook_secret) if webhook.webhook_secret else None,
        "webhook_json": webhook.webhook_json,
        "doctype": "Webhook",
    }
    doc = {k: v for k, v in doc.items() if v is not None}
    for table, child in _CHILD.items():
        doc[table] = [
            {
                "name": f"{webhook.name}-{table}-{idx}",
                "idx": idx,
                "parent": webhook.name,
                "parentfield": table,
                "parenttype": "Webhook",
                **row,
                "doctype": child,
            }
            for idx, row in enumerate(getattr(webhook, table), start=1)
        ]
    return doc


def _name(request: Request) -> str:
    return str(request.path_params["name"]).rstrip("/")


def _data(request: Request, params: dict[str, Any]) -> dict[str, Any]:
    """get_request_form_data: the form's ``data`` field, or else the body."""
    raw = params.get("data")
    data: Any = (
        {k: v for k, v in params.items() if k not in request.query_params}
        if raw is None
        else (json_param(raw, "data") if isinstance(raw, str) else raw)
    )
    if not isinstance(data, dict):
        raise validation_error("The request body must be a JSON object")
    return data
