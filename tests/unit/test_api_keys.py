"""API keys' shape (gateway.auth.keys) and the authenticator's reading of credentials."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.auth.authenticator import Authenticator
from gateway.auth.keys import PREFIX, digest, matches, new_key, split_key
from gateway.domain.principal import CredentialKind, Role, StoredKey
from gateway.errors import Unauthenticated


def test_a_new_key_splits_into_the_id_and_the_secret_whose_digest_is_kept():
    made = new_key()
    assert made.shown_once.startswith(PREFIX)
    key_id, secret = split_key(made.shown_once) or ("", "")
    assert key_id == made.key_id and matches(secret, made.secret_hash)
    assert secret not in made.secret_hash and made.secret_hash == digest(secret)
    assert len(secret) >= 43  # 256 random bits, url-safe base64


def test_two_keys_never_share_an_id_or_a_secret():
    made = [new_key() for _ in range(200)]
    assert len({m.key_id for m in made}) == len({m.shown_once for m in made}) == 200


@given(st.text(max_size=300))
def test_any_text_is_either_a_key_shape_or_refused_never_an_error(text):
    parts = split_key(text)
    if parts is not None:
        key_id, secret = parts
        assert text == f"{PREFIX}{key_id}_{secret}" and len(key_id) == 8 and secret


def stored(made, *, revoked: bool = False) -> StoredKey:
    at = datetime(2026, 12, 5, tzinfo=UTC)
    return StoredKey(
        made.key_id, "web-eu", Role.STOREFRONT, made.secret_hash, at, None, at if revoked else None
    )


async def test_a_key_is_looked_up_once_per_cache_period():
    made = new_key()
    looked_up: list[str] = []
    now = [0.0]

    async def find(key_id: str) -> StoredKey | None:
        looked_up.append(key_id)
        return stored(made)

    door = Authenticator(find, None, key_cache_seconds=10, clock=lambda: now[0])
    for _ in range(3):
        principal = await door.principal(f"Bearer {made.shown_once}", None)
    assert principal.id == "key:web-eu" and principal.kind is CredentialKind.API_KEY
    assert principal.roles == {Role.STOREFRONT} and looked_up == [made.key_id]
    now[0] = 10.5
    await door.principal(None, made.shown_once)
    assert looked_up == [made.key_id, made.key_id]


async def test_credentials_of_another_scheme_are_refused_saying_so():
    async def find(key_id: str) -> StoredKey | None:
        return None

    door = Authenticator(find, None, key_cache_seconds=10)
    for authorization, said in [
        (None, "needs credentials"),
        ("Basic dXNlcjpwYXNz", "needs credentials"),
        ("Bearer eyJhbGciOi.x.y", "neither an API key"),  # no JWT accepted: none configured
        (f"Bearer {new_key().shown_once}", "unknown API key"),
    ]:
        try:
            await door.principal(authorization, None)
        except Unauthenticated as refused:
            assert said in str(refused)
        else:
            raise AssertionError(f"{authorization} was accepted")
