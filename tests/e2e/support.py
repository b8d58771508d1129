"""What the end-to-end tests share: the four simulators on loopback ports, the gateway over
them (``Stack``), the GraphQL documents several flows send, and readings of what users and
backends see. The fixtures built on these are in tests/e2e/conftest.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.app import create_app
from gateway.config import Settings
from sandbox.servers import simulator_apps
from tests.asgi import GraphQLClient
from tests.live_server import serve

SHOE = "SHOE-TRAIL-42"
SOCKS = "SOCK-MER-CREW-M"
BERLIN = {"lat": 52.52, "lng": 13.405}
BERLIN_STORE = "ST-BERLIN-STORE"  # Square; PICKUP only
CENTRAL_WAREHOUSE = "WH-CENTRAL-WAREHOUSE"  # ERP

ROWS = """query ($sku: String!) { product(sku: $sku) { availability(near: {lat: 52.52, lng: 13.405}) {
  locations { location { id type stockSource sourceRef capabilities } distanceKm
              onHand reserved held incoming availableToPromise } } } }"""
ORDER_FIELDS = """id status channel customerEmail pickupLocationId pickupDeadline createdAt
  total { amount currency }
  lines { sku quantity locationId returnedQuantity unitPrice { amount currency } }
  fulfillmentLocationIds systems { system id status }
  timeline { kind detail fromStatus toStatus }"""
PLACE = f"""mutation ($input: PlaceOrderInput!, $key: String!) {{
  placeOrder(input: $input, idempotencyKey: $key) {{ {ORDER_FIELDS} }} }}"""
ORDER = f"query ($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
CANCEL = f"""mutation ($id: ID!, $key: String!) {{
  cancelOrder(id: $id, idempotencyKey: $key, reason: "changed mind") {{ {ORDER_FIELDS} }} }}"""
READY = f"""mutation ($id: ID!, $key: String!) {{
  markReadyForPickup(id: $id, idempotencyKey: $key) {{ {ORDER_FIELDS} }} }}"""
COLLECTED = f"""mutation ($id: ID!, $key: String!) {{
  confirmPickup(id: $id, idempotencyKey: $key) {{ {ORDER_FIELDS} }} }}"""


@contextmanager
def simulators(dataset, tmp_path):
    """The four simulators on loopback ports; yields them and a Settings maker for them."""
    apps = simulator_apps(dataset)
    nodes = tmp_path / "nodes.json"
    nodes.write_text(json.dumps(dataset.nodes_config()))
    with (
        serve(apps["erp"]) as erp,
        serve(apps["woocommerce"]) as woo,
        serve(apps["square"]) as sq,
        serve(apps["oms"]) as oms,
    ):

        def settings(**overrides) -> Settings:
            values = {
                "erp_base_url": erp,
                "woo_base_url": woo,
                "square_base_url": sq,
                "oms_base_url": oms,
                "nodes_file": nodes,
                "redis_url": None,
                **overrides,
            }
            return Settings(_env_file=None, **values)

        yield apps, settings


@dataclass
class Stack:
    gql: GraphQLClient
    apps: dict[str, Any]
    settings: Any  # the Settings maker of simulators()

    @property
    def services(self) -> Any:
        return self.gql.app.state.services

    async def drain(self) -> None:
        await self.services.worker.drain()

    @asynccontextmanager
    async def another_gateway(self, **overrides: Any) -> AsyncIterator[GraphQLClient]:
        """A second gateway process on the same database, with its own cache."""
        async with GraphQLClient(create_app(self.settings(**quiet(overrides)))) as client:
            yield client


def quiet(overrides: dict[str, Any]) -> dict[str, Any]:
    # No background loops (the test drains) and no whole-response micro-cache, so every
    # answer is computed from the ledger and the cached source readings under test.
    return {"run_workers": False, "response_cache_seconds": 0, **overrides}


@asynccontextmanager
async def gateway(dataset, tmp_path, **overrides: Any) -> AsyncIterator[Stack]:
    with simulators(dataset, tmp_path) as (apps, settings):
        async with GraphQLClient(create_app(settings(**quiet(overrides)))) as gql:
            yield Stack(gql, apps, settings)


# --- reading what users and backends see -------------------------------------------------


async def ok(gql: GraphQLClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await gql(query, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


async def error_of(gql: GraphQLClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await gql(query, **variables)
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]


async def rows(gql: GraphQLClient, sku: str) -> dict[str, dict[str, Any]]:
    data = await ok(gql, ROWS, sku=sku)
    return {r["location"]["id"]: r for r in data["product"]["availability"]["locations"]}


async def position(gql: GraphQLClient, sku: str, location_id: str) -> dict[str, Any]:
    return (await rows(gql, sku))[location_id]


def square_in_stock(apps: dict[str, Any], sku: str, store_ref: str) -> int:
    simulator = apps["square"].state.simulator
    (vid,) = [v for v, variation in simulator.catalog.variations.items() if variation.sku == sku]
    counts = simulator.inventory.counts(vid, store_ref)
    return int(counts["IN_STOCK"][0]) if "IN_STOCK" in counts else 0


def oms_orders_for(apps: dict[str, Any], order_id: str) -> list[Any]:
    return [o for o in apps["oms"].state.shop.orders.values() if o.source_identifier == order_id]


def system(order: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((s for s in order["systems"] if s["system"] == name), None)


def delivery_to(email: str) -> dict[str, Any]:
    return {
        "lines": [],
        "channel": "ONLINE",
        "customer": {"email": email, "name": "Ann Example"},
        "delivery": {
            "address": {
                "name": "Ann Example",
                "line1": "Invalidenstrasse 44",
                "city": "Berlin",
                "postalCode": "10115",
                "countryCode": "DE",
                **BERLIN,
            }
        },
    }


def order_input(email: str, lines: list[tuple[str, int]], pickup: str | None = None) -> dict:
    base = delivery_to(email)
    base["lines"] = [{"sku": sku, "quantity": qty} for sku, qty in lines]
    if pickup is not None:
        del base["delivery"]
        base["channel"] = "PICKUP"
        base["pickup"] = {"locationId": pickup}
    return base


async def place(stack: Stack, key: str, **kwargs: Any) -> dict[str, Any]:
    return (await ok(stack.gql, PLACE, input=order_input(**kwargs), key=key))["placeOrder"]


def erp_bin(apps: dict[str, Any], sku: str, warehouse: str) -> tuple[int, int]:
    """(actual_qty, reserved_qty) of one ERPNext Bin."""
    table = apps["erp"].state.store.table("Bin")
    (row,) = [
        r for r in table.rows(table.positions("item_code", [sku])) if r["warehouse"] == warehouse
    ]
    return int(row["actual_qty"]), int(row["reserved_qty"])


async def ship_sales_order(stack: Stack, name: str) -> None:
    """The warehouse ships the Sales Order (the ERP simulator's sandbox route)."""
    settings = stack.settings()
    async with httpx.AsyncClient(base_url=settings.erp_base_url) as client:
        response = await client.post(
            f"/_sandbox/sales_orders/{name}/deliver",
            headers={"Authorization": f"token {settings.erp_api_key}:{settings.erp_api_secret}"},
        )
    assert response.status_code == 200, response.text
