"""The shared retry policy, as every adapter sees it."""

import asyncio
import socket
import time

import httpx
import pytest

from adapters.http import build_client, default_error, send
from adapters.resilience.breaker import Breaker, BreakerRules
from adapters.resilience.policy import RECENT_FOR_STATE, BackendPolicy
from gateway.config import Settings
from gateway.deadline import deadline_in
from gateway.domain.health import BackendHealthState
from gateway.errors import BackendRejected, BackendUnavailable


def responder(*responses: httpx.Response):
    queue = list(responses)
    calls = []

    async def call() -> httpx.Response:
        calls.append(1)
        return queue.pop(0)

    return call, calls


def parse(response: httpx.Response):
    return default_error("test", response)


async def test_given_503_then_success_when_sent_then_retried_and_answer_returned():
    call, calls = responder(httpx.Response(503), httpx.Response(200, json={"ok": True}))
    response = await send(BackendPolicy("test"), call, parse, max_retries=2, wait_initial=0.001)
    assert response.json() == {"ok": True} and len(calls) == 2


async def test_given_429_asking_for_longer_than_we_wait_then_fail_now_with_retry_after():
    call, calls = responder(httpx.Response(429, headers={"Retry-After": "1242"}))
    with pytest.raises(BackendUnavailable) as err:
        await send(
            BackendPolicy("test"), call, parse, max_retries=3, wait_initial=0.001, wait_max=1.0
        )
    assert len(calls) == 1
    assert err.value.details["retry_after_seconds"] == 1242.0


async def test_given_a_400_then_not_retried():
    call, calls = responder(httpx.Response(400), httpx.Response(200))
    with pytest.raises(BackendRejected):
        await send(BackendPolicy("test"), call, parse, max_retries=3, wait_initial=0.001)
    assert len(calls) == 1


async def test_given_connection_refused_every_time_then_unavailable_after_the_budget():
    attempts = []

    async def call() -> httpx.Response:
        attempts.append(1)
        raise httpx.ConnectError("refused")

    with pytest.raises(BackendUnavailable):
        await send(BackendPolicy("test"), call, parse, max_retries=2, wait_initial=0.001)
    assert len(attempts) == 3


# --- the backend's guard: deadline, breaker, budget, bulkhead, health ---------------------------


def always(status: int, **kwargs):
    attempts = []

    async def call() -> httpx.Response:
        attempts.append(1)
        return httpx.Response(status, **kwargs)

    return call, attempts


def quick_breaker(**rules) -> BackendPolicy:
    return BackendPolicy("test", breaker=Breaker(BreakerRules(**rules)))


async def test_given_a_hanging_backend_then_the_call_ends_by_the_requests_deadline():
    async def hang() -> httpx.Response:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    started = time.monotonic()
    with deadline_in(0.3), pytest.raises(BackendUnavailable) as caught:
        await send(BackendPolicy("test"), hang, parse, max_retries=2)
    # Half of what was left: the rest is for what the request does next.
    assert 0.14 < time.monotonic() - started < 0.25
    assert caught.value.message == (
        "test did not answer within its share of the request's deadline"
    )
    assert caught.value.backend == "test"


async def test_given_backoff_longer_than_the_time_left_then_no_retry_is_started():
    call, attempts = always(503)
    started = time.monotonic()
    with deadline_in(0.3), pytest.raises(BackendUnavailable):
        await send(BackendPolicy("test"), call, parse, max_retries=5, wait_initial=0.5)
    assert len(attempts) == 1
    assert time.monotonic() - started < 0.1


async def test_given_five_refusals_then_the_breaker_fails_the_next_calls_without_asking():
    attempts = []

    async def refused() -> httpx.Response:
        attempts.append(1)
        raise httpx.ConnectError("x") from ConnectionRefusedError(111, "Connection refused")

    policy = BackendPolicy("test")
    for _ in range(5):
        with pytest.raises(BackendUnavailable, match="test refused the connection"):
            await send(policy, refused, parse, max_retries=0)
    started = time.perf_counter()
    with pytest.raises(BackendUnavailable, match="circuit breaker is open"):
        await send(policy, refused, parse, max_retries=2)
    assert time.perf_counter() - started < 0.005
    assert len(attempts) == 5
    assert policy.report().state is BackendHealthState.OPEN
    assert policy.report().fast_failures == 1


