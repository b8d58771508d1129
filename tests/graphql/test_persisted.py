"""Persisted operations (gateway.persisted): a client names a document the gateway loaded
from its manifest; in safelist mode nothing else runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.persisted import document_hash

PAGE = 'query ProductPage { product(sku: "SOCK-M") { sku name } }'
OTHER = '{ product(sku: "SOCK-M") { sku } }'


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "operations.json"
    operations = [{"id": "product-page-v1", "name": "ProductPage", "type": "query", "body": PAGE}]
    path.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    return path


@pytest.fixture
def safelist():
    return True


@pytest.fixture
def settings_overrides(manifest, safelist):
    return {"persisted": {"manifest": manifest, "safelist": safelist}}


async def post(gql: Any, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    assert gql.http is not None
    answer = await gql.http.post("/graphql", json=body)
    return answer.status_code, answer.json()


async def test_a_persisted_operation_runs_by_its_id_or_its_hash(gql):
    status, body = await post(gql, {"documentId": "product-page-v1"})
    assert status == 200 and body["data"]["product"]["sku"] == "SOCK-M"
    apq = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(PAGE)}}
    status, body = await post(gql, {"extensions": apq})
    assert status == 200 and body["data"]["product"]["name"]
    # By GET too (a CDN-cacheable URL).
    assert gql.http is not None
    got = await gql.http.get("/graphql", params={"documentId": "product-page-v1"})
    assert got.status_code == 200 and got.json()["data"]["product"]["sku"] == "SOCK-M"


async def test_in_safelist_mode_only_the_manifests_documents_run(gql):
    # Its own document, sent whole, runs (the same bytes as persisted);
    status, body = await post(gql, {"query": PAGE})
    assert status == 200 and body["data"]["product"]["sku"] == "SOCK-M"
    # any other document is refused before it is parsed, by POST or by GET,
    status, body = await post(gql, {"query": OTHER})
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert gql.http is not None
    got = await gql.http.get("/graphql", params={"query": OTHER})
    assert got.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    # and an id it does not hold is not found.
    status, body = await post(gql, {"documentId": "nope"})
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize("safelist", [False])
async def test_without_safelist_an_apollo_client_sends_a_document_it_named_and_it_runs(gql):
    apq = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(OTHER)}}
    status, body = await post(gql, {"extensions": apq})
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    status, body = await post(gql, {"extensions": apq, "query": OTHER})
    assert status == 200 and body["data"]["product"]["sku"] == "SOCK-M"
    # A document that is not the one its hash names is refused.
    status, body = await post(gql, {"extensions": apq, "query": PAGE})
    assert status == 400 and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # and any document may still be sent on its own.
    status, body = await post(gql, {"query": OTHER})
    assert status == 200 and "errors" not in body


@pytest.mark.parametrize("safelist", [False])
async def test_the_manifests_documents_run_through_their_plans_and_no_other(gql):
    compiled = gql.app.state.graphql.compiled
    runs = []
    original = compiled.execute

    async def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(kwargs["query"])
        return await original(*args, **kwargs)

    compiled.execute = counted
    for body in ({"documentId": "product-page-v1"}, {"query": PAGE}, {"query": OTHER}):
        status, answer = await post(gql, body)
        assert status == 200 and answer["data"]["product"]["sku"] == "SOCK-M"
    # By id and by its text: its plan; a document of the caller's own: strawberry.
    assert runs == [PAGE, PAGE]


async def test_a_persisted_operation_asked_again_is_replayed_by_the_micro_cache(gql):
    """The micro-cache sits outside the persisted-document layer, and still keeps the answer
    to a request naming a document by id: the document it names is a query."""
    registry = gql.app.state.metrics.registry
    labels = {"source": "response", "result": "hit"}

    def hits() -> float:
        return registry.get_sample_value("commerce_gateway_cache_lookups_total", labels) or 0

    first = await post(gql, {"documentId": "product-page-v1"})
    before = hits()
    again = await post(gql, {"documentId": "product-page-v1"})
    assert again == first and first[0] == 200
    assert hits() == before + 1


async def test_a_body_over_the_limit_is_refused_whole_or_streamed_past_the_micro_cache(gql):
    assert gql.http is not None
    big = json.dumps({"query": "{ __typename }", "pad": "x" * 2_100_000}).encode()

    async def streamed():
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    for content in (big, streamed()):
        answer = await gql.http.post(
            "/graphql", content=content, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 413
        assert answer.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
