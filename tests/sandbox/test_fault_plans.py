"""Fault plans set at run time (sandbox.faults): in process, over /_sandbox/faults, and on the
wire (sandbox.faulty_server), as the resilience tests and the demo's --break use them."""

from __future__ import annotations

import socket

import httpx
import pytest

from sandbox.faults import GARBAGE, Faults, parse_break
from sandbox.square import create_app as square_app
from tests import square_support
from tests.live_server import serve


def plan_faults(clock: list[float]) -> Faults[str]:
    canned = {429: lambda: "slow down", 503: lambda: "unavailable"}
    return Faults("Test", canned, monotonic=lambda: clock[0])


def test_an_outage_fails_every_request_for_its_window_then_none():
    clock = [0.0]
    faults = plan_faults(clock)
    faults.configure({"outage_seconds": 60})
    assert [faults.next_failure() for _ in range(3)] == ["unavailable"] * 3
    clock[0] = 61
    assert faults.next_failure() is None


def test_a_burst_of_429s_is_used_up_then_requests_are_served():
    faults = plan_faults([0.0])
    faults.configure({"burst_429": 2})
    assert [faults.next_failure() for _ in range(3)] == ["slow down", "slow down", None]


def test_an_unknown_knob_or_a_value_out_of_range_is_refused_by_name():
    faults = plan_faults([0.0])
    with pytest.raises(ValueError, match=r"unknown fault knob\(s\) \['explode'\]"):
        faults.configure({"explode": True})
    with pytest.raises(ValueError, match="error_rate is a number from 0 to 1"):
        faults.configure({"error_rate": 3})


def test_reset_lifts_every_knob():
    faults = plan_faults([0.0])
    faults.configure({"hang": True, "error_rate": 0.5, "refuse_seconds": 10, "garbage_rate": 1})
    faults.configure({"reset": True})
    assert faults.state() == {
        "latency_ms": 0.0,
        "error_rate": 0.0,
        "spike_ms": 0.0,
        "spike_rate": 0.0,
        "hang": False,
        "outage_seconds": 0.0,
        "burst_429": 0,
        "garbage_rate": 0.0,
        "refuse_seconds": 0.0,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("square=hang", ("square", {"hang": True})),
        ("erpnext=refused:60", ("erpnext", {"refuse_seconds": 60.0})),
        (
            "woocommerce=errors:0.3+slow:500",
            ("woocommerce", {"error_rate": 0.3, "latency_ms": 500.0}),
        ),
        ("shopify=429", ("shopify", {"burst_429": 20})),
    ],
)
def test_the_demos_break_plans_read_as_knobs(text, expected):
    assert parse_break(text) == expected


@pytest.mark.parametrize("text", ["pos=hang", "square", "square=explode", "square=errors:lots"])
def test_a_break_plan_that_does_not_read_is_refused(text):
    with pytest.raises(ValueError):
        parse_break(text)


def _raw_get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"GET /_sandbox/faults HTTP/1.1\r\nHost: x\r\n\r\n")
        return conn.recv(1000)


async def test_over_http_a_plan_is_set_read_and_then_served_on_the_wire():
    app = square_app(square_support.dataset())
    with serve(app) as base:
        port = int(base.rsplit(":", 1)[1])
        async with httpx.AsyncClient(base_url=base) as client:
            refused = await client.post("/_sandbox/faults", json={"hang": "yes"})
            assert refused.status_code == 400 and "hang is true or false" in refused.text
            answer = await client.post("/_sandbox/faults", json={"garbage_rate": 1.0})
            assert answer.json()["garbage_rate"] == 1.0
        # Then: bytes that are not HTTP, below the app, for any path.
        assert _raw_get(port) == GARBAGE
        app.state.faults.configure({"reset": True})
        assert _raw_get(port).startswith(b"HTTP/1.1 200")


async def test_while_refusing_nothing_listens_and_afterwards_the_port_answers_again():
    app = square_app(square_support.dataset())
    with serve(app) as base:
        port = int(base.rsplit(":", 1)[1])
        app.state.faults.configure({"refuse_seconds": 0.5})
        await _until(lambda: _refused(port))
        await _until(lambda: not _refused(port), timeout=3)
        assert _raw_get(port).startswith(b"HTTP/1.1 200")


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


async def _until(condition, timeout: float = 2.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    ends = loop.time() + timeout
    while not condition():
        assert loop.time() < ends, "condition not met in time"
        await asyncio.sleep(0.02)
