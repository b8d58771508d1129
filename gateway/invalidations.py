"""Which cache keys were invalidated after a read began: a read that began before an
invalidation must not put back what the invalidation took away.

A read of a backend takes time. If the gateway writes to that backend meanwhile and drops
the cached figure (the write's delivery invalidates it), the read that was already under way
may carry the figure from before the write; stored after the invalidation, it would be
served as fresh for a whole time to live (15 s for stock, a minute for web listings): a
reconcile would then compare the truth with a storefront copy the gateway had already
corrected, and report drift that is not there.

So each read takes a mark when it begins, each invalidation is logged, and the cache stores
only the keys not invalidated since the read's mark (gateway.cache). In one process the log
is a counter and the keys' last invalidation (``LocalInvalidations``), kept only while a read
that began before them is open. With Redis every process shares it
(``RedisInvalidations``): a counter and a key per invalidated key, in the cache's Redis.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol

from aiocache.base import BaseCache

# A read of a backend lasts seconds at most (the HTTP policy's deadline); an invalidation is
# remembered in Redis far longer than that.
REMEMBER_SECONDS = 600
# In one process, past this many logged keys the log drops those older than every open read.
LOCAL_PRUNE_AT = 10_000


class Invalidations(Protocol):
    async def begin(self) -> int:
        """The mark of a read beginning now."""
        ...

    def end(self, mark: int) -> None:
        """The read with this mark is over."""
        ...

    async def record(self, keys: Sequence[str]) -> None:
        """These keys are invalidated now (before their entries are dropped)."""
        ...

    async def since(self, keys: Sequence[str], mark: int) -> set[str]:
        """Those of ``keys`` invalidated after the read with ``mark`` began."""
        ...


class LocalInvalidations:
    def __init__(self) -> None:
        self._count = 0
        self._last: dict[str, int] = {}  # key -> the count at its last invalidation
        self._open: Counter[int] = Counter()  # marks of the reads under way

    async def begin(self) -> int:
        self._open[self._count] += 1
        return self._count

    def end(self, mark: int) -> None:
        self._open[mark] -= 1
        if self._open[mark] <= 0:
            del self._open[mark]
        if not self._open:
            self._last.clear()  # no read can be behind any of them
        elif len(self._last) > LOCAL_PRUNE_AT:
            oldest = min(self._open)
            self._last = {k: n for k, n in self._last.items() if n > oldest}

    async def record(self, keys: Sequence[str]) -> None:
        if not keys or not self._open:
            return  # nobody reading: nothing to hold back
        self._count += 1
        self._last.update(dict.fromkeys(keys, self._count))

    async def since(self, keys: Sequence[str], mark: int) -> set[str]:
        last = self._last
        return {key for key in keys if last.get(key, -1) > mark}


class RedisInvalidations:
    """Shared by every process on the cache's Redis. Between a read's check and its store
    there is one round trip in which another process's invalidation can still be missed;
    without the log it was the read's whole duration."""

    COUNTER = "invalidations"

    def __init__(self, backend: BaseCache) -> None:
        self._backend = backend

    async def begin(self) -> int:
        # INCR keeps the counter as a plain integer, not in the cache's serializer.
        value = await self._backend.get(self.COUNTER, loads_fn=_plain_int)
        return int(value or 0)

    def end(self, mark: int) -> None:
        return None  # the keys expire by themselves

    async def record(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        count = await self._backend.increment(self.COUNTER, 1)
        await self._backend.multi_set(_marked(keys, count), ttl=REMEMBER_SECONDS)

    async def since(self, keys: Sequence[str], mark: int) -> set[str]:
        if not keys:
            return set()
        found = await self._backend.multi_get([f"inv:{key}" for key in keys])
        return {key for key, n in zip(keys, found, strict=True) if n is not None and int(n) > mark}


def _plain_int(raw: bytes | str | None) -> int | None:
    return None if raw is None else int(raw)


def _marked(keys: Iterable[str], count: int) -> list[tuple[str, int]]:
    return [(f"inv:{key}", count) for key in keys]
