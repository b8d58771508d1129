"""Every response names its request (gateway.observability.requests), the log lines written
while answering it name it too, and a micro-cached answer replayed to another caller
carries that caller's id, never the first one's."""

from __future__ import annotations

import logging

import httpx

from gateway.observability.requests import RequestContext
from gateway.response_cache import QueryMarking, ResponseMicroCache
from tests.log_capture import captured_logs
from tests.unit.test_response_cache import CountingApp, _now


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_replayed_answer_carries_its_own_callers_id():
    inner = CountingApp()
    app = RequestContext(
        ResponseMicroCache(QueryMarking(inner), ttl_seconds=60, generation=lambda: _now("0"))
    )
    async with client_for(app) as client:
        first = await client.post("/", json={"query": "{ n }"})
        second = await client.post("/", json={"query": "{ n }"}, headers={"X-Request-Id": "b-2"})
        third = await client.post("/", json={"query": "{ n }"})
    assert inner.calls == 1  # the second and third were replays
    assert second.headers["x-request-id"] == "b-2"
    ids = [r.headers["x-request-id"] for r in (first, second, third)]
    assert len(set(ids)) == 3
    assert all(
        r.headers.get_list("x-request-id") == [i]
        for r, i in zip((first, second, third), ids, strict=True)
    )


class LoggingApp:
    async def __call__(self, scope, receive, send):
        logging.getLogger("gateway.app").warning("inside the request")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_lines_written_while_answering_name_the_request_and_one_access_line_sums_it_up():
    with captured_logs() as logs:
        async with client_for(RequestContext(LoggingApp())) as client:
            response = await client.get("/orders?email=ann@example.org")
    inside, access = logs.lines()
    request_id = response.headers["x-request-id"]
    assert inside["request_id"] == access["request_id"] == request_id
    assert access["logger"] == "commerce_gateway.access"
    assert access["message"] == "GET /orders 204"  # the path, never the query string
    assert access["status"] == 204 and access["duration_ms"] >= 0
    assert "ann@example.org" not in logs.text


async def test_health_probes_answered_ok_write_no_access_line():
    class Ok:
        async def __call__(self, scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

    with captured_logs() as logs:
        async with client_for(RequestContext(Ok())) as client:
            assert (await client.get("/healthz")).headers["x-request-id"]
    assert logs.text == ""


async def test_even_an_unexpected_500_carries_its_request_id_and_its_log_line_names_it():
    from starlette.routing import Route

    from gateway.observability.requests import ObservedStarlette

    async def broken(request):
        raise RuntimeError("a bug")

    app = ObservedStarlette(routes=[Route("/broken", broken)])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with captured_logs() as logs:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/broken")
            # The server's own report of the exception (uvicorn's), made in the same task.
            logging.getLogger("uvicorn.error").error("Exception in ASGI application")
    assert response.status_code == 500
    access, report = logs.lines()
    assert access["message"] == "GET /broken 500"
    assert access["request_id"] == report["request_id"] == response.headers["x-request-id"]
