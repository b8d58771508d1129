"""One backend's guard: its timeouts, breaker, retry budget, bulkhead and health record.

``adapters.http.send`` asks the guard before each attempt and tells it every outcome. One
per backend per gateway process, built by the composition root from ``Settings.resilience``;
an adapter made without one (a test, a one-off script) gets its own with the defaults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.resilience.breaker import Breaker, BreakerRules, BreakerState
from adapters.resilience.budget import BudgetRules, RetryBudget
from adapters.resilience.health import HealthRecord
from gateway.domain.health import BackendHealth, BackendHealthState

DEFAULT_MAX_CONCURRENT = 64
# Told of every attempt's end: (backend, endpoint, outcome, seconds it took, or None when no
# request went out); gateway.observability.metrics counts them.
CallObserver = Callable[[str, str, str, float | None], None]
# A backend that failed at least this share of its last RECENT_FOR_STATE calls is DEGRADED.
DEGRADED_ERROR_RATE = 0.05
RECENT_FOR_STATE = 20


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BackendPolicy:
    name: str
    breaker: Breaker = field(default_factory=Breaker)
    budget: RetryBudget = field(default_factory=RetryBudget)
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    # A call cut off by the request's deadline after this long counts as a failure.
    slow_call_seconds: float = 1.0
    # One attempt may take at most this share of the time the request has left.
    attempt_share: float = 0.5
    monotonic: Callable[[], float] = time.monotonic
    utc_now: Callable[[], datetime] = _utc_now
    observe: CallObserver | None = None
    health: HealthRecord = field(init=False)
    bulkhead: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.health = HealthRecord(self.name)
        self.bulkhead = asyncio.Semaphore(self.max_concurrent)

    @classmethod
    def with_rules(
        cls,
        name: str,
        breaker: BreakerRules,
        budget: BudgetRules,
        *,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        slow_call_seconds: float = 1.0,
    ) -> BackendPolicy:
        return cls(
            name,
            breaker=Breaker(breaker),
            budget=RetryBudget(budget),
            max_concurrent=max_concurrent,
            slow_call_seconds=slow_call_seconds,
        )

    def report(self) -> BackendHealth:
        return self.health.snapshot(self._state())

    def _state(self) -> BackendHealthState:
        match self.breaker.state:
            case BreakerState.OPEN:
                return BackendHealthState.OPEN
            case BreakerState.HALF_OPEN:
                return BackendHealthState.HALF_OPEN
        if self.health.error_rate_of_last(RECENT_FOR_STATE) >= DEGRADED_ERROR_RATE:
            return BackendHealthState.DEGRADED
        return BackendHealthState.UP
