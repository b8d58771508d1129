"""The time a request has left, shared by every backend call it makes.

The GraphQL layer sets a deadline per request (``REQUEST_DEADLINE_SECONDS`` for queries); the
HTTP policy (adapters.http) bounds each attempt, each backoff and each wait for a connection
slot by what is left, so one slow backend costs a request its deadline, never more. Work
with no deadline (the background loops) is bounded by the per-backend timeouts alone.

A context variable, so every task a request starts (DataLoader batches, gathered resolvers)
carries the deadline of the request that started it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("deadline", default=None)


@contextmanager
def deadline_in(seconds: float | None) -> Iterator[None]:
    """Run the block with ``seconds`` left (or the time already left, if less)."""
    if seconds is None:
        yield
        return
    ends = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(ends if current is None else min(current, ends))
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds left before the deadline (0 once passed), or None when there is none."""
    ends = _deadline.get()
    return None if ends is None else max(0.0, ends - time.monotonic())
