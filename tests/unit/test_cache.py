import asyncio
import os
import uuid

import pytest

from gateway.cache import Cache, build_backend, build_kept_copies
from gateway.domain import GeoPoint, ItemMaster
from gateway.errors import BackendUnavailable
from gateway.kept_copies import MemoryCopies
from tests.fakes import eur

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["memory", "redis"])
async def cache(request):
    url = None if request.param == "memory" else REDIS_URL
    c = Cache(
        build_backend(url, namespace=f"t{uuid.uuid4().hex}"),
        build_kept_copies(
            url, keep_seconds=60, max_entries=100, namespace=f"kept{uuid.uuid4().hex}"
        ),
    )
    yield c
    await c.backend.clear()
    await c.close()


class CountingLoader:
    """A backend: what it knows when asked is what it answers, ``delay`` later."""

    def __init__(self, known: dict, delay: float = 0.0):
        self.known, self.delay, self.calls = known, delay, []

    async def __call__(self, keys):
        self.calls.append(list(keys))
        answer = {k: self.known[k] for k in keys if k in self.known}
        await asyncio.sleep(self.delay)
        return answer


async def test_given_misses_then_one_loader_call_and_next_read_is_served_from_cache(cache):
    item = ItemMaster("A", "Alpha", cost=eur("1.50"), barcodes=("4006381333931",))
    loader = CountingLoader({"A": item, "B": GeoPoint(1.0, 2.0)})
    first = await cache.load_many("ns", ["A", "B", "C"], loader, ttl=60)
    second = await cache.load_many("ns", ["A", "B", "C"], loader, ttl=60)
    assert first == second == {"A": item, "B": GeoPoint(1.0, 2.0)}
    # C is unknown to the backend: that absence is cached too, so it is not asked again.
    assert loader.calls == [["A", "B", "C"]]


async def test_given_concurrent_misses_on_one_key_then_backend_called_once(cache):
    loader = CountingLoader({"A": 1}, delay=0.05)
    results = await asyncio.gather(
        *(cache.load_many("ns", ["A"], loader, ttl=60) for _ in range(50))
    )
    assert all(r == {"A": 1} for r in results)
    assert len(loader.calls) == 1


