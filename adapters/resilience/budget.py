"""A retry budget per backend (pure: time is passed in).

Retries may be at most ``ratio`` of the first attempts made over the last ``window_seconds``,
plus ``floor`` (so a quiet backend can still be retried at all). When a backend fails every
call, the load it sees is then at most ``1 + ratio`` times what callers ask, not
``1 + max_retries`` times: no retry storm. The idea and the defaults (20 %, at least 3) are
Envoy's retry budget and gRPC's retry throttling.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BudgetRules:
    ratio: float = 0.2
    floor: int = 3
    window_seconds: float = 10.0


@dataclass(slots=True)
class RetryBudget:
    rules: BudgetRules = field(default_factory=BudgetRules)
    _firsts: deque[float] = field(default_factory=deque)
    _retries: deque[float] = field(default_factory=deque)

    def first_attempt(self, now: float) -> None:
        self._firsts.append(now)

    def try_spend(self, now: float) -> bool:
        """Take one retry from the budget if there is one left."""
        self._forget_before(now - self.rules.window_seconds)
        allowed = self.rules.floor + math.floor(self.rules.ratio * len(self._firsts))
        if len(self._retries) >= allowed:
            return False
        self._retries.append(now)
        return True

    def _forget_before(self, moment: float) -> None:
        for times in (self._firsts, self._retries):
            while times and times[0] < moment:
                times.popleft()
