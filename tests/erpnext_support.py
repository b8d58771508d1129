"""Shared by the ERPNext simulator and adapter tests: the contract files, the dataset, and
clients wired to the simulator in-process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.erpnext import ErpNextAdapter, build_erpnext_client
from gateway.config import Settings
from sandbox.erpnext import create_app
from sandbox.retailer import Dataset
from sandbox.sample_data import generate
from tests.contracts import load_contract

KEY, SECRET = "sandbox-key", "sandbox-secret"
TOKEN = f"token {KEY}:{SECRET}"
BASE_URL = "http://erp.northtrail.test"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


def contract(name: str) -> dict[str, Any]:
    """A fresh copy of one contract file."""
    return load_contract("erp", name)


@cache
def dataset() -> Dataset:
    return generate(42, 500, 12)


def simulator(**knobs: Any) -> Starlette:
    """A fresh site per test: tests may change its rows through ``app.state.store``."""
    return create_app(dataset(), **knobs)


def raw_client(app: Starlette, authorization: str | None = TOKEN) -> httpx.AsyncClient:
    """A plain client on the simulator, for asserting on wire answers."""
    headers = {"Accept": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers
    )


def settings() -> Settings:
    return Settings(
        erp_base_url=BASE_URL, erp_api_key=KEY, erp_api_secret=SECRET, http_transport="httpx"
    )


def adapter_on(
    transport: httpx.AsyncBaseTransport, *, max_retries: int = 2, **options: Any
) -> ErpNextAdapter:
    client = build_erpnext_client(settings(), transport=transport)
    options.setdefault("clock", FixedClock())
    return ErpNextAdapter(client, max_retries=max_retries, **options)


def filters_of(request: httpx.Request, name: str = "filters") -> Any:
    """The decoded JSON query parameter of a Frappe list request."""
    raw = request.url.params.get(name)
    return None if raw is None else json.loads(raw)
