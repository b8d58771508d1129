"""ADMIN makes, lists and revokes API keys over GraphQL (resolvers/admin.py), as the
`commerce-gateway keys` commands do: the secret is shown once, never listed."""

from __future__ import annotations

import pytest

from tests.identity import bearer, token

CREATE = """mutation ($name: String!, $role: Role!, $at: ID) {
  createApiKey(name: $name, role: $role, locationId: $at) {
    secret key { id name role locationId revokedAt } } }"""
LIST = "{ apiKeys { id name role revokedAt } }"
REVOKE = "mutation ($name: String!) { revokeApiKey(name: $name) { name revokedAt } }"
ASK = '{ product(sku: "SOCK-M") { sku } }'
ADMIN = bearer(token(["ADMIN"], sub="admin-1"))
OPS = bearer(token(["OPS"], sub="ops-1"))


@pytest.fixture
def settings_overrides():
    return {"auth": {"key_cache_seconds": 0}}  # a revoked key stops at once here


async def ask(gql, headers, query, **variables):
    assert gql.http is not None
    answer = await gql.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return answer.json()


async def test_an_admin_makes_a_key_that_works_lists_it_without_its_secret_and_revokes_it(gql):
    made = (await ask(gql, ADMIN, CREATE, name="web-eu", role="STOREFRONT"))["data"]
    secret = made["createApiKey"]["secret"]
    assert secret.startswith("cgk_") and made["createApiKey"]["key"]["role"] == "STOREFRONT"
    with_key = {"Authorization": f"Bearer {secret}"}
    assert (await ask(gql, with_key, ASK))["data"]["product"]["sku"] == "SOCK-M"
    listed = (await ask(gql, ADMIN, LIST))["data"]["apiKeys"]
    assert [k["name"] for k in listed] == ["web-eu"] and secret not in str(listed)
    # A retry of the same request does not make a second key.
    again = await ask(gql, ADMIN, CREATE, name="web-eu", role="STOREFRONT")
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    revoked = (await ask(gql, ADMIN, REVOKE, name="web-eu"))["data"]["revokeApiKey"]
    assert revoked["revokedAt"] is not None
    refused = await ask(gql, with_key, ASK)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Revoking it again changes nothing.
    assert (await ask(gql, ADMIN, REVOKE, name="web-eu"))["data"]["revokeApiKey"] == revoked


async def test_only_an_admin_manages_keys_and_a_store_key_names_its_store(gql):
    refused = await ask(gql, OPS, CREATE, name="kiosk", role="STORE_ASSOCIATE", at="ST-MITTE")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await ask(gql, OPS, LIST))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    storeless = await ask(gql, ADMIN, CREATE, name="kiosk", role="STORE_ASSOCIATE")
    assert storeless["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    made = await ask(gql, ADMIN, CREATE, name="kiosk", role="STORE_ASSOCIATE", at="ST-MITTE")
    assert made["data"]["createApiKey"]["key"]["locationId"] == "ST-MITTE"