async def test_given_the_backend_recovers_then_a_probe_after_the_open_time_closes_the_breaker():
    clock = [0.0]
    policy = BackendPolicy(
        "test", breaker=Breaker(BreakerRules(open_seconds=5)), monotonic=lambda: clock[0]
    )
    failing, _ = always(503)
    for _ in range(5):
        with pytest.raises(BackendUnavailable):
            await send(policy, failing, parse, max_retries=0)
    assert policy.report().state is BackendHealthState.OPEN
    clock[0] = 5.5
    healthy, attempts = always(200, json={"ok": True})
    assert (await send(policy, healthy, parse, max_retries=0)).status_code == 200
    assert len(attempts) == 1 and policy.report().state is BackendHealthState.DEGRADED
    for _ in range(RECENT_FOR_STATE):
        await send(policy, healthy, parse, max_retries=0)
    assert policy.report().state is BackendHealthState.UP


async def test_given_a_retry_storm_then_total_attempts_stay_within_the_budget():
    # Breaker out of the way: the budget alone must hold the load down.
    policy = quick_breaker(consecutive_failures=10_000, min_calls=10_000)
    call, attempts = always(503)
    for _ in range(100):
        with pytest.raises(BackendUnavailable):
            await send(policy, call, parse, max_retries=2, wait_initial=0.0001)
    # Without a budget this would be 300 attempts.
    assert len(attempts) <= 100 + 3 + 20


async def test_given_a_200_with_a_body_that_is_not_json_then_retried_like_a_5xx():
    call, calls = responder(
        httpx.Response(200, content=b"<html>maintenance</html>"),
        httpx.Response(200, json={"ok": True}),
    )
    response = await send(BackendPolicy("test"), call, parse, max_retries=2, wait_initial=0.001)
    assert response.json() == {"ok": True} and len(calls) == 2


async def test_given_only_bodies_that_are_not_json_then_backend_unavailable_says_so():
    call, _ = always(200, content=b"\x00\xff garbage")
    with pytest.raises(BackendUnavailable, match="with a body that is not JSON"):
        await send(BackendPolicy("test"), call, parse, max_retries=1, wait_initial=0.001)


async def test_given_a_429_with_retry_after_then_the_next_try_waits_that_long():
    call, calls = responder(
        httpx.Response(429, headers={"Retry-After": "0.3"}), httpx.Response(200, json={})
    )
    started = time.monotonic()
    await send(BackendPolicy("test"), call, parse, max_retries=2, wait_initial=0.001)
    assert time.monotonic() - started >= 0.3 and len(calls) == 2


async def test_given_a_bulkhead_of_two_then_never_more_than_two_calls_in_flight():
    in_flight, most = 0, 0

    async def slow() -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return httpx.Response(200, json={})

    policy = BackendPolicy("test", max_concurrent=2)
    await asyncio.gather(*(send(policy, slow, parse, max_retries=0) for _ in range(6)))
    assert most == 2


async def test_health_reports_the_last_failure_the_error_rate_and_the_p99():
    policy = BackendPolicy("test")
    ok, _ = always(200, json={})
    bad, _ = always(500)
    for _ in range(3):
        await send(policy, ok, parse, max_retries=0)
    with pytest.raises(BackendUnavailable):
        await send(policy, bad, parse, max_retries=0)
    report = policy.report()
    assert report.error_rate == 0.25 and report.recent_calls == 4
    assert report.last_failure == "test answered HTTP 500"
    assert report.last_success_at is not None and report.latency_p99_ms is not None
    assert report.state is BackendHealthState.DEGRADED


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_given_a_port_nobody_listens_on_then_the_error_says_refused(transport):
    settings = Settings(http_transport=transport)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the call: nothing listens
    async with build_client(settings, f"http://127.0.0.1:{port}") as client:
        with pytest.raises(BackendUnavailable, match="test refused the connection"):
            await send(BackendPolicy("test"), lambda: client.get("/x"), parse, max_retries=0)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_given_bytes_that_are_not_http_then_backend_unavailable_not_a_crash(transport):
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with build_client(
            Settings(http_transport=transport), f"http://127.0.0.1:{port}"
        ) as c:
            with pytest.raises(BackendUnavailable, match="answered with bytes that are not HTTP"):
                await send(BackendPolicy("test"), lambda: c.get("/x"), parse, max_retries=1)
    finally:
        server.close()
