"""What an operator reads about one backend: its breaker, its last success and failure, its
error rate and its p99 latency over the recent calls (``backendHealth``, and the readiness
endpoint of the operations issue). Kept per gateway process."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from gateway.domain.health import BackendHealth, BackendHealthState

RECENT_CALLS = 200


@dataclass(slots=True)
class HealthRecord:
    name: str
    last_success_at: datetime | None = None
    last_failure: str | None = None
    last_failure_at: datetime | None = None
    fast_failures: int = 0  # calls refused by the open breaker, the backend never asked
    calls: int = 0  # calls made (first attempts), since the process started
    retries: int = 0  # further attempts the retry budget allowed, since then
    _outcomes: deque[bool] = field(default_factory=lambda: deque(maxlen=RECENT_CALLS))
    _latencies: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_CALLS))

    def succeeded(self, seconds: float, at: datetime) -> None:
        self.last_success_at = at
        self._outcomes.append(False)
        self._latencies.append(seconds)

    def failed(self, message: str, seconds: float, at: datetime) -> None:
        self.last_failure, self.last_failure_at = message, at
        self._outcomes.append(True)
        self._latencies.append(seconds)

    def error_rate_of_last(self, calls: int) -> float:
        last = list(self._outcomes)[-calls:]
        return sum(last) / len(last) if last else 0.0

    def snapshot(self, state: BackendHealthState) -> BackendHealth:
        calls = len(self._outcomes)
        return BackendHealth(
            name=self.name,
            state=state,
            last_success_at=self.last_success_at,
            last_failure=self.last_failure,
            last_failure_at=self.last_failure_at,
            error_rate=(sum(self._outcomes) / calls) if calls else 0.0,
            latency_p99_ms=_p99_ms(self._latencies),
            recent_calls=calls,
            fast_failures=self.fast_failures,
            calls=self.calls,
            retries=self.retries,
        )


def _p99_ms(latencies: deque[float]) -> float | None:
    if not latencies:
        return None
    ordered = sorted(latencies)
    # Nearest rank: the smallest latency at least 99 % of the calls did not exceed.
    rank = max(0, -(-99 * len(ordered) // 100) - 1)
    return round(ordered[rank] * 1000, 1)
