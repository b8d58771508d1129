"""OpenTelemetry traces, only when an OTLP endpoint is configured.

Set ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) and each
gateway process sends its spans there over OTLP/HTTP (protobuf), batched; the other
standard variables apply (``OTEL_SERVICE_NAME``, default ``commerce-gateway``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_TRACES_SAMPLER``,
``OTEL_PROPAGATORS``, ``OTEL_SDK_DISABLED``). Unset, nothing here is installed: no
middleware, no schema extension, no instrumented client, so the hot path pays nothing.

What a trace holds:

* a SERVER span per HTTP request (``ServerSpans``), continuing the caller's trace when it
  sends ``traceparent`` (W3C Trace Context); its trace id goes into every log line of the
  request;
* one span per GraphQL operation (resolvers/tracing.py), not one per field: a product page
  resolves hundreds of fields, and a span each would cost more than the page;
* a CLIENT span per backend HTTP attempt (opentelemetry-instrumentation-httpx on each
  backend's client; ``traceparent`` goes to the backend too), its URL without credentials;
* a span per SQL statement (opentelemetry-instrumentation-sqlalchemy on the engine: one
  hook for SQLite and PostgreSQL alike, statements without their parameters).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability import context
from gateway.observability.redaction import redact_url
from gateway.persistence.database import Database

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SERVICE_NAME = "commerce-gateway"
TRACER_NAME = "commerce_gateway"


@dataclass
class Tracing:
    provider: TracerProvider
    # Made here from the environment (flushed and shut down with the app), or lent by the
    # caller (a test's in-memory exporter), which shuts it down itself.
    owned: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Tracing | None:
        if not any(environ.get(name) for name in ENDPOINT_VARIABLES):
            return None
        if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
            return None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME as SERVICE_NAME_KEY
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
        if str(resource.attributes.get(SERVICE_NAME_KEY, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME_KEY: SERVICE_NAME}))
        provider = SdkTracerProvider(resource=resource)  # OTEL_TRACES_SAMPLER applies
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return cls(provider, owned=True)

    @property
    def tracer(self) -> Tracer:
        return self.provider.get_tracer(TRACER_NAME)

    def server_spans(self, app: ASGIApp) -> ASGIApp:
        return ServerSpans(app, self.tracer)

    def instrument_clients(self, clients: Iterable[httpx.AsyncClient]) -> None:
        """A span per request each backend client sends, and ``traceparent`` sent along."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        for client in clients:
            HTTPXClientInstrumentor.instrument_client(
                client, tracer_provider=self.provider, request_hook=_without_credentials
            )

    def instrument_engine(self, engine: Any) -> None:
        """A span per SQL statement on ``engine`` (an AsyncEngine) and on it alone: the
        instrumentor's own ``instrument()`` also patches every engine made afterwards, in
        the whole process, and can be applied once per process."""
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.metrics import NoOpMeterProvider

        # Connection-pool metrics are /metrics' business, not the traces'.
        usage = NoOpMeterProvider().get_meter(TRACER_NAME).create_up_down_counter("unused")
        tracer = self.provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
        EngineTracer(tracer, engine.sync_engine, usage)

    def instrument_database(self, db: Database) -> None:
        """Spans for ``db``'s statements: the engine's, and those made through the driver
        (gateway.persistence.ledger_reads, gateway.persistence.hold_batcher)."""
        self.instrument_engine(db.engine)
        db.trace_driver_calls(self.provider.get_tracer("gateway.persistence"))

    async def close(self) -> None:
        shutdown = getattr(self.provider, "shutdown", None)
        if self.owned and shutdown is not None:
            # Flushes what is still batched; blocking I/O, so off the event loop.
            await asyncio.to_thread(shutdown)


async def _without_credentials(span: Any, request: Any) -> None:
    # WooCommerce over http signs each request in its query string (OAuth 1.0a). Async: an
    # AsyncClient's hooks must be, or the instrumentation silently skips them.
    if span.is_recording():
        url = redact_url(str(request.url))
        span.set_attribute("url.full", url)
        span.set_attribute("http.url", url)


class ServerSpans:
    """A SERVER span around each HTTP request, a child of the caller's ``traceparent``
    when it sends one (the configured propagators: W3C Trace Context by default)."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self._app = app
        self._tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        method = scope.get("method", "")
        span = self._tracer.start_span(
            method,
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": scope.get("path", ""),
                "url.scheme": scope.get("scheme", "http"),
            },
        )
        request = context.current()
        if request is not None:
            request.trace_id = trace.format_trace_id(span.get_span_context().trace_id)
            span.set_attribute("gateway.request_id", request.request_id)

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            await send(message)

        with trace.use_span(span, end_on_exit=True):
            await self._app(scope, receive, send_status)
            # Starlette names the route it matched: "/webhooks/{backend}", not each path.
            route = getattr(scope.get("route"), "path", None)
            if route is not None:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
