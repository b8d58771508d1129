"""What a gateway shows of itself: the explorer and introspection are off unless asked
for (the demo turns them on), and browsers may call it only from the listed origins."""

from __future__ import annotations

import pytest

from gateway.config import AuthSettings, Settings
from gateway.startup_checks import refusals

SCHEMA = "{ __schema { queryType { name } } }"


async def test_by_default_there_is_no_explorer_and_no_introspection(gql):
    assert gql.http is not None
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404
    body = await gql(SCHEMA)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in body["errors"][0]["message"].lower()
    # __typename is no introspection: clients send it with every query.
    assert (await gql("{ __typename }"))["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("settings_overrides", [{"introspection": True}])
async def test_introspection_is_answered_when_turned_on(gql):
    assert (await gql(SCHEMA))["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize(
    "settings_overrides", [{"cors_allow_origins": ["https://shop.example.com"]}]
)
async def test_browsers_may_call_from_listed_origins_only(gql):
    assert gql.http is not None
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    listed = await gql.http.options(
        "/graphql", headers={**preflight, "Origin": "https://shop.example.com"}
    )
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == "https://shop.example.com"
    other = await gql.http.options("/graphql", headers={**preflight, "Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in other.headers
    answered = await gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://shop.example.com"}
    )
    assert answered.headers["access-control-allow-origin"] == "https://shop.example.com"


def test_serve_refuses_sandbox_credentials_and_a_gateway_no_one_could_call():
    # (No identity provider: the suite's own is configured through the environment.)
    sandbox = Settings(_env_file=None, auth=AuthSettings())
    problems = refusals(sandbox, active_keys=0)
    assert len(problems) == 2
    assert "ERP_API_SECRET" in problems[0] and "--sandbox" in problems[0]
    assert "no caller could authenticate" in problems[1]
    # Told it is a sandbox, it starts.
    assert refusals(Settings(_env_file=None, sandbox=True), active_keys=0) == []
    real = Settings(
        _env_file=None,
        auth=AuthSettings(),
        erp_api_key="k",
        erp_api_secret="s",
        woo_consumer_key="ck_live",
        woo_consumer_secret="cs_live",
        square_access_token="EAAA-live",
        oms_access_token="shpat_live",
    )
    assert refusals(real, active_keys=0) == [problems[1]]
    assert refusals(real, active_keys=1) == []
