"""Webhook signatures (gateway.events.signatures) against each product's documented
delivery: the contract's example verifies with the secret it was made with, and nothing
else does."""

from __future__ import annotations

import pytest

from gateway.domain import SourceSystem
from gateway.events.signatures import Signature, signature_of, verify
from tests.contracts import load_contract

DELIVERIES = {
    SourceSystem.STOREFRONT: ("woocommerce", "webhook.delivery.order.created", "secret_used"),
    SourceSystem.POS: ("pos", "webhook.inventory.count.updated", "signature_key_used"),
    SourceSystem.OMS: ("oms", "webhook.delivery", "secret_used"),
    SourceSystem.ERP: ("erp", "webhook.delivery", "secret_used"),
}


def delivery(system: SourceSystem) -> tuple[dict[str, str], bytes, str, str]:
    backend, name, secret_key = DELIVERIES[system]
    found = load_contract(backend, name)["delivery"]
    return found["headers"], found["body_raw"].encode(), found[secret_key], found["url"]


@pytest.mark.parametrize("system", list(DELIVERIES))
def test_the_documented_delivery_verifies_with_its_secret(system):
    headers, body, secret, url = delivery(system)
    assert verify(system, headers, body, [secret], url) is Signature.VALID
    # Header names arrive in any case.
    lowered = {k.lower(): v for k, v in headers.items()}
    assert verify(system, lowered, body, [secret], url) is Signature.VALID


@pytest.mark.parametrize("system", list(DELIVERIES))
def test_during_a_rotation_the_old_and_the_new_secret_are_both_accepted(system):
    headers, body, secret, url = delivery(system)
    assert verify(system, headers, body, ["the-new-secret", secret], url) is Signature.VALID
    resigned = {**headers}
    name = next(k for k in headers if k.lower().endswith(("signature", "sha256")))
    resigned[name] = signature_of(system, "the-new-secret", body, url)
    assert verify(system, resigned, body, ["the-new-secret", secret], url) is Signature.VALID


@pytest.mark.parametrize("system", list(DELIVERIES))
def test_a_forged_tampered_or_unsigned_delivery_is_refused(system):
    headers, body, secret, url = delivery(system)
    assert verify(system, headers, body, ["not-the-secret"], url) is Signature.INVALID
    assert verify(system, headers, body + b" ", [secret], url) is Signature.INVALID
    unsigned = {k: v for k, v in headers.items() if not k.lower().endswith(("signature", "sha256"))}
    assert verify(system, unsigned, body, [secret], url) is Signature.MISSING
    assert verify(system, headers, body, [], url) is Signature.MISSING  # nothing to check with


def test_square_signs_the_notification_url_too():
    headers, body, secret, url = delivery(SourceSystem.POS)
    elsewhere = url.replace("/hooks/square", "/hooks/elsewhere")
    assert verify(SourceSystem.POS, headers, body, [secret], url) is Signature.VALID
    assert verify(SourceSystem.POS, headers, body, [secret], elsewhere) is Signature.INVALID
