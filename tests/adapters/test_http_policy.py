"""The shared retry policy, as every adapter sees it."""

import httpx
import pytest

from adapters.http import default_error, send
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
    response = await send("test", call, parse, max_retries=2, wait_initial=0.001)
    assert response.json() == {"ok": True} and len(calls) == 2


async def test_given_429_asking_for_longer_than_we_wait_then_fail_now_with_retry_after():
    call, calls = responder(httpx.Response(429, headers={"Retry-After": "1242"}))
    with pytest.raises(BackendUnavailable) as err:
        await send("test", call, parse, max_retries=3, wait_initial=0.001, wait_max=1.0)
    assert len(calls) == 1
    assert err.value.details["retry_after_seconds"] == 1242.0


async def test_given_a_400_then_not_retried():
    call, calls = responder(httpx.Response(400), httpx.Response(200))
    with pytest.raises(BackendRejected):
        await send("test", call, parse, max_retries=3, wait_initial=0.001)
    assert len(calls) == 1


async def test_given_connection_refused_every_time_then_unavailable_after_the_budget():
    attempts = []

    async def call() -> httpx.Response:
        attempts.append(1)
        raise httpx.ConnectError("refused")

    with pytest.raises(BackendUnavailable):
        await send("test", call, parse, max_retries=2, wait_initial=0.001)
    assert len(attempts) == 3
