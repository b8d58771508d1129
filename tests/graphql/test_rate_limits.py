"""Per-principal rate limits at /graphql's door (gateway.ratelimit): past its burst a
caller is answered 429 RATE_LIMITED with Retry-After and the limit; others are not."""

from __future__ import annotations

import pytest

from tests.identity import bearer, token

ASK = {"query": '{ product(sku: "SOCK-M") { sku } }'}
OPS_ONE = bearer(token(["OPS"], sub="console-1"))
OPS_TWO = bearer(token(["OPS"], sub="console-2"))


@pytest.fixture
def settings_overrides():
    return {"rate_limit": {"per_second": 0.5, "burst": 2, "roles": {}}}


async def test_a_caller_past_its_burst_is_told_when_to_come_back(gql):
    assert gql.http is not None
    answers = [await gql.http.post("/graphql", json=ASK, headers=OPS_ONE) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused.headers["retry-after"] == "2"  # one request at half a request a second
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["limit"] == 2 and error["extensions"]["perSecond"] == 0.5
    assert 0 < error["extensions"]["retryAfterSeconds"] <= 2
    # Another caller's bucket is its own.
    other = await gql.http.post("/graphql", json=ASK, headers=OPS_TWO)
    assert other.status_code == 200 and other.json()["data"]["product"]["sku"] == "SOCK-M"


@pytest.mark.parametrize(
    "settings_overrides", [{"rate_limit": {"enabled": False, "per_second": 0.5, "burst": 1}}]
)
async def test_rate_limits_can_be_turned_off(gql):
    assert gql.http is not None
    answers = [await gql.http.post("/graphql", json=ASK, headers=OPS_ONE) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
