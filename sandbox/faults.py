"""Injected trouble, with the same knobs on every simulator.

``latency_ms`` delays each request. ``error_rate`` fails that share of requests with one of the
backend's canned failures, picked by a generator seeded with ``rng_seed``, so a run repeats.
``script(503, 429)`` makes the next requests fail with exactly those statuses, for tests that
need a sequence; a script is used up before the random share is drawn again.

A simulator hands over its canned failures as status -> a function that makes one, in its
backend's shape (an exception its app raises, or a ready response). The random pick is made
among them in the order given: the order is part of what a seed reproduces.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

Failure = TypeVar("Failure")

# What nginx answers for the application behind it when that application is down.
NGINX_503_PAGE = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class Faults(Generic[Failure]):
    """Latency and failures for one simulator; ``error_rate`` may be changed while it runs."""

    def __init__(
        self,
        backend: str,
        canned: Mapping[int, Callable[[], Failure]],
        *,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        rng_seed: int = 0,
    ) -> None:
        self.backend = backend
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self._canned = dict(canned)
        self._statuses = tuple(canned)
        self._rng = random.Random(rng_seed)
        self._script: deque[int] = deque()

    async def delay(self) -> None:
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)

    def script(self, *statuses: int) -> None:
        unknown = set(statuses) - set(self._canned)
        if unknown:
            raise ValueError(f"no canned {self.backend} failure for {sorted(unknown)}")
        self._script.extend(statuses)

    def next_failure(self) -> Failure | None:
        """The failure to answer this request with, or None to serve it."""
        if self._script:
            status = self._script.popleft()
        elif self.error_rate > 0 and self._rng.random() < self.error_rate:
            status = self._pick()
        else:
            return None
        return self._canned[status]()

    def _pick(self) -> int:
        return self._rng.choice(self._statuses)
