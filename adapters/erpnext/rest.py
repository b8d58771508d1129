"""The Frappe REST calls both ERPNext adapters make: list pages, one document, writes.

Every call goes through the shared HTTP policy (adapters.http.send) with Frappe's error
envelope parsed by wire.parse_error, so a 417 arrives as BackendRejected carrying Frappe's
message. Lists always send ``limit_page_length`` (Frappe's default is 20) and page with
``limit_start`` until a short page comes back, because there is no total header.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from adapters.erpnext.wire import BACKEND, json_content, parse_error
from adapters.http import json_body, send
from adapters.resilience.policy import BackendPolicy
from gateway.errors import BackendRejected, BackendUnavailable


class FrappeRest:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timezone: str = "Europe/Berlin",
        max_retries: int = 2,
        page_size: int = 500,
        policy: BackendPolicy | None = None,
    ) -> None:
        self._client = client
        self._policy = policy or BackendPolicy(BACKEND)
        self._tz = ZoneInfo(timezone)
        self._max_retries = max_retries
        self._page_size = page_size

    async def _all(
        self,
        doctype: str,
        fields: list[str],
        filters: list[list[Any]],
        *,
        order_by: str = "name asc",
        parent: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every matching row, page after page, in a stable order."""
        rows: list[dict[str, Any]] = []
        while True:
            page = await self._page(
                doctype,
                fields,
                filters,
                order_by=order_by,
                parent=parent,
                start=len(rows),
                length=self._page_size,
            )
            rows.extend(page)
            if len(page) < self._page_size:
                return rows

    async def _page(
        self,
        doctype: str,
        fields: list[str],
        filters: list[list[Any]],
        *,
        start: int,
        length: int,
        or_filters: list[list[Any]] | None = None,
        order_by: str = "name asc",
        parent: str | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {
            "fields": json.dumps(fields),
            "filters": json.dumps(filters),
            "order_by": order_by,
            "limit_start": start,
            "limit_page_length": length,
        }
        if or_filters:
            params["or_filters"] = json.dumps(or_filters)
        if parent:
            params["parent"] = parent
        path = f"/api/resource/{quote(doctype)}"
        response = await send(
            self._policy,
            lambda: self._client.get(path, params=params),
            parse_error,
            max_retries=self._max_retries,
        )
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise BackendUnavailable(
                f"{BACKEND} answered {doctype} without a data list", backend=BACKEND
            )
        return [row for row in data if isinstance(row, dict)]

    async def _document(self, doctype: str, name: str) -> dict[str, Any] | None:
        """One whole document; None when Frappe says it does not exist (404)."""
        try:
            response = await send(
                self._policy,
                lambda: self._client.get(self._doc_path(doctype, name)),
                parse_error,
                max_retries=self._max_retries,
            )
        except BackendRejected as error:
            if error.status == 404:
                return None
            raise
        return self._unwrap(response, "data", doctype)

    async def _write(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        *,
        key: str = "data",
        retries: int | None = None,
    ) -> dict[str, Any] | None:
        """POST/PUT a JSON body; the document Frappe answers with under ``key``.

        ``retries=0`` is for inserts: a retried POST whose first answer was lost would make a
        second document, so the caller retries the look-up-then-insert as a whole instead.
        """
        content = json_content(body)
        headers = {"Content-Type": "application/json"}
        response = await send(
            self._policy,
            lambda: self._client.request(method, path, content=content, headers=headers),
            parse_error,
            max_retries=self._max_retries if retries is None else retries,
        )
        body_out = json_body(response)
        value = body_out.get(key) if isinstance(body_out, dict) else None
        # Older Frappe versions answer frappe.client.cancel with no document.
        return value if isinstance(value, dict) else None

    def _doc_path(self, doctype: str, name: str) -> str:
        return f"/api/resource/{quote(doctype)}/{quote(name, safe='')}"

    def _unwrap(self, response: httpx.Response, key: str, doctype: str) -> dict[str, Any]:
        body = json_body(response)
        value = body.get(key) if isinstance(body, dict) else None
        if not isinstance(value, dict):
            raise BackendUnavailable(
                f"{BACKEND} answered {doctype} without a document", backend=BACKEND
            )
        return value
