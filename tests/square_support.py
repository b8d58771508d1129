"""Shared by the Square simulator and adapter tests: the contract files, a pinned clock, and
clients wired to the simulator in-process."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.square import build_square_client
from gateway.config import Settings
from sandbox.retailer import Dataset
from sandbox.sample_data import generate
from sandbox.square import create_app
from tests.contracts import load_contract

TOKEN = "sandbox-square-token"
VERSION = "2025-08-20"
# Ten minutes after the contract's batch-create example, so its occurred_at values are valid.
NOW = datetime(2026, 11, 20, 10, 26, 41, 311000, tzinfo=UTC)
BASE_URL = "https://connect.squareupsandbox.com"


def contract(name: str) -> dict[str, Any]:
    """A fresh copy of one contract file."""
    return load_contract("pos", name)


@cache
def dataset() -> Dataset:
    return generate(42, 500, 12)


def simulator(**knobs: Any) -> Starlette:
    knobs.setdefault("clock", lambda: NOW)
    return create_app(dataset(), **knobs)


def raw_client(app: Starlette, token: str | None = TOKEN) -> httpx.AsyncClient:
    """A plain client on the simulator, for asserting on wire answers."""
    headers = {"Square-Version": VERSION}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers
    )


def settings(token: str = TOKEN) -> Settings:
    return Settings(
        square_base_url=BASE_URL,
        square_access_token=token,
        square_version=VERSION,
        http_transport="httpx",
    )


def adapter_client(app: Starlette, token: str = TOKEN) -> httpx.AsyncClient:
    """The production client (build_square_client) with the simulator as its transport."""
    return build_square_client(settings(token), transport=httpx.ASGITransport(app=app))
