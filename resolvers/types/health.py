from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.domain import health as domain

BackendHealthState = domain.BackendHealthState
strawberry.enum(
    BackendHealthState,
    description="UP: calls go through. DEGRADED: they go through, but at least 5 % of the "
    "last 20 failed. OPEN: the circuit breaker is open, calls fail at once and answers "
    "come from kept copies (flagged stale). HALF_OPEN: a probe call is finding out whether "
    "the backend is back.",
)


@strawberry.type(description="How one backend's calls are going, as this gateway process sees.")
class BackendHealth:
    name: str = strawberry.field(description="erpnext, woocommerce, square or shopify.")
    state: BackendHealthState
    last_success_at: datetime | None
    last_failure: str | None = strawberry.field(
        description="What the last failed call met, as the error it gave said."
    )
    last_failure_at: datetime | None
    error_rate: float = strawberry.field(
        description="The share of its last 200 calls that failed (0 to 1)."
    )
    latency_p99: float | None = strawberry.field(
        description="Milliseconds, over its last 200 calls, failures included."
    )
    recent_calls: int = strawberry.field(description="Calls the two figures above cover.")
    fast_failures: int = strawberry.field(
        description="Calls the open breaker failed at once, since the process started."
    )
    calls: int = strawberry.field(description="Calls made since the process started.")
    retries: int = strawberry.field(
        description="Retries made since the process started: at most "
        "RESILIENCE__RETRY_BUDGET_RATIO of the calls (plus a floor) in any window."
    )

    @classmethod
    def from_domain(cls, health: domain.BackendHealth) -> BackendHealth:
        return cls(
            name=health.name,
            state=health.state,
            last_success_at=health.last_success_at,
            last_failure=health.last_failure,
            last_failure_at=health.last_failure_at,
            error_rate=round(health.error_rate, 4),
            latency_p99=health.latency_p99_ms,
            recent_calls=health.recent_calls,
            fast_failures=health.fast_failures,
            calls=health.calls,
            retries=health.retries,
        )
