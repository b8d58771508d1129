import asyncio
import os
import uuid

import pytest

from gateway.cache import Cache, build_backend
from gateway.domain import GeoPoint, ItemMaster
from tests.fakes import eur

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["memory", "redis"])
async def cache(request):
    if request.param == "memory":
        c = Cache(build_backend(None, namespace=f"t{uuid.uuid4().hex}"))
    else:
        c = Cache(build_backend(REDIS_URL, namespace=f"t{uuid.uuid4().hex}"))
    yield c
    await c.backend.clear()
    await c.close()


class CountingLoader:
    def __init__(self, known: dict, delay: float = 0.0):
        self.known, self.delay, self.calls = known, delay, []

    async def __call__(self, keys):
        self.calls.append(list(keys))
        await asyncio.sleep(self.delay)
        return {k: self.known[k] for k in keys if k in self.known}


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
