"""The data-level rules (gateway.domain.access) over every kind of caller."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.access import (
    is_access_token,
    may_change_hold,
    may_read_order,
    order_access_token,
    works_at,
)
from gateway.domain.principal import CredentialKind, Principal, Role

ids = st.text(min_size=1, max_size=40)
roles = st.frozensets(st.sampled_from(list(Role)), min_size=1)


def caller(*held: Role, location: str | None = None, email: str | None = None) -> Principal:
    return Principal(
        "jwt:x", CredentialKind.JWT, frozenset(held), location_id=location, customer_email=email
    )


@given(secret=st.binary(min_size=16, max_size=64), order_id=ids, other=ids)
def test_an_access_token_opens_its_own_order_and_no_other(secret, order_id, other):
    issued = order_access_token(secret, order_id)
    assert is_access_token(secret, order_id, issued)
    assert is_access_token(secret, other, issued) == (other == order_id)
    assert not is_access_token(secret + b"!", order_id, issued)
    assert not is_access_token(secret, order_id, None)
    assert not is_access_token(secret, order_id, "")


@given(held=roles, location=st.none() | ids, places=st.lists(ids, max_size=3))
def test_staff_work_anywhere_and_an_associate_only_at_its_store(held, location, places):
    who = caller(*held, location=location)
    expected = bool(held & {Role.SUPPORT, Role.OPS}) or (
        Role.STORE_ASSOCIATE in held and location is not None and location in places
    )
    assert works_at(who, places) == expected


@given(held=roles, taken_by=st.none() | st.sampled_from(["jwt:x", "key:other"]))
def test_a_hold_is_changed_by_whoever_took_it_or_by_staff(held, taken_by):
    expected = bool(held & {Role.SUPPORT, Role.OPS}) or taken_by == "jwt:x"
    assert may_change_hold(caller(*held), taken_by) == expected


def test_a_storefront_reads_an_order_with_its_token_or_as_its_customer():
    web = caller(Role.STOREFRONT)
    ann = caller(Role.STOREFRONT, email="ANN@example.com")
    read = {"customer_email": "ann@example.com", "location_ids": ["ST-1"]}
    assert not may_read_order(web, **read, holds_access_token=False)
    assert may_read_order(web, **read, holds_access_token=True)
    assert may_read_order(ann, **read, holds_access_token=False)
    assert not may_read_order(
        ann, **{**read, "customer_email": "bob@example.com"}, holds_access_token=False
    )
    # An order without an e-mail is no one's by e-mail.
    assert not may_read_order(ann, **{**read, "customer_email": None}, holds_access_token=False)
    # Neither admin nor another store's associate reads it, token or not, but staff do.
    assert not may_read_order(caller(Role.ADMIN), **read, holds_access_token=True)
    assert not may_read_order(
        caller(Role.STORE_ASSOCIATE, location="ST-2"), **read, holds_access_token=False
    )
    assert may_read_order(
        caller(Role.STORE_ASSOCIATE, location="ST-1"), **read, holds_access_token=False
    )
    assert may_read_order(caller(Role.SUPPORT), **read, holds_access_token=False)
