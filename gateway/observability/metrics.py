"""The Prometheus metrics of one gateway app, in a registry of its own.

Each app (``create_app``) makes one ``Metrics``: its families live in its own
``CollectorRegistry``, never in prometheus_client's global one, so two apps in one process
(a test suite, two gateways side by side) count apart and never clash on registration.

What happens is counted as it happens, cheaply (a few dictionary look-ups per request or
backend call): GraphQL requests (gateway.observability.request_metrics), backend calls
(adapters.http, through each backend's guard), cache look-ups (gateway.cache and the
response micro-cache) and webhook deliveries (gateway.events.http). What *is* (the outbox,
the discrepancy queue, the subscribers) is read when scraped (``refresh``), so a figure is
never older than the scrape that shows it.

Every label has few values: backends, states and kinds are the gateway's own vocabulary;
an operation name is the client's, so only tidy ones are kept (``operation_label``), and
no more than ``MAX_OPERATIONS`` of them per process.
"""

from __future__ import annotations

import asyncio
import logging
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from gateway.domain import SourceSystem
from gateway.domain.outbox import DeliveryStatus
from gateway.domain.truth import DiscrepancyKind
from gateway.ports.storage import OpenTally, OutboxBacklog

log = logging.getLogger(__name__)

PREFIX = "commerce_gateway"
# From a micro-cache replay (well under a millisecond) to a request at its deadline.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_OPERATIONS = 200
ANONYMOUS = "anonymous"  # the request names no operation
UNKNOWN = "unknown"  # the request could not be read as a GraphQL request
OTHER = "other"  # a name too long, not a plain identifier, or one too many
_TIDY_OPERATION = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TIDY_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,47}")
# Database readings on a scrape: longer than a scraper's patience is no use.
READ_TIMEOUT_SECONDS = 5.0

# The outbox names what it owes by system; the metrics name backends as the calls do.
BACKEND_OF = {
    SourceSystem.ERP: "erpnext",
    SourceSystem.STOREFRONT: "woocommerce",
    SourceSystem.POS: "square",
    SourceSystem.OMS: "shopify",
    SourceSystem.MAIL: "mail",
    SourceSystem.GATEWAY: "gateway",
}
UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT, DeliveryStatus.DEAD)


def error_code_label(code: object) -> str:
    """An error's code as a label: the gateway's codes are SCREAMING_SNAKE; anything else
    (a proxy's answer, say) is OTHER."""
    return code if isinstance(code, str) and _TIDY_CODE.fullmatch(code) else "OTHER"


