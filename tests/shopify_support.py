"""Shared by the Shopify (OMS) simulator and adapter tests: the contract files, a pinned
clock, and clients wired to the simulator in-process."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.shopify import ShopifyAdapter, build_shopify_client
from gateway.config import Settings
from sandbox.retailer import Dataset
from sandbox.sample_data import generate
from sandbox.shopify import create_app
from tests.contracts import load_contract

TOKEN = "shpat_sandbox"
VERSION = "2026-10"
BASE_URL = "https://northtrail-oms.myshopify.com"
GRAPHQL = f"/admin/api/{VERSION}/graphql.json"
# The contract's order came in at 10:16:44 UTC.
NOW = datetime(2026, 11, 20, 10, 16, 44, tzinfo=UTC)
CENTRAL = "gid://shopify/Location/71234560001"
NORTH_HUB = "gid://shopify/Location/71234560002"
DOWNTOWN = "gid://shopify/Location/71234560004"


def contract(name: str) -> dict[str, Any]:
    """A fresh copy of one contract file."""
    return load_contract("oms", name)


@cache
def dataset() -> Dataset:
    return generate(42, 500, 12)


def simulator(**knobs: Any) -> Starlette:
    knobs.setdefault("clock", lambda: NOW)
    return create_app(dataset(), **knobs)


def raw_client(app: Starlette, token: str | None = TOKEN) -> httpx.AsyncClient:
    """A plain client on the simulator, for asserting on wire answers."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token is not None:
        headers["X-Shopify-Access-Token"] = token
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers
    )


async def graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post(GRAPHQL, json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def replay(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """Send a contract file's request body as it is; return the response body."""
    body = contract(name)["request"]["body"]
    response = await client.post(GRAPHQL, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def settings(token: str = TOKEN) -> Settings:
    return Settings(
        oms_base_url=BASE_URL,
        oms_access_token=token,
        oms_api_version=VERSION,
        http_transport="httpx",
    )


def adapter(app: Starlette, token: str = TOKEN, **options: Any) -> ShopifyAdapter:
    """The production client (build_shopify_client) with the simulator as its transport."""
    client = build_shopify_client(settings(token), transport=httpx.ASGITransport(app=app))
    return ShopifyAdapter(client, **options)
