"""What the backend-call metrics are told: every attempt, its endpoint as a template with no
SKU or id in it, its outcome as it happened, and how long it took."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from adapters.endpoints import endpoint_of
from adapters.http import build_client, send
from adapters.resilience.breaker import Breaker, BreakerRules
from adapters.resilience.policy import BackendPolicy
from gateway.config import Settings
from gateway.deadline import deadline_in
from gateway.errors import BackendError, BackendUnavailable

Seen = list[tuple[str, str, str, float | None]]


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        # ERPNext: the doctype stays, the document's name (an item code here) never does.
        ("GET", "/api/resource/Item/SHOE-TRAIL-42", "GET /api/resource/Item/{name}"),
        ("GET", "/api/resource/Item/widget", "GET /api/resource/Item/{name}"),
        (
            "PUT",
            "/api/resource/Sales Order/SAL-ORD-2026-00042",
            "PUT /api/resource/Sales Order/{name}",
        ),
        ("GET", "/api/resource/Bin", "GET /api/resource/Bin"),
        ("POST", "/api/method/frappe.client.cancel", "POST /api/method/frappe.client.cancel"),
        # WooCommerce: numeric ids.
        (
            "PUT",
            "/wp-json/wc/v3/products/812/variations/9",
            "PUT /wp-json/wc/v3/products/{id}/variations/{id}",
        ),
        ("POST", "/wp-json/wc/v3/orders/1234/refunds", "POST /wp-json/wc/v3/orders/{id}/refunds"),
        ("POST", "/wp-json/wc/v3/products/batch", "POST /wp-json/wc/v3/products/batch"),
        # Square: fixed paths; an object id would be an id.
        ("POST", "/v2/inventory/counts/batch-retrieve", "POST /v2/inventory/counts/batch-retrieve"),
        ("GET", "/v2/catalog/object/W62UWFY35CWMYGVWK6TWJDNI", "GET /v2/catalog/object/{id}"),
        # Shopify: one GraphQL endpoint under the pinned API version.
        ("POST", "/admin/api/2026-10/graphql.json", "POST /admin/api/2026-10/graphql.json"),
    ],
)
def test_an_endpoint_is_named_by_its_template_never_by_its_ids(method, path, endpoint):
    assert endpoint_of(method, path) == endpoint


def test_a_very_long_path_is_cut_so_the_name_stays_short():
    assert endpoint_of("GET", "/a" * 50) == "GET /a/a/a/a/a/a/a/a/..."


def observed() -> tuple[Seen, Settings]:
    seen: Seen = []
    return seen, Settings(_env_file=None)


def watching(seen: Seen, **kwargs) -> BackendPolicy:
    policy = BackendPolicy("erpnext", **kwargs)
    policy.observe = lambda *call: seen.append(call)
    return policy


def parse(response: httpx.Response) -> BackendError:
    return BackendUnavailable(f"HTTP {response.status_code}", backend="erpnext")


async def test_given_a_503_then_a_200_then_both_attempts_are_told_with_their_endpoint():
    answers = [httpx.Response(503), httpx.Response(200, json={"data": []})]
    seen, settings = observed()
    transport = httpx.MockTransport(lambda request: answers.pop(0))
    async with build_client(settings, "http://erp.test", transport=transport) as client:
        item = "/api/resource/Item/SHOE-TRAIL-42"
        await send(
            watching(seen), lambda: client.get(item), parse, max_retries=2, wait_initial=0.001
        )
    assert [(b, e, o) for b, e, o, _ in seen] == [
        ("erpnext", "GET /api/resource/Item/{name}", "http_5xx"),
        ("erpnext", "GET /api/resource/Item/{name}", "ok"),
    ]
    assert all(seconds is not None and seconds >= 0 for *_, seconds in seen)


async def test_given_a_hanging_backend_then_the_attempt_cut_by_the_deadline_names_its_endpoint():
    seen, settings = observed()

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    transport = httpx.MockTransport(hang)
    async with build_client(settings, "http://erp.test", transport=transport) as client:
        with deadline_in(0.2), pytest.raises(BackendUnavailable):
            await send(
                watching(seen), lambda: client.get("/api/resource/Bin"), parse, max_retries=0
            )
    [(backend, endpoint, outcome, seconds)] = seen
    assert (backend, endpoint, outcome) == ("erpnext", "GET /api/resource/Bin", "deadline")
    assert seconds is not None and seconds > 0.05


async def test_given_a_port_nobody_listens_on_then_the_outcome_is_refused_not_timeout():
    seen, settings = observed()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the call: nothing listens
    async with build_client(settings, f"http://127.0.0.1:{port}") as client:
        with pytest.raises(BackendUnavailable):
            await send(watching(seen), lambda: client.get("/v2/locations"), parse, max_retries=0)
    assert [(e, o) for _, e, o, _ in seen] == [("GET /v2/locations", "refused")]


async def test_given_an_open_breaker_then_the_call_refused_unsent_is_counted_without_a_time():
    seen, settings = observed()
    policy = watching(seen, breaker=Breaker(BreakerRules(consecutive_failures=1)))
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    async with build_client(settings, "http://erp.test", transport=transport) as client:
        for _ in range(2):
            with pytest.raises(BackendUnavailable):
                await send(policy, lambda: client.get("/api/resource/Bin"), parse, max_retries=0)
    assert [(e, o, s is None) for _, e, o, s in seen] == [
        ("GET /api/resource/Bin", "http_5xx", False),
        ("none", "breaker_open", True),
    ]
