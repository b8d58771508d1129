"""The token bucket in Redis: one hash per caller, updated by one script (atomic, on
Redis' own clock, so processes on machines whose clocks differ share one bucket fairly)."""

from __future__ import annotations

import math
from typing import Any

import redis.asyncio as redis

from gateway.config import RateRule
from gateway.domain.token_bucket import Verdict

# gateway.domain.token_bucket.take, in Lua. Returns {allowed, tokens left, wait} as strings
# (Redis turns Lua numbers into integers).
TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local per_second = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if state[1] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  tokens = math.min(burst, tonumber(state[1]) + elapsed * per_second)
end
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = (cost - tokens) / per_second
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / per_second * 1000) + 1000)
return {tostring(allowed), tostring(tokens), tostring(wait)}
"""


class RedisBuckets:
    def __init__(self, url: str, *, prefix: str = "cg:rate:") -> None:
        self._redis: Any = redis.from_url(url)
        self._script = self._redis.register_script(TAKE)
        self._prefix = prefix

    async def take(self, key: str, rule: RateRule) -> Verdict:
        allowed, tokens, wait = await self._script(
            keys=[self._prefix + key], args=[rule.per_second, rule.burst, 1]
        )
        return Verdict(allowed == b"1", math.floor(float(tokens)), float(wait))

    async def close(self) -> None:
        await self._redis.aclose()
