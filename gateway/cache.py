"""The caching layer: aiocache underneath, the project's policies on top.

* batched: ``load_many`` reads all keys in one round trip and loads only the misses, in one
  call to the loader, so a cached page stays one request per backend;
* single-flight: concurrent misses on a key (within this process) share one loader call;
* absence is cached too (a SKU a backend does not know), so unknown SKUs do not hammer it;
* no per-call timeout: aiocache wraps every call in ``asyncio.wait_for`` unless the backend's
  ``timeout`` is None, which costs about a third of throughput for nothing here;
* a failing backend is answered for from the last good copy (gateway.kept_copies), passed
  through the caller's ``stale`` marker so the answer says so; without a copy of every key
  asked, the failure goes to the caller;
* a read that began before an invalidation of its key does not store what it read
  (gateway.invalidations), and a caller that comes after the invalidation does not join it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from aiocache import RedisCache, SimpleMemoryCache
from aiocache.base import BaseCache
from aiocache.serializers import PickleSerializer

from gateway.config import Settings
from gateway.errors import BackendUnavailable
from gateway.invalidations import Invalidations, LocalInvalidations, RedisInvalidations
from gateway.kept_copies import KeptCopies, MemoryCopies, NoCopies, RedisCopies

V = TypeVar("V")

_ABSENT = "__absent__"

# A generation is this process's random prefix and a count: unlike every value seen before
# in any process, as a random token per change would be, without a system call per write.
_generation_prefix = secrets.token_hex(8)
_generations = itertools.count(1)


def _new_generation() -> str:
    return f"{_generation_prefix}-{next(_generations)}"


def _new_generation_prefix() -> None:
    global _generation_prefix
    _generation_prefix = secrets.token_hex(8)


# A forked child (uvicorn --workers) draws its own prefix, or two processes would count
# through the same generations.
os.register_at_fork(after_in_child=_new_generation_prefix)


class MemoryBackend(SimpleMemoryCache):
    """aiocache's in-process cache, whose look-ups skip aiocache's per-call wrapping.

    Every availability answer reads several namespaces; each ``multi_get`` went through four
    decorators (an environment variable read to see whether caching is disabled, a timeout
    that is None here, plugins there are none of, a debug line built whether or not it is
    logged): about 4 % of an executed product page's CPU, more than the dictionary reads.
    The values are the objects themselves (no serializer), so reading them is the lookup.
    Writes, deletes and expiry stay aiocache's own.
    """

    async def multi_get(
        self,
        keys: Sequence[str],
        loads_fn: Any = None,
        namespace: str | None = None,
        _conn: Any = None,
    ) -> list[Any]:
        return self.held(keys, namespace)

    def held(self, keys: Sequence[str], namespace: str | None = None) -> list[Any]:
        """``multi_get`` without the coroutine (Cache.load_many, on every answer). The keys
        are strings, namespaced as aiocache's own key builder does (no builder is given)."""
        held: dict[str, Any] = self._cache
        prefix = (self.namespace if namespace is None else namespace) or ""
        return [held.get(prefix + key) for key in keys]

    def held_one(self, key: str) -> Any:
        """``held`` of one key."""
        return self._cache.get((self.namespace or "") + key)


def build_backend(redis_url: str | None, *, namespace: str = "cg") -> BaseCache:
    if not redis_url:
        return MemoryBackend(namespace=namespace, timeout=None)
    from urllib.parse import urlparse

    url = urlparse(redis_url)
    return RedisCache(
        endpoint=url.hostname or "127.0.0.1",
        port=url.port or 6379,
        db=int((url.path or "/0").lstrip("/") or 0),
        password=url.password,
        namespace=namespace,
        serializer=PickleSerializer(),
        timeout=None,
    )


def build_kept_copies(
    redis_url: str | None, *, keep_seconds: int, max_entries: int, namespace: str = "cg-kept"
) -> KeptCopies:
    """Where the last good copies live: beside the cache (Redis), or a bounded LRU."""
    if keep_seconds <= 0:
        return NoCopies()
    if not redis_url:
        return MemoryCopies(max_entries)
    return RedisCopies(build_backend(redis_url, namespace=namespace), keep_seconds)


def cache_for(settings: Settings) -> Cache:
    """The process's cache, with its last good copies, as configured."""
    rules = settings.resilience
    return Cache(
        build_backend(settings.redis_url),
        build_kept_copies(
            settings.redis_url,
            keep_seconds=rules.stale_keep_seconds,
            max_entries=rules.stale_copies_max,
        ),
    )


