"""The sender every simulator delivers its webhooks through (sandbox.webhooks): background
sending, retries, the record, and the fault knobs, in code and over /_sandbox/webhooks."""

from __future__ import annotations

import asyncio
import json

import httpx

from sandbox.webhooks import Delivery, Message, Signer, WebhookSender, hmac_base64
from sandbox.woocommerce import create_app
from tests import woocommerce_support
from tests.sandbox.webhook_support import Receiver

SECRET = "s3cret"


def delivery(n: int, *, retries: tuple[float, ...] = (), key: object = None) -> Delivery:
    body = json.dumps({"n": n}).encode()
    return Delivery(
        topic=f"thing.{n}",
        url=f"http://receiver.test/hooks/{n}",
        render=lambda: Message(body, {"Content-Type": "application/json"}, f"evt-{n}"),
        signer=Signer("X-Signature", SECRET),
        retries=retries,
        key=key,
    )


def wired() -> tuple[WebhookSender, Receiver]:
    sender, receiver = WebhookSender(), Receiver()
    receiver.attach(sender)
    return sender, receiver


def numbers(receiver: Receiver) -> list[int]:
    return [json.loads(r.body)["n"] for r in receiver.received]


async def test_given_deliveries_noted_then_they_are_sent_in_order_after_the_current_work():
    sender, receiver = wired()
    sender.enqueue(delivery(1))
    sender.enqueue(delivery(2))
    # Nothing goes out while the code that noted them is still running.
    assert receiver.received == []
    await sender.settle()
    assert numbers(receiver) == [1, 2]
    assert [(s.topic, s.status) for s in sender.sent] == [("thing.1", 200), ("thing.2", 200)]
    first = receiver.received[0]
    assert first.header("x-signature") == hmac_base64(SECRET, first.body)


async def test_given_one_key_noted_twice_in_one_request_then_one_delivery_goes():
    sender, receiver = wired()
    sender.enqueue(delivery(1, key="order-7"))
    sender.enqueue(delivery(1, key="order-7"))
    await sender.settle()
    assert numbers(receiver) == [1]
    assert sender.pending == 0


async def test_given_a_failing_receiver_then_retries_resend_the_same_bytes_until_given_up():
    sender, receiver = wired()
    receiver.answer(500, 503, 500)
    sender.enqueue(delivery(1, retries=(1.0, 2.0)))
    await sender.settle()
    assert [s.status for s in sender.sent] == [500, 503, 500]
    assert [s.attempt for s in sender.sent] == [0, 1, 2]
    assert len({r.body for r in receiver.received}) == 1
    assert {s.event_id for s in sender.sent} == {"evt-1"}


async def test_given_the_drop_knob_then_the_next_deliveries_are_lost_without_retries():
    sender, receiver = wired()
    sender.faults.configure({"drop_next": 2})
    for n in range(1, 5):
        sender.enqueue(delivery(n, retries=(1.0,)))
    await sender.settle()
    assert numbers(receiver) == [3, 4]
    assert [s.dropped for s in sender.sent] == [True, True, False, False]


async def test_given_a_drop_rate_and_a_seed_then_the_same_deliveries_are_lost_every_run():
    async def lost(seed: int) -> list[int]:
        sender, receiver = wired()
        sender.faults.configure({"drop_rate": 0.5, "seed": seed})
        for n in range(20):
            sender.enqueue(delivery(n))
        await sender.settle()
        return sorted(set(range(20)) - set(numbers(receiver)))

    first = await lost(7)
    assert first == await lost(7)
    assert 0 < len(first) < 20


async def test_given_the_delay_knob_then_each_delivery_waits_before_it_goes():
    sender, receiver = wired()
    sender.faults.configure({"delay_ms": 40})
    started = asyncio.get_running_loop().time()
    sender.enqueue(delivery(1))
    await sender.settle()
    assert asyncio.get_running_loop().time() - started >= 0.04
    assert numbers(receiver) == [1]


async def test_given_the_duplicate_knob_then_each_delivery_arrives_twice_byte_for_byte():
    sender, receiver = wired()
    sender.faults.configure({"duplicate": True})
    sender.enqueue(delivery(1))
    await sender.settle()
    first, second = receiver.received
    assert (first.body, first.headers["x-signature"]) == (
        second.body,
        second.headers["x-signature"],
    )
    assert [s.duplicate for s in sender.sent] == [False, True]


async def test_given_the_reorder_knob_then_a_batch_is_held_and_sent_newest_first():
    sender, receiver = wired()
    sender.faults.configure({"reorder": 3})
    for n in (1, 2, 3, 4):
        sender.enqueue(delivery(n))
    await asyncio.sleep(0.01)
    # The full batch went out reversed; the fourth waits for a batch of its own ...
    assert numbers(receiver) == [3, 2, 1]
    # ... until settle lets a partial batch go.
    await sender.settle()
    assert numbers(receiver) == [3, 2, 1, 4]


async def test_given_the_forge_knob_then_deliveries_carry_a_signature_no_secret_makes():
    sender, receiver = wired()
    sender.faults.configure({"forge": True})
    sender.enqueue(delivery(1))
    await sender.settle()
    (got,) = receiver.received
    assert got.header("x-signature") != hmac_base64(SECRET, got.body)
    assert sender.sent[0].forged


async def test_given_no_receiver_listening_then_the_attempt_is_recorded_as_unanswered():
    sender = WebhookSender(transport=httpx.MockTransport(_refuse))
    sender.retry_scale = 0.001
    sender.enqueue(delivery(1, retries=(1.0,)))
    await sender.settle()
    assert [(s.status, s.attempt) for s in sender.sent] == [(None, 0), (None, 1)]
    assert all("connection error" in (s.error or "") for s in sender.sent)


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


async def test_given_the_control_endpoint_then_knobs_are_set_and_the_record_read_over_http():
    app = create_app(woocommerce_support.dataset())
    async with woocommerce_support.client(app) as http:
        bad = await http.post("/_sandbox/webhooks", json={"explode": True})
        assert bad.status_code == 400
        set_ = await http.post(
            "/_sandbox/webhooks", json={"drop_next": 1, "forge": True, "retry_scale": 0.01}
        )
        assert set_.status_code == 200
        state = set_.json()
        assert (state["faults"]["drop_next"], state["faults"]["forge"]) == (1, True)
        assert state["retry_scale"] == 0.01
        assert app.state.webhooks.faults.forge is True
        reset = await http.post("/_sandbox/webhooks", json={"reset": True})
        assert reset.json()["faults"]["forge"] is False
        settled = await http.post("/_sandbox/webhooks/settle")
        assert settled.json()["pending"] == 0