class Metrics:
    def __init__(self, *, max_operations: int = MAX_OPERATIONS) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._max_operations = max_operations
        self._operations: set[str] = set()
        self._children: dict[tuple[object, ...], Any] = {}
        self._graphql = RequestCounts(LATENCY_BUCKETS)
        registry.register(self._graphql)
        self._backend_calls = Counter(
            f"{PREFIX}_backend_calls",
            "Attempts to call a backend, by backend, endpoint (method and path template) and "
            "outcome (ok, http_4xx, http_429, http_5xx, not_json, refused, unreachable, "
            "connect_timeout, read_timeout, closed, not_http, deadline, breaker_open, error).",
            ["backend", "endpoint", "outcome"],
            registry=registry,
        )
        self._backend_seconds = Histogram(
            f"{PREFIX}_backend_call_duration_seconds",
            "Time one attempt to call a backend took (attempts that sent a request).",
            ["backend", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._cache_lookups = LookupCounts()
        registry.register(self._cache_lookups)
        self._cache_stale = Counter(
            f"{PREFIX}_cache_stale_served",
            "Keys answered from their last good copy because the backend was unavailable.",
            ["source"],
            registry=registry,
        )
        self._webhooks = Counter(
            f"{PREFIX}_webhook_deliveries",
            "Webhook deliveries received, by backend, outcome (accepted, replay, "
            "not_an_event, refused, stale) and the reason of a refusal (none otherwise).",
            ["backend", "outcome", "reason"],
            registry=registry,
        )
        self.readings = Readings()
        registry.register(self.readings)
        # CPU, memory and open files of this process, read from /proc when scraped.
        ProcessCollector(registry=registry)

    # --- recorded as it happens ---------------------------------------------------------

    def operation_label(self, name: str) -> str:
        """The label of a client's operation name: kept when it is a plain identifier of at
        most 64 characters and one of the first ``max_operations`` seen, else ``other``."""
        if name in self._operations or name in (ANONYMOUS, UNKNOWN):
            return name
        if not _TIDY_OPERATION.fullmatch(name) or len(self._operations) >= self._max_operations:
            return OTHER
        self._operations.add(name)
        return name

    def graphql_request(self, operation: str, status: str, error_code: str, seconds: float) -> None:
        self._graphql.record(operation, status, error_code, seconds)

    def backend_call(
        self, backend: str, endpoint: str, outcome: str, seconds: float | None
    ) -> None:
        """adapters.resilience.policy.CallObserver: one attempt's end."""
        self._child(self._backend_calls, backend, endpoint, outcome).inc()
        if seconds is not None:
            self._child(self._backend_seconds, backend, endpoint).observe(seconds)

    def looked_up(self, source: str, hits: int, misses: int, joined: int) -> None:
        """gateway.cache.CacheObserver."""
        counts = self._cache_lookups.counts
        if hits:
            key = (source, "hit")
            counts[key] = counts.get(key, 0) + hits
        if misses:
            key = (source, "miss")
            counts[key] = counts.get(key, 0) + misses
        if joined:
            key = (source, "joined")
            counts[key] = counts.get(key, 0) + joined

    def served_stale(self, source: str, keys: int) -> None:
        """gateway.cache.CacheObserver."""
        self._child(self._cache_stale, source).inc(keys)

    def webhook(self, backend: str, outcome: str, reason: str | None) -> None:
        self._webhooks.labels(backend, outcome.lower(), reason or "none").inc()

    def _child(self, family: Any, *labels: str) -> Any:
        # prometheus_client's labels() takes a lock and checks its arguments each time
        # (about 1.7 us); on the request path the series is looked up here instead. The
        # labels are bounded, so is this dictionary.
        key = (id(family), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family.labels(*labels)
        return child

    # --- read when scraped --------------------------------------------------------------

    async def refresh(self, services: Any) -> None:
        """Read what the scrape shows of the database and of this process's subscribers.
        A database that does not answer in time leaves its families out and says so
        (``database_up`` 0); the scrape itself still succeeds."""
        feed = services.changes.feed

        async def read() -> DatabaseReading:
            backlog = await services.outbox.backlog()
            tallies = await services.truth.open_by_kind()
            return DatabaseReading(backlog, tallies, datetime.now(UTC))

        try:
            self.readings.database = await asyncio.wait_for(read(), READ_TIMEOUT_SECONDS)
        except Exception as failure:
            log.warning("metrics: the database could not be read: %s", failure)
            self.readings.database = None
        self.readings.subscriptions = feed.subscribers
        self.readings.subscriptions_dropped = feed.dropped


@dataclass(frozen=True, slots=True)
class DatabaseReading:
    backlog: list[OutboxBacklog]
    tallies: dict[DiscrepancyKind, OpenTally]
    read_at: datetime


class LookupCounts(Collector):
    """Cache look-ups, counted in a dictionary and shown as a counter family when collected.

    Every answer looks up several namespaces (a reserve about six): a prometheus_client
    Counter's ``inc`` takes a lock and checks the series each time, about 3 us a look-up,
    where adding to a dictionary entry costs a tenth of that. The event loop's one thread
    both counts and collects, so the dictionary needs no lock."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            f"{PREFIX}_cache_lookups",
            "Keys looked up in a cache, by source (the cache namespace, or response for the "
            "whole-response micro-cache) and result (hit, miss: loaded from the backend, "
            "joined: waited for a load already under way).",
            labels=["source", "result"],
        )
        for (source, result), count in list(self.counts.items()):
            family.add_metric([source, result], count)
        yield family


class RequestCounts(Collector):
    """GraphQL requests over HTTP, counted and timed in dictionaries and shown, when
    collected, as the counter and the histogram prometheus_client's own would show.

    As with ``LookupCounts``: a Counter's ``inc`` and a Histogram's ``observe`` each take a
    lock and check the series, 1.3 % of an in-process reserve's samples; the event loop's
    one thread both counts and collects."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self._bounds = tuple(buckets)  # upper bounds, ascending; +Inf after them
        self._les = [floatToGoString(b) for b in self._bounds]
        self.counts: dict[tuple[str, str, str], int] = {}
        # operation -> [observations per bucket (the last: above every bound), sum]
        self.latencies: dict[str, tuple[list[int], list[float]]] = {}

    def record(self, operation: str, status: str, error_code: str, seconds: float) -> None:
        key = (operation, status, error_code)
        self.counts[key] = self.counts.get(key, 0) + 1
        series = self.latencies.get(operation)
        if series is None:
            series = self.latencies[operation] = ([0] * (len(self._bounds) + 1), [0.0])
        # A bucket counts what is at most its bound: the first bound not below the value.
        series[0][bisect_left(self._bounds, seconds)] += 1
        series[1][0] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            f"{PREFIX}_graphql_requests",
            "GraphQL requests over HTTP, by operation name, status (ok, partial: data with "
            "errors, error: no data) and the first error's code (none when ok).",
            labels=["operation", "status", "error_code"],
        )
        for labels, count in list(self.counts.items()):
            requests.add_metric(list(labels), count)
        latency = HistogramMetricFamily(
            f"{PREFIX}_graphql_request_duration_seconds",
            "Time to answer a GraphQL request over HTTP, from its arrival to its last byte.",
            labels=["operation"],
        )
        for operation, (per_bucket, total) in list(self.latencies.items()):
            cumulative = list(accumulate(per_bucket))
            buckets = [*zip(self._les, cumulative, strict=False), ("+Inf", cumulative[-1])]
            latency.add_metric([operation], buckets, total[0])
        yield requests
        yield latency


class Readings(Collector):
    """The figures ``Metrics.refresh`` read, as gauges. Every backend, state and kind has a
    series even at zero, so an alert on one sees a zero, not an absence."""

    def __init__(self) -> None:
        self.database: DatabaseReading | None = None
        self.subscriptions = 0
        self.subscriptions_dropped = 0

    def describe(self) -> Iterable[Metric]:
        return ()  # registered without a first collect (the families vary with the reading)

    def collect(self) -> Iterator[Metric]:
        subscriptions = GaugeMetricFamily(
            f"{PREFIX}_subscriptions",
            "GraphQL subscriptions open in this process (over graphql-transport-ws).",
            value=self.subscriptions,
        )
        dropped = CounterMetricFamily(
            f"{PREFIX}_subscriptions_dropped",
            "Subscriptions this process dropped because their client read too slowly.",
            value=self.subscriptions_dropped,
        )
        up = GaugeMetricFamily(
            f"{PREFIX}_database_up",
            "1 when this scrape read the outbox and the discrepancy queue from the database.",
            value=0 if self.database is None else 1,
        )
        yield from (subscriptions, dropped, up)
        if self.database is not None:
            yield from _outbox(self.database)
            yield from _discrepancies(self.database)


def _outbox(reading: DatabaseReading) -> Iterator[Metric]:
    messages = GaugeMetricFamily(
        f"{PREFIX}_outbox_messages",
        "Writes owed to a backend and not settled, by backend and state (pending, in_flight, "
        "dead: dead-lettered, waiting for retryDelivery or skipDelivery).",
        labels=["backend", "state"],
    )
    oldest = GaugeMetricFamily(
        f"{PREFIX}_outbox_oldest_message_age_seconds",
        "Age of the oldest write owed in each backend and state (0 when there is none).",
        labels=["backend", "state"],
    )
    found = {(row.target, row.status): row for row in reading.backlog}
    targets: list[SourceSystem] = [s for s in BACKEND_OF if s is not SourceSystem.GATEWAY]
    targets += [t for t, _ in found if t not in targets]
    for target in targets:
        for status in UNSETTLED:
            labels = [BACKEND_OF.get(target, target.value.lower()), status.value.lower()]
            row = found.get((target, status))
            messages.add_metric(labels, 0 if row is None else row.messages)
            age = 0.0 if row is None else (reading.read_at - row.oldest_created_at).total_seconds()
            oldest.add_metric(labels, max(0.0, age))
    yield messages
    yield oldest


def _discrepancies(reading: DatabaseReading) -> Iterator[Metric]:
    open_ = GaugeMetricFamily(
        f"{PREFIX}_discrepancies_open",
        "Open (or acknowledged) discrepancies by kind.",
        labels=["kind"],
    )
    overdue = GaugeMetricFamily(
        f"{PREFIX}_discrepancies_overdue",
        "Open discrepancies past their due time, by kind.",
        labels=["kind"],
    )
    for kind in DiscrepancyKind:
        tally = reading.tallies.get(kind, OpenTally(0, 0))
        open_.add_metric([kind.value], tally.open)
        overdue.add_metric([kind.value], tally.overdue)
    yield open_
    yield overdue