GENERATION_KEY = "generation"


class CacheObserver(Protocol):
    """Told how each look-up went, per namespace (gateway.observability.metrics counts it):
    keys found, keys loaded from the backend, keys that joined a load already under way;
    and keys answered from their last good copy because the backend was unavailable."""

    def looked_up(self, source: str, hits: int, misses: int, joined: int) -> None: ...

    def served_stale(self, source: str, keys: int) -> None: ...


# Marks a value served from its last good copy, given when that copy was kept (a stock
# reading as stale, say).
Stale = Callable[[Any, datetime], Any]


class Cache:
    def __init__(self, backend: BaseCache, copies: KeptCopies | None = None) -> None:
        self._backend = backend
        self._copies = copies or NoCopies()
        self._in_flight: dict[str, asyncio.Future[Any]] = {}
        self._invalidations: Invalidations = (
            LocalInvalidations()
            if isinstance(backend, SimpleMemoryCache)
            else RedisInvalidations(backend)
        )
        # In process (no Redis), the generation is a plain attribute: the micro-cache reads
        # it on every request, and a backend call (aiocache's plugins, timeouts and
        # namespacing) cost more than the rest of a replay's look-up.
        self._local_generation = "0" if isinstance(backend, SimpleMemoryCache) else None
        self._memory = backend if isinstance(backend, MemoryBackend) else None
        # Told of every local change, to pass it to other processes (persistence/notify).
        self.announce: Callable[[], None] | None = None
        self.observer: CacheObserver | None = None

    async def generation(self) -> str:
        """Changed by every invalidation; caches of derived answers put it in their key.

        It lives in the cache backend, so with Redis every gateway process sees a change
        made by any of them. A new random token rather than a counter: two processes
        bumping at once still both move it away from every value seen before.
        """
        if self._local_generation is not None:
            return self._local_generation
        value = await self._backend.get(GENERATION_KEY)
        return "0" if value is None else str(value)

    async def bump_generation(self) -> None:
        await self.set_generation(_new_generation())
        if self.announce is not None:
            self.announce()

    async def set_generation_fresh(self) -> None:
        """Another process changed something: a new generation, not announced again."""
        await self.set_generation(_new_generation())

    async def set_generation(self, token: str) -> None:
        """Take a new generation (one another process's change announced, say)."""
        if self._local_generation is not None:
            self._local_generation = token
            return
        await self._backend.set(GENERATION_KEY, token)

    @property
    def backend(self) -> BaseCache:
        return self._backend

    async def load_many(
        self,
        namespace: str,
        keys: Sequence[str],
        loader: Callable[[list[str]], Awaitable[Mapping[str, V]]],
        ttl: int,
        *,
        stale: Stale | None = None,
    ) -> dict[str, V]:
        """Values for ``keys`` that exist; misses loaded in one call, shared with concurrent
        callers asking for the same keys. When the loader's backend is unavailable, the last
        good copies are served, each through ``stale`` (as they are without one)."""
        if len(keys) == 1:  # most look-ups: one key, held here
            key = keys[0]
            value = self._held_here(namespace, key)
            if value is not None:
                return {} if value == _ABSENT else {key: value}
        unique = list(dict.fromkeys(keys)) if len(keys) > 1 else list(keys)
        if not unique:
            return {}
        full_keys = [f"{namespace}:{k}" for k in unique]
        memory = self._memory
        cached = (
            memory.held(full_keys)
            if memory is not None
            else await self._backend.multi_get(full_keys)
        )
        found: dict[str, V] = {}
        to_load: list[str] = []
        waiting: list[tuple[str, asyncio.Future[Any]]] = []
        for key, full_key, value in zip(unique, full_keys, cached, strict=True):
            if value is not None:
                if value != _ABSENT:
                    found[key] = value
            elif (future := self._in_flight.get(full_key)) is not None:
                waiting.append((key, future))
            else:
                to_load.append(key)
        if self.observer is not None:
            hits = len(unique) - len(to_load) - len(waiting)
            self.observer.looked_up(namespace, hits, len(to_load), len(waiting))

        if to_load:
            futures = {
                f"{namespace}:{k}": asyncio.get_running_loop().create_future() for k in to_load
            }
            self._in_flight.update(futures)
            try:
                async with self.reading() as began:
                    try:
                        loaded = await loader(to_load)
                    except BackendUnavailable as failure:
                        loaded = await self._last_good(namespace, to_load, stale, failure)
                    else:
                        pairs = {f"{namespace}:{k}": loaded.get(k, _ABSENT) for k in to_load}
                        await self._store(pairs, ttl, began)
                for k, future in zip(to_load, futures.values(), strict=True):
                    future.set_result(loaded.get(k, _ABSENT))
                found.update({k: loaded[k] for k in to_load if k in loaded})
            except BaseException as exc:
                for future in futures.values():
                    if not future.done():
                        future.set_exception(exc)
                        future.exception()  # retrieved here, so no "never retrieved" warning
                raise
            finally:
                for full_key, future in futures.items():
                    # An invalidation may have let a newer load take the key's place.
                    if self._in_flight.get(full_key) is future:
                        del self._in_flight[full_key]

        for key, future in waiting:
            value = await asyncio.shield(future)
            if value != _ABSENT:
                found[key] = value
        return found

    async def _last_good(
        self,
        namespace: str,
        keys: Sequence[str],
        stale: Stale | None,
        failure: BackendUnavailable,
    ) -> dict[str, Any]:
        """The kept copy of every key, marked; the backend's ``failure`` unless there is a
        copy of each."""
        copies = await self._copies.recall([f"{namespace}:{k}" for k in keys])
        if len(copies) < len(keys):
            raise failure
        if self.observer is not None:
            self.observer.served_stale(namespace, len(keys))
        found: dict[str, Any] = {}
        for key in keys:
            kept_at, value = copies[f"{namespace}:{key}"]
            if value != _ABSENT:
                found[key] = value if stale is None else stale(value, kept_at)
        return found

    async def _keep(self, pairs: Mapping[str, Any]) -> None:
        kept_at = datetime.now(UTC)
        await self._copies.keep({key: (kept_at, value) for key, value in pairs.items()})

    async def load_one(
        self,
        namespace: str,
        key: str,
        loader: Callable[[], Awaitable[V]],
        ttl: int,
        *,
        stale: Stale | None = None,
    ) -> V:
        value = self._held_here(namespace, key)
        if value is not None:  # without load_many's bookkeeping
            if value == _ABSENT:
                raise KeyError(key)  # as load_many's answer without it would
            return value

        async def load(_: list[str]) -> dict[str, V]:
            return {key: await loader()}

        return (await self.load_many(namespace, [key], load, ttl, stale=stale))[key]

    def _held_here(self, namespace: str, key: str) -> Any:
        """The value this process holds for the key (counted as a hit), or None: not held
        here, or no cache in this process (Redis)."""
        memory = self._memory
        if memory is None:
            return None
        value = memory.held_one(f"{namespace}:{key}")
        if value is not None and self.observer is not None:
            self.observer.looked_up(namespace, 1, 0, 0)
        return value

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[int]:
        """Around a read whose values are primed: its mark, for ``prime(began=...)``."""
        began = await self._invalidations.begin()
        try:
            yield began
        finally:
            self._invalidations.end(began)

    async def prime(
        self, namespace: str, values: Mapping[str, Any], ttl: int, *, began: int
    ) -> None:
        """Store values another call already fetched (in ``reading()``, which gave
        ``began``), so nobody fetches them again."""
        if values:
            await self._store({f"{namespace}:{k}": v for k, v in values.items()}, ttl, began)

    async def _store(self, pairs: Mapping[str, Any], ttl: int, began: int) -> None:
        """Keep what a read found, but for the keys invalidated since it began: what it
        found of those may be from before the change the invalidation was for."""
        invalidated = await self._invalidations.since(list(pairs), began)
        if invalidated:
            pairs = {k: v for k, v in pairs.items() if k not in invalidated}
        if pairs:
            await self._backend.multi_set(list(pairs.items()), ttl=ttl)
            await self._keep(pairs)

    async def invalidate(self, namespace: str, keys: Sequence[str]) -> None:
        full_keys = [f"{namespace}:{key}" for key in keys]
        # Logged before the entries go: a read storing in between is then held back.
        await self._invalidations.record(full_keys)
        for full_key in full_keys:
            await self._backend.delete(full_key)
            # A caller from now on reads afresh rather than join a read begun before.
            self._in_flight.pop(full_key, None)
        await self.bump_generation()

    async def close(self) -> None:
        await self._backend.close()
        await self._copies.close()
