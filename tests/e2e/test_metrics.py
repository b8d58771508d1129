"""``/metrics`` after a demo-like run over the four simulators: the gateway on a real port,
asked what a storefront, an ops console, Square's webhooks and a subscribed client ask; then
each family the operators' dashboards read is there, with the counts of what was done.

Two apps in one process count apart (each has its own registry), and METRICS__TOKEN, when
set, keeps the page from anyone without it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.domain import SourceSystem
from gateway.domain.truth import DiscrepancyKind
from gateway.events.signatures import signature_of
from tests.e2e.support import BERLIN_STORE, PLACE, SHOE, SOCKS, gateway, order_input
from tests.e2e.test_subscriptions import AVAILABILITY, at_store, served
from tests.e2e.test_webhooks import square_count_event
from tests.identity import STAFF
from tests.ws import subscribe

SQUARE_KEY = "sq-metrics-key"
PRODUCT_PAGE = """query ProductPage($sku: String!) { product(sku: $sku) { name
  webPrice { amount currency } } }"""
CART = """query Cart($skus: [String!]!) { availability(skus: $skus) {
  sku totalAvailable } }"""
EMPTY_CART = "query EmptyCart { availability(skus: []) { sku } }"
HOLD = """mutation Hold($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) { id status } }"""
RECONCILE = """mutation Reconcile($skus: [String!]!) { reconcileNow(skus: $skus) { opened } }"""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scraped(text: str) -> Samples:
    """Every sample of the exposition, by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` carrying at least ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(have)[label] for (n, have), _ in samples.items() if n == name}


async def graphql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    return response.json()


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return scraped(response.text)


async def test_after_a_demo_like_run_every_family_shows_what_was_done(dataset, tmp_path):
    with served(dataset, tmp_path, square_webhook_signature_keys=[SQUARE_KEY]) as (url, stack):
        async with httpx.AsyncClient(base_url=url, headers=STAFF) as http:
            # A storefront: a product page twice (the second from the cache), a cart, a cart
            # with nothing in it (refused), a hold and an order.
            for _ in range(2):
                assert "errors" not in await graphql(http, PRODUCT_PAGE, sku=SHOE)
            assert "errors" not in await graphql(http, CART, skus=[SHOE, SOCKS])
            refused = await graphql(http, EMPTY_CART)
            assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            hold = {
                "locationId": BERLIN_STORE,
                "channel": "PICKUP",
                "lines": [{"sku": SHOE, "quantity": 1}],
            }
            assert "errors" not in await graphql(http, HOLD, input=hold, key="metrics-hold-1")
            placed = await graphql(
                http, PLACE, input=order_input("metrics@example.org", [(SOCKS, 1)]), key="m-o-1"
            )
            assert "errors" not in placed
            # An ops console reconciles three SKUs whose storefront copy drifts.
            drifting = sorted(dataset.drift_skus)[:3]
            opened = await graphql(http, RECONCILE, skus=drifting)
            assert opened["data"]["reconcileNow"]["opened"] >= 3

        # Square: one till sale signed as Square signs it, and one forged.
        ref = (await at_store(url))["location"]["sourceRef"]  # asked without a name
        hook = f"{url}/webhooks/square"
        body = square_count_event(stack, SHOE, ref, 3, at=datetime.now(UTC), event_id="evt-m-1")
        signed = signature_of(SourceSystem.POS, SQUARE_KEY, body, hook)
        async with httpx.AsyncClient() as http:
            for signature in (signed, "Zm9yZ2Vk"):
                await http.post(
                    hook, content=body, headers={"x-square-hmacsha256-signature": signature}
                )

        # A product page follows a SKU's availability meanwhile.
        async with subscribe(url, AVAILABILITY, skus=[SHOE], at=[BERLIN_STORE]):
            await asyncio.sleep(0.2)  # subscribed
            seen = await scrape(url)
        after = await _once_unsubscribed(url)

    # Requests by operation, status and code, and their latency.
    requests = "commerce_gateway_graphql_requests_total"
    assert value(seen, requests, operation="ProductPage", status="ok", error_code="none") == 2
    assert value(seen, requests, operation="Cart", status="ok", error_code="none") == 1
    assert value(seen, requests, operation="Hold", status="ok", error_code="none") == 1
    # The order and the store's row were asked without an operation name.
    assert value(seen, requests, operation="anonymous", status="ok", error_code="none") == 2
    assert (
        value(seen, requests, operation="EmptyCart", status="error", error_code="BAD_USER_INPUT")
        == 1
    )
    latency = "commerce_gateway_graphql_request_duration_seconds"
    assert value(seen, f"{latency}_count", operation="ProductPage") == 2
    assert 0 < value(seen, f"{latency}_sum", operation="ProductPage") < 30

    # Backend calls by backend, endpoint and outcome, with their latency; no endpoint label
    # names a SKU (a series per SKU would grow without end).
    calls = "commerce_gateway_backend_calls_total"
    # (Shopify is only written to, by the outbox worker, which did not run here.)
    for backend in ("erpnext", "square", "woocommerce"):
        assert total(seen, calls, backend=backend, outcome="ok") > 0, backend
    endpoints = label_values(seen, calls, "endpoint")
    assert "GET /api/resource/Bin" in endpoints
    assert "POST /v2/inventory/counts/batch-retrieve" in endpoints
    assert not [e for e in endpoints if SHOE in e or SOCKS in e], endpoints
    durations = "commerce_gateway_backend_call_duration_seconds_count"
    assert total(seen, durations, backend="erpnext") > 0

    # Cache look-ups: the second product page found the ERP's item master in the cache.
    lookups = "commerce_gateway_cache_lookups_total"
    assert value(seen, lookups, source="erp:item", result="hit") >= 1
    assert total(seen, lookups, result="miss") > 0

    # Webhooks accepted and refused, by backend and reason.
    webhooks = "commerce_gateway_webhook_deliveries_total"
    assert value(seen, webhooks, backend="square", outcome="accepted", reason="none") == 1
    assert (
        value(seen, webhooks, backend="square", outcome="refused", reason="signature_invalid") == 1
    )

    # The outbox owes the order's writes (no worker ran), dead letters are counted at zero.
    assert total(seen, "commerce_gateway_outbox_messages", state="pending") > 0
    assert total(seen, "commerce_gateway_outbox_messages", state="dead") == 0
    ages = "commerce_gateway_outbox_oldest_message_age_seconds"
    assert 0 <= value(seen, ages, backend="shopify", state="pending") < 120

    # Open discrepancies by kind (every kind has a series), overdue among them.
    assert total(seen, "commerce_gateway_discrepancies_open") >= 3
    kinds = label_values(seen, "commerce_gateway_discrepancies_open", "kind")
    assert kinds == {kind.value for kind in DiscrepancyKind}
    assert total(seen, "commerce_gateway_discrepancies_overdue") == 0  # all just opened
    assert value(seen, "commerce_gateway_database_up") == 1

    # The subscriber, while it was there, and after it left.
    assert value(seen, "commerce_gateway_subscriptions") == 1
    assert value(after, "commerce_gateway_subscriptions") == 0


async def _once_unsubscribed(url: str) -> Samples:
    """The next scrape showing no subscriber (the server notices a closed socket soon)."""
    for _ in range(50):
        samples = await scrape(url)
        if value(samples, "commerce_gateway_subscriptions") == 0:
            return samples
        await asyncio.sleep(0.1)
    return samples


async def test_two_apps_in_one_process_count_apart(dataset, tmp_path):
    async with gateway(dataset, tmp_path) as stack:
        await stack.gql(PRODUCT_PAGE, sku=SHOE)
        async with stack.another_gateway() as other:
            assert other.http is not None and stack.gql.http is not None
            theirs = scraped((await other.http.get("/metrics")).text)
            ours = scraped((await stack.gql.http.get("/metrics")).text)
    requests = "commerce_gateway_graphql_requests_total"
    assert value(ours, requests, operation="ProductPage", status="ok", error_code="none") == 1
    assert total(theirs, requests) == 0


async def test_with_a_token_set_a_scrape_without_it_is_refused(dataset, tmp_path):
    async with gateway(dataset, tmp_path, metrics={"token": "scrape-secret"}) as stack:
        assert stack.gql.http is not None
        http = stack.gql.http
        bare = await http.get("/metrics", headers={"Authorization": ""})
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer guessed"})
        right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert (bare.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert bare.headers["www-authenticate"].startswith("Bearer")
    assert "commerce_gateway_graphql_requests_total" not in bare.text
    assert "commerce_gateway_database_up 1.0" in right.text
