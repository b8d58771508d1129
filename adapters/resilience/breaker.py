"""A circuit breaker per backend, as a plain state machine (pure: time is passed in).

CLOSED      calls go through. It opens on ``consecutive_failures`` failures in a row (as
            Envoy's outlier detection does, with 5), or when at least ``min_calls`` of the
            last ``window`` calls are in and ``failure_rate`` of them failed (as resilience4j
            does, with 50 %).
OPEN        calls fail at once, without touching the backend, for ``open_seconds``.
HALF_OPEN   then at most ``probes`` calls go through at a time; the first success closes the
            breaker, a failure opens it again for another ``open_seconds``.

Written here rather than taken from ``purgatory``: its half-open state lets every concurrent
call through (a hanging backend would get the whole waiting wave at once), it counts only
consecutive failures, and its clock (``time.time``) cannot be given to a test.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True, slots=True)
class BreakerRules:
    consecutive_failures: int = 5
    failure_rate: float = 0.5
    window: int = 20
    min_calls: int = 10
    open_seconds: float = 5.0
    probes: int = 1


@dataclass(slots=True)
class Breaker:
    rules: BreakerRules = field(default_factory=BreakerRules)
    state: BreakerState = BreakerState.CLOSED
    opened_at: float = 0.0
    in_flight_probes: int = 0
    failures_in_a_row: int = 0
    outcomes: deque[bool] = field(default_factory=deque)  # True: a failure, newest last

    def admit(self, now: float) -> bool:
        """May a call go to the backend now? A call admitted must be ``record``-ed."""
        if self.state is BreakerState.OPEN:
            if now - self.opened_at < self.rules.open_seconds:
                return False
            self.state = BreakerState.HALF_OPEN
            self.in_flight_probes = 0
        if self.state is BreakerState.HALF_OPEN:
            if self.in_flight_probes >= self.rules.probes:
                return False
            self.in_flight_probes += 1
        return True

    def record(self, *, failed: bool, now: float) -> None:
        """The outcome of an admitted call."""
        if self.state is BreakerState.HALF_OPEN:
            self.in_flight_probes = max(0, self.in_flight_probes - 1)
            if failed:
                self._open(now)
            else:
                self._close()
            return
        if self.state is BreakerState.OPEN:
            # A call admitted before the breaker opened ends: it changes nothing.
            return
        self.outcomes.append(failed)
        if len(self.outcomes) > self.rules.window:
            self.outcomes.popleft()
        self.failures_in_a_row = self.failures_in_a_row + 1 if failed else 0
        if self.failures_in_a_row >= self.rules.consecutive_failures or self._rate_exceeded():
            self._open(now)

    def release(self) -> None:
        """An admitted call ended without an outcome about the backend (the caller's own
        deadline passed first, say): a probe slot is given back, nothing is counted."""
        if self.state is BreakerState.HALF_OPEN:
            self.in_flight_probes = max(0, self.in_flight_probes - 1)

    def _rate_exceeded(self) -> bool:
        calls = len(self.outcomes)
        return calls >= self.rules.min_calls and (
            sum(self.outcomes) / calls >= self.rules.failure_rate
        )

    def _open(self, now: float) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = now
        self.in_flight_probes = 0

    def _close(self) -> None:
        self.state = BreakerState.CLOSED
        self.failures_in_a_row = 0
        self.outcomes.clear()
