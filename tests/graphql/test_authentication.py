"""Who is asking: API keys (made, used, revoked, kept only as a digest) and staff JWTs
(valid, expired, for another audience or issuer, signed by a rotated-in or unknown key,
without roles), through the real app. A refusal is UNAUTHENTICATED, HTTP 401 for a client
that accepts application/graphql-response+json and 200 for an application/json one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.auth.keys import digest, split_key
from gateway.domain.principal import Role
from tests.identity import (
    AUDIENCE,
    EVERY_ROLE,
    ISSUER,
    JWKS_FILE,
    KEY_ID,
    SIGNING_KEY,
    bearer,
    new_signing_key,
    token,
    write_jwks,
)

# A key seen is remembered this long per process: revoked, it stops working within it.
KEY_CACHE_SECONDS = 0.3
QUERY = '{ product(sku: "SOCK-M") { sku name } }'
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
def settings_overrides():
    return {"auth": {"key_cache_seconds": KEY_CACHE_SECONDS}}


async def ask(
    gql: Any, headers: dict[str, str], accept: str = "application/json"
) -> httpx.Response:
    assert gql.http is not None
    return await gql.http.post(
        "/graphql",
        json={"query": QUERY},
        # Replace the suite's staff token with exactly these credentials.
        headers={"Authorization": "", "Accept": accept, **headers},
    )


def refused_because(response: httpx.Response) -> str:
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    return error["message"]


async def test_a_request_without_credentials_is_unauthenticated_and_nothing_runs(gql):
    plain = await ask(gql, {})
    assert plain.status_code == 200  # what GraphQL over HTTP asks of application/json
    assert "needs credentials" in refused_because(plain)
    assert "data" not in plain.json()

    spec = await ask(gql, {}, accept=GRAPHQL_RESPONSE)
    assert spec.status_code == 401
    assert spec.headers["www-authenticate"].startswith("Bearer")
    assert spec.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "needs credentials" in refused_because(spec)


@pytest.mark.parametrize("settings_overrides", [{"graphiql": True}])
async def test_the_graphiql_page_opens_without_credentials(gql):
    assert gql.http is not None
    page = await gql.http.get("/graphql", headers={"Authorization": "", "Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_an_api_key_is_made_used_and_revoked_and_kept_only_as_a_digest(gql):
    keys = gql.app.state.services.keys
    stored, shown = await keys.create("web-eu", Role.STOREFRONT)
    key_id, secret = split_key(shown) or ("", "")
    assert key_id == stored.id and stored.secret_hash == digest(secret)
    assert secret not in repr(await keys.listed())  # never retrievable

    for headers in (bearer(shown), {"X-API-Key": shown}):
        answer = await ask(gql, headers)
        assert answer.json()["data"]["product"]["sku"] == "SOCK-M"

    wrong_secret = shown[:-4] + ("AAAA" if not shown.endswith("AAAA") else "BBBB")
    assert refused_because(await ask(gql, bearer(wrong_secret))) == "unknown API key"
    assert refused_because(await ask(gql, bearer("cgk_nonsense"))) == "the API key is malformed"

    await keys.revoke("web-eu")
    await asyncio.sleep(KEY_CACHE_SECONDS + 0.1)
    assert refused_because(await ask(gql, bearer(shown))) == "the API key was revoked"


async def test_a_valid_staff_token_is_accepted(gql):
    answer = await ask(gql, bearer(token(["support"], sub="agent-7")))
    assert answer.status_code == 200 and answer.json()["data"]["product"]["name"]


@pytest.mark.parametrize(
    ("made", "why"),
    [
        (lambda: token(EVERY_ROLE, expires_in=-120), "the token has expired"),
        (lambda: token(EVERY_ROLE, audience="another-api"), "the token is for another audience"),
        (
            lambda: token(EVERY_ROLE, issuer="https://elsewhere/"),
            "the token is from another issuer",
        ),
        (
            lambda: token(EVERY_ROLE, key=new_signing_key(), kid="unknown"),
            "the token is signed with a key the identity provider does not list",
        ),
        (
            # The right key id, the wrong key: a forged signature.
            lambda: token(EVERY_ROLE, key=new_signing_key()),
            "the token is not valid: Signature verification failed",
        ),
        (lambda: token(None), "the token names no gateway role in its 'roles' claim"),
        (lambda: token(["CUSTOMER"]), "the token names no gateway role in its 'roles' claim"),
        (lambda: "not.a.jwt", "the bearer token is not a JWT"),
    ],
    ids=[
        "expired",
        "audience",
        "issuer",
        "unknown-key",
        "forged",
        "no-roles",
        "no-gateway-role",
        "garbage",
    ],
)
async def test_a_staff_token_that_does_not_hold_is_refused_saying_why(gql, made, why):
    answer = await ask(gql, bearer(made()), accept=GRAPHQL_RESPONSE)
    assert answer.status_code == 401
    assert refused_because(answer) == why
    assert answer.json()["errors"][0]["extensions"]["scheme"] == "JWT"


async def test_a_token_signed_with_the_none_algorithm_is_refused(gql):
    import jwt

    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": 9_999_999_999, "roles": EVERY_ROLE},
        key=None,
        algorithm="none",
    )
    assert "accepted: RS256, ES256" in refused_because(await ask(gql, bearer(unsigned)))


async def test_a_rotated_key_is_picked_up_without_a_restart(gql):
    rotated = new_signing_key()
    signed_by_new = token(["ops"], key=rotated, kid="test-key-2")
    assert "does not list" in refused_because(await ask(gql, bearer(signed_by_new)))
    write_jwks(JWKS_FILE, (SIGNING_KEY, KEY_ID), (rotated, "test-key-2"))
    try:
        accepted = await ask(gql, bearer(signed_by_new))
        assert "errors" not in accepted.json(), accepted.json()
    finally:
        write_jwks(JWKS_FILE, (SIGNING_KEY, KEY_ID))
