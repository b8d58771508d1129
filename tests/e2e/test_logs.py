"""What an operator reads: the gateway over the four simulators, logging as ``serve`` does
(JSON lines, gateway.observability), asked what users ask. Every line is JSON naming its
level, logger and request; no line holds a credential or a customer's e-mail or name; a
backend that is down for fifty requests costs a couple of lines, not fifty tracebacks;
and with tracing on, a caller's ``traceparent`` is continued through the operation to the
backend calls and the SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.app import create_app
from tests.asgi import GraphQLClient
from tests.e2e.support import BERLIN, PLACE, SHOE, quiet, simulators
from tests.identity import STAFF
from tests.live_server import free_port
from tests.log_capture import captured_logs

UNKNOWN_KEY = "cgk_0badc0de_V2hvZXZlci1ndWVzc2VkLXRoaXMtaXMtd3Jvbmc"
CUSTOMER_EMAIL = "zelda.quintana@example.org"
CUSTOMER_NAME = "Zelda Quintana-Pemberton"
STREET = "Kastanienallee 77"
# Names and prices from the backends, figures net of the holds in the database.
PRODUCT = """query ProductPage($sku: String!) {
  product(sku: $sku) { name webPrice { amount } availability { totalAvailable } } }"""
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


@asynccontextmanager
async def gateway_over_simulators(
    dataset, tmp_path, *, tracer_provider: TracerProvider | None = None, **overrides: Any
) -> AsyncIterator[GraphQLClient]:
    with simulators(dataset, tmp_path) as (_apps, settings):
        app = create_app(settings(**quiet(overrides)), tracer_provider=tracer_provider)
        async with GraphQLClient(app) as gql:
            yield gql


def order_for_a_customer() -> dict[str, Any]:
    return {
        "lines": [{"sku": SHOE, "quantity": 1}],
        "channel": "ONLINE",
        "customer": {"email": CUSTOMER_EMAIL, "name": CUSTOMER_NAME},
        "delivery": {
            "address": {
                "name": CUSTOMER_NAME,
                "line1": STREET,
                "city": "Berlin",
                "postalCode": "10435",
                "countryCode": "DE",
                **BERLIN,
            }
        },
    }


async def test_every_line_is_json_naming_its_request_and_none_holds_a_secret_or_customer_data(
    dataset, tmp_path
):
    with captured_logs() as logs:
        async with gateway_over_simulators(dataset, tmp_path) as gql:
            assert gql.http is not None
            refused = await gql.http.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers={"Authorization": f"Bearer {UNKNOWN_KEY}"},
            )
            assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            placed = await gql.http.post(
                "/graphql",
                json={
                    "query": PLACE,
                    "variables": {"input": order_for_a_customer(), "key": "logs-1"},
                },
                headers={"X-Request-Id": "shop-checkout-1"},
            )
            assert "errors" not in placed.json(), placed.json()
            # The writes the order owes go out: Shopify gets the customer's order.
            await gql.app.state.services.worker.drain()
        logs.close()
        lines = logs.lines()  # each one JSON, or this fails

    for line in lines:
        assert {"timestamp", "level", "logger", "message", "request_id", "principal"} <= set(line)
    secrets = [UNKNOWN_KEY, UNKNOWN_KEY.rsplit("_", 1)[1], STAFF["Authorization"].split()[1]]
    customer = [CUSTOMER_EMAIL, CUSTOMER_NAME, "Zelda", STREET]
    for text in secrets + customer:
        assert text not in logs.text, text

    by_request = {}
    for line in lines:
        by_request.setdefault(line["request_id"], []).append(line)
    refusal = by_request[refused.headers["x-request-id"]]
    assert [(line["logger"], line["message"]) for line in refusal] == [
        ("gateway.auth.edge", "credentials refused: unknown API key"),
        ("commerce_gateway.access", "POST /graphql 200"),
    ]
    assert placed.headers["x-request-id"] == "shop-checkout-1"
    (access,) = [
        line
        for line in by_request["shop-checkout-1"]
        if line["logger"] == "commerce_gateway.access"
    ]
    # Who asked: the staff token's subject (tests/identity.py).
    assert access["principal"].startswith("jwt:") and access["principal"].endswith("test-suite")
    assert access["status"] == 200


async def test_a_backend_down_for_fifty_requests_costs_a_few_lines_with_a_count(dataset, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with captured_logs() as logs:
        async with gateway_over_simulators(dataset, tmp_path, erp_base_url=closed) as gql:
            for _ in range(50):
                body = await gql(PRODUCT, sku=SHOE)
                assert body["data"] is not None  # answered, degraded, never a 500
        logs.close()
        lines = logs.lines()

    erp = [
        line
        for line in lines
        if line["logger"] == "adapters.http" and line.get("backend") == "erpnext"
    ]
    assert 1 <= len(erp) <= 3, erp
    assert erp[0]["message"] == "backend call failed: erpnext refused the connection"
    assert "exception" not in erp[0]  # no traceback per failure
    (summary,) = [line for line in erp if "repeated" in line]
    assert summary["repeated"] >= 49
    assert "repeated" in summary["message"] and "in the last 60 s" in summary["message"]


async def test_a_traceparent_is_continued_through_the_operation_to_backends_and_sql(
    dataset, tmp_path
):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with captured_logs() as logs:
        async with gateway_over_simulators(dataset, tmp_path, tracer_provider=provider) as gql:
            assert gql.http is not None
            response = await gql.http.post(
                "/graphql",
                json={"query": PRODUCT, "variables": {"sku": SHOE}},
                headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN}-01"},
            )
            assert "errors" not in response.json(), response.json()
            missing = await gql(PRODUCT, sku="NO-SUCH-SKU")  # a trace of its own
            assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        lines = logs.lines()

    spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == int(TRACE_ID, 16)]
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.parent is not None and server.parent.span_id == int(PARENT_SPAN, 16)
    assert server.name == "POST /graphql"
    assert server.attributes["http.response.status_code"] == 200
    (operation,) = [s for s in spans if s.name == "query ProductPage"]
    assert operation.parent is not None and operation.parent.span_id == server.context.span_id
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["graphql.operation.name"] == "ProductPage"
    assert "ADMIN" in operation.attributes["gateway.principal.roles"]
    by_id = {s.context.span_id: s for s in spans}

    def within_operation(span) -> bool:
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            if span is operation:
                return True
        return False

    # The root field has a span of its own under the operation, and so has the product's
    # availability (a resolver of note; resolved once its parent's resolver has returned).
    for name, path in (
        ("Query.product", "product"),
        ("Product.availability", "product.availability"),
    ):
        (field_span,) = [s for s in spans if s.name == name]
        assert field_span.parent is not None
        assert field_span.parent.span_id == operation.context.span_id
        assert field_span.attributes["graphql.field.path"] == path

    backend_calls = [s for s in spans if s.kind is SpanKind.CLIENT]
    sql = [s for s in spans if "db.statement" in s.attributes or "db.query.text" in s.attributes]
    assert backend_calls and sql, [s.name for s in spans]
    assert all(within_operation(s) for s in backend_calls + sql)
    urls = [
        str(s.attributes.get("url.full") or s.attributes.get("http.url")) for s in backend_calls
    ]
    woo = [url for url in urls if "/wp-json/wc/v3/" in url]
    assert woo, urls
    # WooCommerce over http signs each request in its query string: not in the trace.
    for url in woo:
        assert "oauth_signature=[REDACTED]" in url and "ck_sandbox" not in url, url

    # A caller's mistake is named on its operation's span, not counted as a failure.
    (refused,) = [
        s
        for s in exporter.get_finished_spans()
        if s.name == "query ProductPage" and s.context.trace_id != int(TRACE_ID, 16)
    ]
    assert refused.attributes["graphql.error.codes"] == ("NOT_FOUND",)
    assert refused.status.status_code is StatusCode.UNSET

    request_id = response.headers["x-request-id"]
    (access,) = [line for line in lines if line["request_id"] == request_id]
    assert access["trace_id"] == TRACE_ID
