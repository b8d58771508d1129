"""A verified staff token is remembered (gateway.auth.tokens.TokenVerifier): for at most
AUTH__JWT_CACHE_SECONDS and never past its exp, so a key dropped from the JWKS stops its
tokens within that time."""

from __future__ import annotations

import time

import pytest

from gateway.auth.tokens import KeysFromFile, TokenVerifier
from gateway.config import AuthSettings
from gateway.errors import Unauthenticated
from tests.identity import AUDIENCE, ISSUER, KEY_ID, SIGNING_KEY, new_signing_key, token, write_jwks


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jwks(tmp_path):
    path = tmp_path / "jwks.json"
    write_jwks(path, (SIGNING_KEY, KEY_ID))
    return path


def verifier(jwks, clock, seconds: float = 60.0) -> TokenVerifier:
    settings = AuthSettings(
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_jwks_file=str(jwks),
        jwt_cache_seconds=seconds,
    )
    return TokenVerifier(settings, KeysFromFile(str(jwks)), clock=clock)


async def test_a_token_is_verified_once_then_remembered_until_the_cache_time_runs_out(jwks):
    clock = Clock()
    tokens = verifier(jwks, clock)
    issued = token(["OPS"], sub="agent-1", expires_in=3600)
    assert (await tokens.principal(issued)).id == "jwt:agent-1"
    # The provider drops the key: the remembered token still answers for now,
    write_jwks(jwks, (new_signing_key(), "other-key"))
    clock.now += 59
    assert (await tokens.principal(issued)).id == "jwt:agent-1"
    # and is refused once the cache time is up.
    clock.now += 2
    with pytest.raises(Unauthenticated):
        await tokens.principal(issued)


async def test_a_remembered_token_is_never_accepted_past_its_exp(jwks):
    clock = Clock()
    tokens = verifier(jwks, clock, seconds=3600)
    issued = token(["OPS"], sub="agent-2", expires_in=10)
    await tokens.principal(issued)
    # Any verification from now on fails (the key is gone), so an answer after exp can only
    # have come from memory.
    write_jwks(jwks, (new_signing_key(), "other-key"))
    clock.now += 9
    assert (await tokens.principal(issued)).id == "jwt:agent-2"
    clock.now += 2
    with pytest.raises(Unauthenticated):
        await tokens.principal(issued)


async def test_with_no_cache_time_every_request_is_verified(jwks):
    clock = Clock()
    tokens = verifier(jwks, clock, seconds=0)
    issued = token(["OPS"], sub="agent-3")
    await tokens.principal(issued)
    write_jwks(jwks, (new_signing_key(), "other-key"))
    with pytest.raises(Unauthenticated):
        await tokens.principal(issued)
