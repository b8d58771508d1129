"""Customer data for a caller without pii:read (gateway.domain.privacy)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.privacy import MASK, masked_email, masked_name, masked_postal_code


def test_worked_examples():
    assert masked_email("ada.lovelace@example.org") == "a***@example.org"
    assert masked_email("not-an-address") == MASK
    assert masked_name("Ada King Lovelace") == "A. K. L."
    assert masked_name("  ") == MASK
    assert masked_postal_code("10435") == "10***"


@given(st.emails())
def test_a_masked_email_keeps_the_domain_and_only_the_first_letter(email):
    local, _, domain = email.rpartition("@")
    shown = masked_email(email)
    assert shown == f"{local[0]}{MASK}@{domain}"  # nothing of the local part but its first


@given(st.lists(st.text(alphabet=st.characters(categories=["L"]), min_size=2), min_size=1))
def test_a_masked_name_shows_no_part_in_full(parts):
    shown = masked_name(" ".join(parts))
    assert all(part not in shown.split() for part in parts)
    assert len(shown.split()) == len(parts)
