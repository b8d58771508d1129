"""A token bucket: ``burst`` requests at once, refilled at ``per_second``. Pure, so the
in-process limiter and the Redis script (gateway/ratelimit/redis_store.py, the same
arithmetic in Lua) are held to one rule (tests/unit/test_token_bucket.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    at: float  # seconds, on the clock the bucket is kept by


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    remaining: int  # whole requests left at once
    retry_after: float  # seconds until one more would be allowed (0 when allowed)


def take(
    bucket: Bucket | None, now: float, *, per_second: float, burst: int, cost: int = 1
) -> tuple[Bucket, Verdict]:
    """Take ``cost`` tokens if there are that many; a new caller starts with a full bucket.
    A clock that went backwards refills nothing (it never takes tokens away)."""
    if bucket is None:
        tokens = float(burst)
    else:
        tokens = min(float(burst), bucket.tokens + max(0.0, now - bucket.at) * per_second)
    if tokens >= cost:
        tokens -= cost
        return Bucket(tokens, now), Verdict(True, math.floor(tokens), 0.0)
    wait = (cost - tokens) / per_second
    return Bucket(tokens, now), Verdict(False, math.floor(tokens), wait)
