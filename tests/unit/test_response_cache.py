import asyncio
import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.response_cache import (
    QueryMarking,
    ResponseMicroCache,
    early_verdict,
    is_cacheable_request,
)


async def _now(value: str) -> str:
    return value


class CountingApp:
    """An ASGI app that answers with a counter, or an error when asked to."""

    def __init__(self):
        self.calls = 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        body = json.loads((await receive())["body"] or b"{}")
        answer = (
            {"errors": [{"message": "no"}]}
            if "fail" in body.get("query", "")
            else {"data": {"n": self.calls}}
        )
        payload = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def client_for(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_identical_queries_within_ttl_execute_once_and_answer_the_same():
    inner, clock, generation = CountingApp(), Clock(), [0]
    cached = ResponseMicroCache(
        QueryMarking(inner), ttl_seconds=1, generation=lambda: _now(str(generation[0])), clock=clock
    )
    async with client_for(cached) as c:
        first = await c.post("/", json={"query": "{ n }"})
        second = await c.post("/", json={"query": "{ n }"})
        assert first.json() == second.json() == {"data": {"n": 1}}
        assert inner.calls == 1
        clock.now = 1.5  # expired
        assert (await c.post("/", json={"query": "{ n }"})).json() == {"data": {"n": 2}}
        generation[0] += 1  # the data cache was invalidated by a write
        assert (await c.post("/", json={"query": "{ n }"})).json() == {"data": {"n": 3}}


async def test_mutations_errors_other_variables_and_gets_are_never_served_from_cache():
    inner = CountingApp()
    cached = ResponseMicroCache(QueryMarking(inner), ttl_seconds=60, generation=lambda: _now("0"))
    async with client_for(cached) as c:
        for _ in range(2):
            await c.post("/", json={"query": "mutation { n }"})
        assert inner.calls == 2
        for _ in range(2):
            await c.post("/", json={"query": "{ fail }"})
        assert inner.calls == 4
        await c.post("/", json={"query": "query ($a: Int) { n }", "variables": {"a": 1}})
        await c.post("/", json={"query": "query ($a: Int) { n }", "variables": {"a": 2}})
        assert inner.calls == 6
        await c.get("/", params={"query": "{ n }"})
        await c.get("/", params={"query": "{ n }"})
        assert inner.calls == 8


async def test_zero_ttl_turns_it_off():
    inner = CountingApp()
    async with client_for(
        ResponseMicroCache(QueryMarking(inner), ttl_seconds=0, generation=lambda: _now("0"))
    ) as c:
        await c.post("/", json={"query": "{ n }"})
        await c.post("/", json={"query": "{ n }"})
    assert inner.calls == 2


def test_only_a_json_post_naming_its_operation_with_a_string_is_cacheable():
    query = b'{"query": "{ __typename }"}'
    assert is_cacheable_request(query, "application/json")
    # strawberry refuses these; their refusal must never be answered from the cache,
    assert not is_cacheable_request(query, "text/plain")
    assert not is_cacheable_request(query, "")
    # and an operationName that is an object is no key to look a document up by.
    assert not is_cacheable_request(
        b'{"query": "{ __typename }", "operationName": {"a": 1}}', "application/json"
    )


async def test_an_answer_is_replayed_only_to_a_caller_accepting_the_same_media_types():
    inner = CountingApp()
    cached = ResponseMicroCache(QueryMarking(inner), ttl_seconds=60, generation=lambda: _now("0"))
    async with client_for(cached) as c:
        for accept in ("application/json", "application/graphql-response+json"):
            for _ in range(2):
                await c.post("/", json={"query": "{ n }"}, headers={"accept": accept})
    assert inner.calls == 2  # once per media type, the second ask of each replayed


class HeldApp(CountingApp):
    """Answers only once released, so that requests can arrive while one is under way."""

    def __init__(self, *, fail_with: Exception | None = None):
        super().__init__()
        self.release = asyncio.Event()
        self.fail_with = fail_with

    async def __call__(self, scope, receive, send):
        await self.release.wait()
        if self.fail_with is not None and self.calls == 0:
            self.calls += 1
            raise self.fail_with
        await super().__call__(scope, receive, send)


class Lookups:
    def __init__(self):
        self.counts = {"hit": 0, "miss": 0, "joined": 0}

    def looked_up(self, source, hits, misses, joined):
        self.counts["hit"] += hits
        self.counts["miss"] += misses
        self.counts["joined"] += joined


@pytest.mark.parametrize(
    "payload",
    [
        {"query": "{ n }"},
        # told to be a query only inside, where a persisted document would be put in
        {"query": "{ n }", "extensions": {"persistedQuery": {}}},
    ],
)
async def test_identical_queries_arriving_together_are_answered_by_one_execution(payload):
    inner, lookups = HeldApp(), Lookups()
    cached = ResponseMicroCache(
        QueryMarking(inner), ttl_seconds=1, generation=lambda: _now("0"), observer=lookups
    )
    async with client_for(cached) as c:
        asks = [asyncio.create_task(c.post("/", json=payload)) for _ in range(8)]
        await asyncio.sleep(0.05)  # all eight have arrived while the first is under way
        inner.release.set()
        answers = [(await ask).json() for ask in asks]
    assert answers == [{"data": {"n": 1}}] * 8
    assert inner.calls == 1
    assert lookups.counts == {"hit": 0, "miss": 1, "joined": 7}


async def test_those_waiting_on_an_answer_not_kept_are_answered_on_their_own():
    inner = HeldApp()
    cached = ResponseMicroCache(QueryMarking(inner), ttl_seconds=1, generation=lambda: _now("0"))
    async with client_for(cached) as c:
        asks = [asyncio.create_task(c.post("/", json={"query": "{ fail }"})) for _ in range(3)]
        await asyncio.sleep(0.05)
        inner.release.set()
        answers = [(await ask).json() for ask in asks]
    assert answers == [{"errors": [{"message": "no"}]}] * 3
    assert inner.calls == 3  # an error is never replayed, not even to those who waited


async def test_those_waiting_on_a_request_that_failed_are_not_left_waiting():
    inner = HeldApp(fail_with=RuntimeError("the first execution broke"))
    cached = ResponseMicroCache(QueryMarking(inner), ttl_seconds=1, generation=lambda: _now("0"))
    transport = httpx.ASGITransport(app=cached, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        asks = [asyncio.create_task(c.post("/", json={"query": "{ n }"})) for _ in range(3)]
        await asyncio.sleep(0.05)
        inner.release.set()
        statuses = [(await asyncio.wait_for(ask, 5)).status_code for ask in asks]
    assert statuses.count(500) == 1  # the one that raised; the others asked again
    assert statuses.count(200) == 2
    assert inner.calls == 3  # the failed one, then each waiter on its own


# What a client might post: documents that are queries, mutations or not GraphQL at all,
# names of every JSON type, persisted-document names.
_payloads = st.fixed_dictionaries(
    {},
    optional={
        "query": st.one_of(
            st.sampled_from(
                [
                    "{ n }",
                    "query Q { n }",
                    "mutation M { n }",
                    "query A { n } mutation B { n }",
                    "{ n",
                ]
            ),
            st.integers(),
            st.none(),
        ),
        "operationName": st.one_of(st.sampled_from(["Q", "M", "A", "B"]), st.none(), st.integers()),
        "documentId": st.text(max_size=5),
        "extensions": st.one_of(
            st.none(), st.fixed_dictionaries({}, optional={"persistedQuery": st.just({})})
        ),
    },
)


@given(
    payload=st.one_of(_payloads, st.lists(st.integers(), max_size=2)),
    content_type=st.sampled_from(["application/json", "text/plain", "application/json; x=1"]),
)
def test_property_the_early_verdict_agrees_with_the_marking_layers_or_defers_to_it(
    payload, content_type
):
    body = json.dumps(payload).encode()
    early = early_verdict(body, content_type)
    assert early is None or early == is_cacheable_request(body, content_type)
    named = isinstance(payload, dict) and ("documentId" in payload or payload.get("extensions"))
    assert (early is None) == bool(named and "json" in content_type)
