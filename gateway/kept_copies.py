"""The last good copy of every cached answer, kept long after its time to live.

When a backend fails (or its breaker is open), the cache (gateway.cache) answers from here
rather than not at all, and marks what it served as stale. In memory: a bounded LRU
(RESILIENCE__STALE_COPIES_MAX entries, the least recently kept dropped first). With Redis:
kept there for RESILIENCE__STALE_KEEP_SECONDS, shared by every gateway process and kept
across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from aiocache.base import BaseCache
from cachetools import LRUCache


class KeptCopies(Protocol):
    async def keep(self, values: Mapping[str, Any]) -> None: ...

    async def recall(self, keys: Sequence[str]) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class MemoryCopies:
    def __init__(self, max_entries: int) -> None:
        self._copies: LRUCache[str, Any] = LRUCache(maxsize=max(1, max_entries))
        self._enabled = max_entries > 0

    async def keep(self, values: Mapping[str, Any]) -> None:
        if self._enabled:
            self._copies.update(values)

    async def recall(self, keys: Sequence[str]) -> dict[str, Any]:
        return {key: self._copies[key] for key in keys if key in self._copies}

    async def close(self) -> None:
        return None


class RedisCopies:
    """In the cache's Redis, under their own namespace, so an invalidation of the fresh
    entry leaves the copy."""

    def __init__(self, backend: BaseCache, keep_seconds: int) -> None:
        self._backend = backend
        self._keep_seconds = keep_seconds

    async def keep(self, values: Mapping[str, Any]) -> None:
        if values and self._keep_seconds > 0:
            await self._backend.multi_set(list(values.items()), ttl=self._keep_seconds)

    async def recall(self, keys: Sequence[str]) -> dict[str, Any]:
        found = await self._backend.multi_get(list(keys)) if keys else []
        return {key: value for key, value in zip(keys, found, strict=True) if value is not None}

    async def close(self) -> None:
        await self._backend.close()


class NoCopies:
    async def keep(self, values: Mapping[str, Any]) -> None:
        return None

    async def recall(self, keys: Sequence[str]) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        return None
