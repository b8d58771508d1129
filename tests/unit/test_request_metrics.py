"""How a GraphQL request is labelled in the metrics: its operation (bounded: a client cannot
grow a series per name it makes up), its status and its first error's code; and a scrape
whose database does not answer still answers, saying so."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability.metrics import LATENCY_BUCKETS, Metrics
from gateway.observability.request_metrics import (
    GraphQLRequestMetrics,
    classify,
    operation_name,
)

POST = {"type": "http", "method": "POST", "headers": []}


def body(payload: Any) -> list[bytes]:
    return [json.dumps(payload).encode()]


def test_an_answer_without_errors_is_ok():
    assert classify(200, b'{"data":{"product":{"name":"Trail shoe"}}}') == ("ok", "none")


def test_an_alias_named_errors_is_not_an_error():
    assert classify(200, b'{"data":{"errors":{"name":"x"}}}') == ("ok", "none")


def test_errors_beside_data_are_partial_and_without_data_an_error():
    partial = {
        "data": {"product": {"name": "x"}, "order": None},
        "errors": [{"message": "down", "extensions": {"code": "BACKEND_UNAVAILABLE"}}],
    }
    failed = {"data": None, "errors": [{"message": "no", "extensions": {"code": "BAD_USER_INPUT"}}]}
    nothing = {"data": {"order": None}, "errors": [{"extensions": {"code": "FORBIDDEN"}}]}
    assert classify(200, json.dumps(partial).encode()) == ("partial", "BACKEND_UNAVAILABLE")
    assert classify(400, json.dumps(failed).encode()) == ("error", "BAD_USER_INPUT")
    assert classify(200, json.dumps(nothing).encode()) == ("error", "FORBIDDEN")


def test_an_http_error_without_a_graphql_body_is_named_by_its_status():
    assert classify(415, b"Unsupported content type") == ("error", "HTTP_415")
    # A code that is not one of the gateway's (a proxy's prose, say) is not a label.
    strange = {"errors": [{"extensions": {"code": "no such\ncode"}}]}
    assert classify(502, json.dumps(strange).encode()) == ("error", "OTHER")


def test_the_operation_is_the_name_given_else_the_documents_else_anonymous():
    named = {"query": "query A { x } query B { y }", "operationName": "B"}
    from_document = {"query": "query ProductPage($sku: String!) { product(sku: $sku) { name } }"}
    assert operation_name(POST, body(named), 15_000) == "B"
    assert operation_name(POST, body(from_document), 15_000) == "ProductPage"
    assert operation_name(POST, body({"query": "{ locations { id } }"}), 15_000) == "anonymous"


def test_a_request_not_read_or_not_graphql_is_unknown():
    assert operation_name(POST, [], 15_000) == "unknown"  # refused before its body was read
    assert operation_name(POST, [b"not json"], 15_000) == "unknown"
    assert operation_name(POST, body({"query": "query {"}), 15_000) == "unknown"
    assert operation_name(POST, body({"query": "{ a } { b }"}), 15_000) == "unknown"


def test_a_get_names_its_operation_in_the_query_string():
    scope = {"method": "GET", "query_string": b"query=query%20Menu%20%7B%20x%20%7D"}
    assert operation_name(scope, [], 15_000) == "Menu"


def test_only_tidy_names_are_labels_and_only_so_many_of_them():
    metrics = Metrics(max_operations=2)
    assert metrics.operation_label("ProductPage") == "ProductPage"
    assert metrics.operation_label("a" * 65) == "other"
    assert metrics.operation_label("drop table; --") == "other"
    assert metrics.operation_label("Cart") == "Cart"
    # A third name is one too many; the two seen keep their labels.
    assert metrics.operation_label("Checkout") == "other"
    assert metrics.operation_label("ProductPage") == "ProductPage"
    assert metrics.operation_label("anonymous") == "anonymous"


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_request_refused_before_its_body_was_read_is_counted_unknown_with_its_code():
    async def door(scope, receive, send) -> None:  # answers 401 and reads nothing
        error = {"errors": [{"message": "who?", "extensions": {"code": "UNAUTHENTICATED"}}]}
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(error).encode()})

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body must not be read")

    async def send(message) -> None:
        pass

    metrics = Metrics()
    await GraphQLRequestMetrics(door, metrics)(POST, receive, send)
    labels = {"operation": "unknown", "status": "error", "error_code": "UNAUTHENTICATED"}
    key = ("commerce_gateway_graphql_requests_total", frozenset(labels.items()))
    assert samples(metrics)[key] == 1


async def test_when_the_database_does_not_answer_the_scrape_says_so_and_shows_the_rest():
    async def failing() -> Any:
        raise ConnectionRefusedError("the database is down")

    services = SimpleNamespace(
        changes=SimpleNamespace(feed=SimpleNamespace(subscribers=3, dropped=1)),
        outbox=SimpleNamespace(backlog=failing),
        truth=SimpleNamespace(open_by_kind=failing),
    )
    metrics = Metrics()
    await metrics.refresh(services)
    seen = samples(metrics)
    assert seen[("commerce_gateway_database_up", frozenset())] == 0
    assert seen[("commerce_gateway_subscriptions", frozenset())] == 3
    assert seen[("commerce_gateway_subscriptions_dropped_total", frozenset())] == 1
    assert not [name for name, _ in seen if name.startswith("commerce_gateway_outbox")]


_observations = st.lists(
    st.tuples(
        st.sampled_from(["ProductPage", "Hold", "anonymous"]),
        st.sampled_from(["ok", "partial", "error"]),
        st.sampled_from(["none", "BAD_USER_INPUT"]),
        # every bucket, each bound exactly, and beyond the last
        st.one_of(st.sampled_from(LATENCY_BUCKETS), st.floats(0, 20, allow_nan=False)),
    ),
    max_size=30,
)


@given(observations=_observations)
def test_property_requests_show_as_prometheus_clients_own_counter_and_histogram_would(
    observations,
):
    ours = Metrics()
    theirs = CollectorRegistry()
    requests = Counter(
        "commerce_gateway_graphql_requests",
        "x",
        ["operation", "status", "error_code"],
        registry=theirs,
    )
    latency = Histogram(
        "commerce_gateway_graphql_request_duration_seconds",
        "x",
        ["operation"],
        buckets=LATENCY_BUCKETS,
        registry=theirs,
    )
    for operation, status, code, seconds in observations:
        ours.graphql_request(operation, status, code, seconds)
        requests.labels(operation, status, code).inc()
        latency.labels(operation).observe(seconds)

    def samples(registry):
        found = {}
        for family in text_string_to_metric_families(generate_latest(registry).decode()):
            if family.name.startswith("commerce_gateway_graphql_request"):
                for s in family.samples:
                    if not s.name.endswith("_created"):  # when a series began: theirs only
                        found[(s.name, frozenset(s.labels.items()))] = s.value
        return found

    mine, expected = samples(ours.registry), samples(theirs)
    assert mine.keys() == expected.keys()
    for key, value in expected.items():
        assert mine[key] == pytest.approx(value), key
