"""Every answer of the gateway carries X-Request-Id, the ones its outer layers give
themselves included (401, 413, probes, webhooks, 404), and a caller's own id is kept."""

from __future__ import annotations

import re

HEX_ID = re.compile(r"[0-9a-f]{32}")


async def test_every_kind_of_answer_carries_a_request_id(gql):
    http = gql.http
    answers = {
        "query": await http.post("/graphql", json={"query": "{ __typename }"}),
        "unauthenticated 401": await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={
                "Authorization": "Bearer cgk_00000000_not-a-key",
                "Accept": "application/graphql-response+json",
            },
        ),
        "too large 413": await http.post(
            "/graphql", content=b" " * 2_000_001, headers={"content-type": "application/json"}
        ),
        "healthz": await http.get("/healthz"),
        "readyz": await http.get("/readyz"),
        "unsigned webhook": await http.post("/webhooks/square", content=b"{}"),
        "no such path": await http.get("/nowhere"),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses["unauthenticated 401"] == 401 and statuses["too large 413"] == 413
    ids = {name: answer.headers.get("x-request-id", "") for name, answer in answers.items()}
    assert all(HEX_ID.fullmatch(i) for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids)


async def test_a_callers_request_id_is_kept_and_a_forged_one_replaced(gql):
    kept = await gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "lb-7f3a:91"}
    )
    assert kept.headers["x-request-id"] == "lb-7f3a:91"
    forged = await gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "a" * 300}
    )
    assert HEX_ID.fullmatch(forged.headers["x-request-id"])
