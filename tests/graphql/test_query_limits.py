"""What one request may ask for at most (LIMITS__*): each limit refused with its own code
before anything runs; a document within every limit is answered."""

from __future__ import annotations

from typing import Any

import pytest

LIMITS = {"max_depth": 3, "max_aliases": 3, "max_tokens": 200, "max_body_bytes": 20_000}


@pytest.fixture
def settings_overrides():
    return {"limits": LIMITS}


async def post(gql: Any, body: Any = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    assert gql.http is not None
    answer = await gql.http.post("/graphql", json=body, **kwargs)
    return answer.status_code, answer.json()


def code_of(body: dict[str, Any]) -> str:
    (error,) = body["errors"]
    return error["extensions"]["code"]


async def test_a_document_within_every_limit_is_answered(gql):
    status, body = await post(gql, {"query": '{ a: product(sku: "SOCK-M") { sku } }'})
    assert status == 200 and body["data"]["a"]["sku"] == "SOCK-M"


async def test_a_document_nested_too_deep_is_refused_before_it_runs(gql):
    deep = '{ product(sku: "SOCK-M") { availability { locations { location { address } } } } }'
    status, body = await post(gql, {"query": deep})
    assert status == 200 and code_of(body) == "QUERY_TOO_DEEP"
    assert body.get("data") is None


async def test_more_aliases_than_allowed_are_refused(gql):
    many = "{ " + " ".join(f'a{i}: product(sku: "SOCK-M") {{ sku }}' for i in range(4)) + " }"
    status, body = await post(gql, {"query": many})
    assert status == 200 and code_of(body) == "TOO_MANY_ALIASES" and body.get("data") is None


async def test_a_document_of_more_tokens_than_allowed_is_not_parsed(gql):
    long = "{ " + " ".join("__typename" for _ in range(300)) + " }"
    status, body = await post(gql, {"query": long})
    assert status == 200 and code_of(body) == "TOO_MANY_TOKENS"


async def test_a_body_over_the_limit_is_a_413_and_is_not_read(gql):
    padding = "#" + "x" * 30_000 + "\n{ __typename }"
    status, body = await post(gql, {"query": padding})
    assert status == 413 and code_of(body) == "REQUEST_TOO_LARGE"
