"""No secrets and no customer data in log lines (gateway.observability.redaction)."""

from __future__ import annotations

import pytest

from gateway.observability.redaction import MASK, redact, redact_url, scrub_text

API_KEY = "cgk_1a2b3c4d_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdGFmZi0xIn0.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {API_KEY}", API_KEY),
        (f"Authorization: bearer {JWT}", JWT),
        (f"refused {API_KEY} from 10.0.0.1", API_KEY),
        (f"token was {JWT}", JWT),
        ("Authorization: token sandbox-key:sandbox-secret", "sandbox-secret"),
        ("Authorization: Basic Y2tfc2FuZGJveDpjc19zYW5kYm94", "Y2tfc2FuZGJveDpjc19zYW5kYm94"),
        (
            "GET http://woo/wp-json/wc/v3/products?sku=A&oauth_consumer_key=ck_live123456"
            "&oauth_signature=abc%3D",
            "ck_live123456",
        ),
        ("GET /wp-json/wc/v3/orders?consumer_secret=cs_0123456789abcdef", "cs_0123456789abcdef"),
        ("redis://default:hunter2@cache:6379/0 unreachable", "hunter2"),
        ("postgresql://postgres:s3cret@db/test refused", "s3cret"),
        ("X-Shopify-Access-Token shpat_0123456789abcdef", "shpat_0123456789abcdef"),
        ("order for ann.example+shop@example.org failed", "ann.example+shop@example.org"),
    ],
)
def test_credentials_and_emails_in_text_are_masked(text, secret):
    assert secret not in scrub_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "reserve 3 units of SHOE-TRAIL-42 at ST-BERLIN-STORE",
        "erpnext refused the connection",
        "the token has expired",
        "order web_1042 moved 2026-12-04T09:12:01Z",
        "delta poll: 12 SKUs changed (ERP 4, POS 8)",
    ],
)
def test_ordinary_messages_are_left_alone(text):
    assert scrub_text(text) == text


def test_sensitive_keys_are_masked_however_deep():
    event = {
        "headers": {"Authorization": "Bearer x", "X-API-Key": API_KEY, "accept": "*/*"},
        "order": {
            "id": "ord_1",
            "customer": {"email": "ann@example.org", "name": "Ann Example"},
            "delivery": {"address": {"line1": "Invalidenstrasse 44"}},
            "lines": [{"sku": "SHOE-TRAIL-42", "customer_email": "ann@example.org"}],
        },
        "consumer_secret": "cs_x",
        "access_token": "t",
        "count": 3,
    }
    masked = redact(event)
    assert masked["headers"] == {"Authorization": MASK, "X-API-Key": MASK, "accept": "*/*"}
    assert masked["order"]["id"] == "ord_1"
    assert masked["order"]["customer"] == MASK
    assert masked["order"]["delivery"]["address"] == MASK
    assert masked["order"]["lines"] == [{"sku": "SHOE-TRAIL-42", "customer_email": MASK}]
    assert masked["consumer_secret"] == MASK and masked["access_token"] == MASK
    assert masked["count"] == 3
    assert event["consumer_secret"] == "cs_x"  # the caller's dict is left alone


def test_a_url_keeps_its_shape_without_its_credentials():
    url = "http://127.0.0.1:8102/wp-json/wc/v3/products?sku=A&oauth_signature=c2ln&per_page=100"
    assert redact_url(url) == (
        f"http://127.0.0.1:8102/wp-json/wc/v3/products?sku=A&oauth_signature={MASK}&per_page=100"
    )
