import json

import httpx
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