async def test_given_loader_fails_then_waiters_see_the_error_and_nothing_is_cached(cache):
    calls = 0

    async def failing(keys):
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("backend down")

    results = await asyncio.gather(
        *(cache.load_many("ns", ["A"], failing, ttl=60) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert calls == 1
    loader = CountingLoader({"A": 7})
    assert await cache.load_many("ns", ["A"], loader, ttl=60) == {"A": 7}


async def test_given_invalidate_then_next_read_reloads(cache):
    loader = CountingLoader({"A": 1})
    await cache.load_many("ns", ["A"], loader, ttl=60)
    await cache.invalidate("ns", ["A"])
    await cache.load_many("ns", ["A"], loader, ttl=60)
    assert len(loader.calls) == 2


async def test_a_read_begun_before_an_invalidation_does_not_store_what_it_read(cache):
    """A write lands while a read of the old figure is under way: the old figure answers the
    read that asked for it, but is not kept for the next caller."""
    loader = CountingLoader({"A": "before the write"}, delay=0.05)
    read = asyncio.create_task(cache.load_many("ns", ["A"], loader, ttl=60))
    await asyncio.sleep(0.01)
    await cache.invalidate("ns", ["A"])  # the write's delivery
    loader.known["A"] = "after the write"
    assert await read == {"A": "before the write"}
    assert await cache.load_many("ns", ["A"], loader, ttl=60) == {"A": "after the write"}
    assert len(loader.calls) == 2


async def test_a_caller_after_an_invalidation_does_not_join_the_read_begun_before_it(cache):
    loader = CountingLoader({"A": "before"}, delay=0.05)
    first = asyncio.create_task(cache.load_many("ns", ["A"], loader, ttl=60))
    await asyncio.sleep(0.01)
    await cache.invalidate("ns", ["A"])
    loader.known["A"] = "after"
    second = asyncio.create_task(cache.load_many("ns", ["A"], loader, ttl=60))
    assert (await first, await second) == ({"A": "before"}, {"A": "after"})
    # The second read's value is the one kept, whichever finished last.
    assert await cache.load_many("ns", ["A"], loader, ttl=60) == {"A": "after"}
    assert len(loader.calls) == 2


async def test_a_primed_read_begun_before_an_invalidation_is_not_kept(cache):
    async with cache.reading() as began:
        await cache.invalidate("ns", ["A", "B"])  # A changed while it was read; B not read
        await cache.prime("ns", {"A": "old", "C": "fresh"}, ttl=60, began=began)
    loader = CountingLoader({"A": "new", "C": "reloaded"})
    assert await cache.load_many("ns", ["A", "C"], loader, ttl=60) == {"A": "new", "C": "fresh"}
    assert loader.calls == [["A"]]


async def test_invalidations_in_one_process_are_seen_by_a_read_in_another():
    namespace = f"t{uuid.uuid4().hex}"
    first, second = (
        Cache(build_backend(REDIS_URL, namespace=namespace)),
        Cache(build_backend(REDIS_URL, namespace=namespace)),
    )
    try:
        loader = CountingLoader({"A": "before"}, delay=0.05)
        read = asyncio.create_task(first.load_many("ns", ["A"], loader, ttl=60))
        await asyncio.sleep(0.01)
        await second.invalidate("ns", ["A"])
        loader.known["A"] = "after"
        assert await read == {"A": "before"}
        assert await second.load_many("ns", ["A"], loader, ttl=60) == {"A": "after"}
    finally:
        await first.backend.clear()
        await first.close()
        await second.close()


async def test_given_ttl_passed_then_value_reloaded(cache):
    loader = CountingLoader({"A": 1})
    await cache.load_many("ns", ["A"], loader, ttl=1)
    await asyncio.sleep(1.2)
    await cache.load_many("ns", ["A"], loader, ttl=1)
    assert len(loader.calls) == 2


async def test_redis_cache_is_shared_between_two_gateway_processes():
    namespace = f"t{uuid.uuid4().hex}"
    first, second = (
        Cache(build_backend(REDIS_URL, namespace=namespace)),
        Cache(build_backend(REDIS_URL, namespace=namespace)),
    )
    try:
        loader = CountingLoader({"A": ItemMaster("A", "Alpha")})
        await first.load_many("ns", ["A"], loader, ttl=60)
        assert await second.load_many("ns", ["A"], loader, ttl=60) == {
            "A": ItemMaster("A", "Alpha")
        }
        assert len(loader.calls) == 1
    finally:
        await first.backend.clear()
        await first.close()
        await second.close()


# --- the last good copy, served when the backend fails --------------------------------------------


async def failing(keys):
    raise BackendUnavailable("square refused the connection", backend="square")


async def expire(cache, *keys):
    """As if the fresh entries' time to live had run out (clear() would flush Redis whole)."""
    for key in keys:
        await cache.backend.delete(key)


def marked(value, kept_at):
    assert kept_at.tzinfo is not None
    return ("stale", value)


async def test_given_a_backend_failing_after_its_entry_expired_then_its_last_copy_served_marked(
    cache,
):
    await cache.load_many("ns", ["A", "B"], CountingLoader({"A": 1}), ttl=60)
    await expire(cache, "ns:A", "ns:B")
    served = await cache.load_many("ns", ["A", "B"], failing, ttl=60, stale=marked)
    # A is its kept copy, marked; B was known absent, and still is.
    assert served == {"A": ("stale", 1)}


async def test_given_a_backend_failing_and_no_copy_of_one_key_then_the_failure_goes_through(cache):
    await cache.load_many("ns", ["A"], CountingLoader({"A": 1}), ttl=60)
    await expire(cache, "ns:A")
    with pytest.raises(BackendUnavailable, match="square refused"):
        await cache.load_many("ns", ["A", "Z"], failing, ttl=60, stale=marked)


async def test_an_invalidated_entry_keeps_its_last_copy(cache):
    await cache.load_many("ns", ["A"], CountingLoader({"A": 1}), ttl=60)
    await cache.invalidate("ns", ["A"])
    assert await cache.load_many("ns", ["A"], failing, ttl=60, stale=marked) == {"A": ("stale", 1)}


async def test_primed_values_are_kept_as_copies_too(cache):
    async with cache.reading() as began:
        await cache.prime("ns", {"A": 7}, ttl=60, began=began)
    await expire(cache, "ns:A")
    assert await cache.load_many("ns", ["A"], failing, ttl=60) == {"A": 7}


async def test_copies_in_memory_are_bounded_least_recently_kept_first_out():
    copies = MemoryCopies(2)
    await copies.keep({"a": 1})
    await copies.keep({"b": 2})
    await copies.keep({"c": 3})
    assert await copies.recall(["a", "b", "c"]) == {"b": 2, "c": 3}


async def test_the_in_process_backend_reads_as_aiocache_does():
    """gateway.cache.MemoryBackend reads without aiocache's wrapping and finds the same:
    values set, values set under another namespace, values expired, values never set."""
    from aiocache import SimpleMemoryCache

    from gateway.cache import MemoryBackend

    answers = []
    for kind in (SimpleMemoryCache, MemoryBackend):
        backend = kind(namespace="cg", timeout=None)
        await backend.multi_set([("a", 1), ("b", {"x": 2}), ("gone", 3)], ttl=60)
        await backend.set("gone", 3, ttl=0.05)
        await backend.set("c", "v", namespace="other")
        await asyncio.sleep(0.1)
        answers.append(
            (
                await backend.multi_get(["a", "b", "gone", "never", "c"]),
                await backend.multi_get(["c", "a"], namespace="other"),
            )
        )
    assert answers[0] == answers[1] == ([1, {"x": 2}, None, None, None], ["v", None])
