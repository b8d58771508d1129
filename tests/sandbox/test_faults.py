"""The fault knobs every simulator shares (sandbox.faults)."""

from __future__ import annotations

import pytest

from sandbox.faults import Faults
from sandbox.woocommerce import create_app as woocommerce_app
from tests import erpnext_support, woocommerce_support


def faults(error_rate: float = 0.0, rng_seed: int = 0) -> Faults[str]:
    canned = {429: lambda: "slow down", 503: lambda: "unavailable"}
    return Faults("Test", canned, error_rate=error_rate, rng_seed=rng_seed)


def test_given_a_script_then_exactly_those_failures_come_next_and_then_none() -> None:
    injected = faults()
    injected.script(503, 429)
    assert [injected.next_failure() for _ in range(3)] == ["unavailable", "slow down", None]


def test_given_a_status_with_no_canned_failure_then_the_script_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no canned Test failure for \[418\]"):
        faults().script(503, 418)


def test_given_the_same_seed_then_the_same_failures_in_the_same_places() -> None:
    first, again = faults(0.5, rng_seed=3), faults(0.5, rng_seed=3)
    answers = [first.next_failure() for _ in range(40)]
    assert answers == [again.next_failure() for _ in range(40)]
    assert set(answers) == {"slow down", "unavailable", None}


def test_given_no_error_rate_then_nothing_fails() -> None:
    injected = faults()
    assert all(injected.next_failure() is None for _ in range(100))


async def test_given_erpnext_then_its_faults_can_be_scripted_too() -> None:
    app = erpnext_support.simulator()
    app.state.faults.script(429)
    async with erpnext_support.raw_client(app) as client:
        limited = await client.get("/api/resource/Warehouse")
        served = await client.get("/api/resource/Warehouse")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert served.status_code == 200


async def test_given_woocommerce_then_its_faults_can_be_scripted_too() -> None:
    app = woocommerce_app(woocommerce_support.dataset())
    app.state.faults.script(503)
    auth = (woocommerce_support.KEY, woocommerce_support.SECRET)
    async with woocommerce_support.client(app, auth=auth) as http:
        down = await http.get(f"{woocommerce_support.API}/products/4812")
        served = await http.get(f"{woocommerce_support.API}/products/4812")
    assert down.status_code == 503
    assert "nginx" in down.text
    assert served.status_code == 200
