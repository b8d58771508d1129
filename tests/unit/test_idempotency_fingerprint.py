"""Fingerprints are kept with each claimed key: a retry after an upgrade must still match."""

import hashlib
import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.idempotency import fingerprint

# What mutations fingerprint: their arguments as plain values, a datetime now and then.
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(),
    st.datetimes(timezones=st.just(UTC)),
)
_requests = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(operation=st.sampled_from(["reserve", "placeOrder", "cancelOrder"]), request=_requests)
def test_property_a_fingerprint_is_the_sha256_of_the_canonical_json_kept_so_far(operation, request):
    canonical = json.dumps([operation, request], sort_keys=True, default=str)
    assert fingerprint(operation, request) == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_same_request_in_another_key_order_has_the_same_fingerprint():
    at = datetime(2026, 12, 7, tzinfo=UTC)
    assert fingerprint("reserve", {"a": 1, "b": [at]}) == fingerprint(
        "reserve", {"b": [at], "a": 1}
    )
    assert fingerprint("reserve", {"a": 1}) != fingerprint("reserve", {"a": 2})
