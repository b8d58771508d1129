"""The token bucket every rate limit keeps (gateway.domain.token_bucket), and the same rule
in Redis (gateway.ratelimit.redis_store), shared by every gateway process."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from gateway.config import RateLimitSettings, RateRule
from gateway.domain.token_bucket import take
from gateway.ratelimit import InProcessBuckets, RateLimiter
from gateway.ratelimit.redis_store import RedisBuckets

REDIS = "redis://127.0.0.1:6379/0"


def test_a_new_caller_gets_its_burst_then_waits_for_the_refill():
    bucket, allowed = None, []
    for _ in range(4):
        bucket, verdict = take(bucket, 100.0, per_second=2.0, burst=3)
        allowed.append(verdict.allowed)
    assert allowed == [True, True, True, False]
    assert verdict.retry_after == 0.5  # one token at 2 a second
    bucket, verdict = take(bucket, 100.5, per_second=2.0, burst=3)
    assert verdict.allowed and verdict.remaining == 0


@given(
    steps=st.lists(st.floats(min_value=-5, max_value=5, allow_nan=False), max_size=60),
    per_second=st.floats(min_value=0.1, max_value=100),
    burst=st.integers(min_value=1, max_value=50),
)
def test_no_caller_ever_gets_more_than_its_burst_plus_the_refill(steps, per_second, burst):
    bucket, now, allowed, elapsed = None, 1000.0, 0, 0.0
    for step in steps:
        now += step  # a clock that jumps back refills nothing
        elapsed += max(0.0, step)
        bucket, verdict = take(bucket, now, per_second=per_second, burst=burst)
        allowed += verdict.allowed
        assert 0 <= bucket.tokens <= burst
        assert verdict.allowed or verdict.retry_after > 0
    assert allowed <= burst + per_second * elapsed + 1e-6


def test_a_caller_holding_several_roles_gets_the_most_generous_rule():
    settings = RateLimitSettings(
        per_second=10, burst=20, roles={"STOREFRONT": RateRule(per_second=100, burst=200)}
    )
    assert settings.rule_for(frozenset({"OPS"}))[0] == "default"
    assert settings.rule_for(frozenset({"OPS", "STOREFRONT"})) == (
        "STOREFRONT",
        RateRule(per_second=100, burst=200),
    )


async def test_an_in_process_bucket_refuses_past_the_burst():
    limiter = RateLimiter(RateLimitSettings(per_second=1, burst=2, roles={}), InProcessBuckets())
    verdicts = [(await limiter.take("key:a", frozenset({"OPS"})))[1] for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    # Another caller has a bucket of its own.
    assert (await limiter.take("key:b", frozenset({"OPS"})))[1].allowed


async def test_two_processes_share_one_bucket_per_caller_in_redis():
    settings = RateLimitSettings(per_second=1, burst=3, roles={})
    prefix = f"cg:test-rate:{uuid.uuid4().hex}:"
    first = RateLimiter(settings, RedisBuckets(REDIS, prefix=prefix))
    second = RateLimiter(settings, RedisBuckets(REDIS, prefix=prefix))
    try:
        taken = [
            (await (first if i % 2 else second).take("key:web", frozenset()))[1] for i in range(4)
        ]
        assert [v.allowed for v in taken] == [True, True, True, False]
        assert 0.9 < taken[-1].retry_after <= 1.0 and taken[-1].remaining == 0
    finally:
        await first.close()
        await second.close()
