"""Per-principal rate limits: a token bucket per caller, kept in this process or, with
REDIS_URL, in Redis so that every gateway process shares one bucket per caller."""

from __future__ import annotations

import time
from typing import Protocol

from gateway.config import RateLimitSettings, RateRule
from gateway.domain.token_bucket import Bucket, Verdict, take


class BucketStore(Protocol):
    async def take(self, key: str, rule: RateRule) -> Verdict: ...

    async def close(self) -> None: ...


class InProcessBuckets:
    """Buckets in this process; the least recently used are let go past ``max_callers`` (a
    forgotten caller starts again with a full bucket)."""

    def __init__(self, max_callers: int = 100_000) -> None:
        self._max = max_callers
        self._buckets: dict[str, Bucket] = {}

    async def take(self, key: str, rule: RateRule) -> Verdict:
        bucket, verdict = take(
            self._buckets.pop(key, None),
            time.monotonic(),
            per_second=rule.per_second,
            burst=rule.burst,
        )
        self._buckets[key] = bucket  # re-inserted: the dict's order is the recency order
        if len(self._buckets) > self._max:
            del self._buckets[next(iter(self._buckets))]
        return verdict

    async def close(self) -> None:
        return None


class RateLimiter:
    """Which rule applies to a caller, and its bucket under that rule."""

    def __init__(self, settings: RateLimitSettings, store: BucketStore) -> None:
        self.settings = settings
        self._store = store
        # The rule of each set of roles, decided once: the settings do not change, and a
        # rule is a model built (and validated) each time it is decided.
        self._rules: dict[frozenset[str], tuple[str, RateRule]] = {}

    async def take(self, principal_id: str, roles: frozenset[str]) -> tuple[RateRule, Verdict]:
        chosen = self._rules.get(roles)
        if chosen is None:
            chosen = self._rules[roles] = self.settings.rule_for(roles)
        name, rule = chosen
        return rule, await self._store.take(f"{name}:{principal_id}", rule)

    async def close(self) -> None:
        await self._store.close()


def rate_limiter_for(settings: RateLimitSettings, redis_url: str | None) -> RateLimiter:
    if redis_url:
        from gateway.ratelimit.redis_store import RedisBuckets

        return RateLimiter(settings, RedisBuckets(redis_url))
    return RateLimiter(settings, InProcessBuckets())
