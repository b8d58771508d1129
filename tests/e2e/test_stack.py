"""The real gateway over the real adapters and the three simulators on loopback ports."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from gateway.app import create_app
from gateway.config import Settings
from sandbox.demo import run_demo
from sandbox.servers import SimulatorPorts
from tests.asgi import GraphQLClient
from tests.e2e.support import simulators
from tests.live_server import free_port


# Here the stack is the plain client and the simulator apps, not the conftest's Stack.
@pytest.fixture
async def stack(dataset, tmp_path):
    with simulators(dataset, tmp_path) as (apps, settings):
        async with GraphQLClient(create_app(settings())) as client:
            yield client, apps


def calls(apps) -> dict[str, Counter]:
    return {name: Counter(app.state.calls) for name, app in apps.items()}


PAGE = """query ($first: Int!) { products(first: $first) { edges { node {
    sku name webPrice { amount } storePrice { amount } barcodes
    availability(near: {lat: 52.52, lng: 13.405}) { totalAvailable locations { availableToPromise } }
} } } }"""


async def test_a_page_of_50_products_with_availability_costs_one_call_per_backend_endpoint(stack):
    gql, apps = stack
    before = calls(apps)
    body = await gql(PAGE, first=50)
    assert "errors" not in body, body["errors"]
    assert len(body["data"]["products"]["edges"]) == 50
    catalog_backends = ("erp", "woocommerce", "square")  # the OMS holds no catalogue
    used = {name: calls(apps)[name] - before[name] for name in catalog_backends}
    for backend, counter in used.items():
        assert counter, f"{backend} was never asked"
        assert max(counter.values()) == 1, (backend, counter)
    # And a page of one product touches exactly the same endpoints: the cost does not grow
    # with the page, it is one batched call each.
    one_page_endpoints = {name: set(c) for name, c in used.items()}
    async with GraphQLClient(gql.app) as fresh:  # a fresh app: a cold cache again
        before = calls(apps)
        await fresh(PAGE, first=1)
        assert {
            name: set(calls(apps)[name] - before[name]) for name in catalog_backends
        } == one_page_endpoints


async def test_cached_product_page_makes_no_backend_calls(stack):
    gql, apps = stack
    query = '{ product(sku: "SHOE-TRAIL-42") { name availability { totalAvailable } } }'
    first = await gql(query)
    before = calls(apps)
    second = await gql(query)
    assert first == second
    assert calls(apps) == before


async def test_availability_reflects_each_source_of_truth(stack, dataset):
    gql, _ = stack
    body = await gql(
        '{ product(sku: "SHOE-TRAIL-42") { webListing { stockQuantity }'
        " availability { locations { location { id stockSource sourceRef } onHand reserved } } } }"
    )
    rows = body["data"]["product"]["availability"]["locations"]
    for row in rows:
        ref = row["location"]["sourceRef"]
        if row["location"]["stockSource"] == "ERP":
            figures = dataset.bin("SHOE-TRAIL-42", ref) or {
                "actual_qty": 0,
                "reserved_qty": 0,
                "reserved_stock": 0,
            }
            assert row["onHand"] == figures["actual_qty"]
            assert row["reserved"] == max(figures["reserved_qty"], figures["reserved_stock"])
        else:
            counts = dataset.store_count("SHOE-TRAIL-42", ref) or {}
            assert row["onHand"] == counts.get("IN_STOCK", 0) + counts.get("RESERVED_FOR_SALE", 0)
    assert body["data"]["product"]["webListing"]["stockQuantity"] == dataset.web_stock(
        "SHOE-TRAIL-42"
    )


async def test_drift_is_visible_web_copy_against_online_truth(stack, dataset):
    gql, _ = stack
    sku = sorted(dataset.drift_skus)[0]
    body = await gql(
        "query ($sku: String!) { product(sku: $sku) { webListing { stockQuantity }"
        " availability(channel: ONLINE) { totalAvailable"
        " locations { location { type } availableToPromise } } } }",
        sku=sku,
    )
    product = body["data"]["product"]
    warehouses = sum(
        r["availableToPromise"]
        for r in product["availability"]["locations"]
        if r["location"]["type"] == "WAREHOUSE"
    )
    assert warehouses == dataset.erp_sellable(sku)
    online = product["availability"]["totalAvailable"]
    assert online == dataset.online_sellable(sku)
    assert product["webListing"]["stockQuantity"] != online


async def test_backend_down_is_backend_unavailable_not_a_trace(dataset, tmp_path):
    settings = Settings(
        _env_file=None,
        erp_base_url=f"http://127.0.0.1:{free_port()}",
        woo_base_url=f"http://127.0.0.1:{free_port()}",
        square_base_url=f"http://127.0.0.1:{free_port()}",
        http_max_retries=0,
        redis_url=None,
    )
    async with GraphQLClient(create_app(settings)) as gql:
        body = await gql('{ product(sku: "SHOE-TRAIL-42") { name } }')
    assert body["errors"][0]["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    assert "Traceback" not in json.dumps(body)


async def test_the_demo_answers_its_example_query_then_places_picks_up_and_returns_an_order(
    capsys,
):
    ports = SimulatorPorts(free_port(), free_port(), free_port(), free_port())
    code = await run_demo(port=free_port(), ports=ports, check=True)
    printed = capsys.readouterr().out
    assert code == 0, printed[printed.find("CHECK FAILED") :]
    assert "It answers:" in printed
    assert "confirmPickup   -> COLLECTED" in printed
    assert "RETURNED; return CLOSED" in printed
    # A WooCommerce checkout order for local pickup, followed in every system.
    web = printed.split("A WooCommerce checkout order, collected and returned")[1]
    assert "STOREFRONT ready-for-pickup" in web
    assert "returned    -> GATEWAY RETURNED | STOREFRONT refunded" in web
    # The customer heard of the pickup and the refund, through the demo's mail sink.
    told = printed.split("What customers were told")[1]
    assert "is ready for pickup at Berlin Store" in told and "Your refund for order" in told
    # A count recorded two hours late kept the till sale in between; the weekly page written.
    ops = printed.split("Store operations")[1]
    assert "(the till sale since left out)" in ops and "weekly page" in ops
    assert "customer takes" in ops and "(ACCEPTED)" in ops
    # Square hanging: the page still answered, its store figures flagged, then fresh again.
    broken = printed.split("A backend that stops answering")[1]
    assert "store figures stale + LOW, warehouses fresh" in broken
    assert "backendHealth square    -> OPEN" in broken and "every figure fresh" in broken


async def test_the_gateway_on_redis_answers_like_the_in_process_cache(dataset, tmp_path):
    query = (
        '{ product(sku: "SHOE-TRAIL-42") { name storePrice { amount } '
        "availability(near: {lat: 52.52, lng: 13.405}) { totalAvailable locations { location { id } asOf } } } }"
    )
    answers = []
    with simulators(dataset, tmp_path) as (apps, settings_for):
        for redis_url in (None, "redis://127.0.0.1:6379/0"):
            settings = settings_for(redis_url=redis_url, response_cache_seconds=0)
            app = create_app(settings)
            async with GraphQLClient(app) as gql:
                if redis_url:
                    app.state.cache.backend.namespace = f"e2e{uuid.uuid4().hex}"
                first = await gql(query)
                before = calls(apps)
                second = await gql(query)  # served from the cache (Redis: unpickled)
                assert calls(apps) == before
                answers.append((first, second))
                if redis_url:
                    await app.state.cache.backend.clear()
    (memory, memory_again), (redis, redis_again) = answers
    assert "errors" not in redis, redis
    assert memory == memory_again == redis == redis_again
