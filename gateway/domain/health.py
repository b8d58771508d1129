"""How each backend is doing, as an operator reads it (``backendHealth``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class BackendHealthState(StrEnum):
    UP = "UP"  # calls go through (the breaker is closed)
    DEGRADED = "DEGRADED"  # calls go through, but recent ones failed
    OPEN = "OPEN"  # the breaker is open: calls fail at once, answers come from kept copies
    HALF_OPEN = "HALF_OPEN"  # a probe call is finding out whether the backend is back


@dataclass(frozen=True, slots=True)
class BackendHealth:
    name: str
    state: BackendHealthState
    last_success_at: datetime | None
    last_failure: str | None
    last_failure_at: datetime | None
    error_rate: float  # share of the recent calls that failed (0..1)
    latency_p99_ms: float | None  # over the recent calls, failures included
    recent_calls: int
    fast_failures: int  # calls the open breaker refused since the process started
    calls: int  # calls made since the process started (first attempts)
    retries: int  # retries made since then (at most the retry budget's share of calls)
