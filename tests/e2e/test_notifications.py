"""Customers told through the notification port: the gateway mails a local SMTP sink (the
demo's) through the outbox, once per event however often the work is repeated."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from sandbox.mail_sink import MailSink
from tests.e2e.support import (
    BERLIN_STORE,
    CANCEL,
    COLLECTED,
    PLACE,
    READY,
    SHOE,
    Stack,
    gateway,
    ok,
    oms_orders_for,
    order_input,
    place,
    position,
    square_in_stock,
)
from tests.e2e.test_routing_flow import STORES_SHIP, shipped_by_two_stores

RETURN = """mutation ($id: ID!, $lines: [ReturnLineInput!]!, $key: String!) {
  requestReturn(orderId: $id, lines: $lines, idempotencyKey: $key) { id } }"""
RECEIVE = """mutation ($id: ID!, $key: String!) { receiveReturn(id: $id, idempotencyKey: $key) {
  id status } }"""


@pytest.fixture
def sink() -> Iterator[MailSink]:
    mail = MailSink()
    mail.start()
    yield mail
    mail.stop()


@pytest.fixture
async def mailing(dataset, tmp_path, sink: MailSink) -> AsyncIterator[Stack]:
    async with gateway(dataset, tmp_path, smtp_host=sink.host, smtp_port=sink.port) as stack:
        yield stack


async def test_given_a_pickup_order_ready_then_the_customer_gets_one_mail_with_instructions(
    mailing: Stack, sink: MailSink
):
    order = await place(
        mailing, "mail-1", email="mia@example.org", lines=[(SHOE, 1)], pickup=BERLIN_STORE
    )
    await mailing.drain()
    assert sink.received == []  # placing an order is confirmed by the checkout, not here

    await ok(mailing.gql, READY, id=order["id"], key="mail-1-ready")
    await ok(mailing.gql, READY, id=order["id"], key="mail-1-ready")  # a retried request
    await mailing.drain()
    await mailing.drain()

    (mail,) = sink.received
    assert mail.to == ("mia@example.org",) and mail.sender == "orders@northtrail.example"
    assert mail.subject == f"Your order {order['id']} is ready for pickup at Berlin Store"
    assert "click & collect counter" in mail.body and "Please collect it by" in mail.body
    timeline = (
        await ok(
            mailing.gql,
            "query ($id: ID!) { order(id: $id) { timeline { kind source } } }",
            id=order["id"],
        )
    )["order"]["timeline"]
    assert {"kind": "CUSTOMER_NOTIFIED", "source": "MAIL"} in timeline

    # Collected and returned: the refund is mailed too, once.
    await ok(mailing.gql, COLLECTED, id=order["id"], key="mail-1-collected")
    returned = (
        await ok(
            mailing.gql,
            RETURN,
            id=order["id"],
            lines=[{"sku": SHOE, "quantity": 1, "reason": "SIZE_OR_FIT", "condition": "NEW"}],
            key="mail-1-return",
        )
    )["requestReturn"]
    await ok(mailing.gql, RECEIVE, id=returned["id"], key="mail-1-receive")
    await mailing.drain()
    subjects = [m.subject for m in sink.received]
    assert subjects.count(f"Your refund for order {order['id']}") == 1
    assert len(sink.received) == 2


async def test_given_a_cancellation_then_the_customer_is_told_why_once(
    mailing: Stack, sink: MailSink
):
    order = await place(mailing, "mail-2", email="noah@example.org", lines=[(SHOE, 1)])
    await mailing.drain()
    await ok(mailing.gql, CANCEL, id=order["id"], key="mail-2-cancel")
    await mailing.drain()

    (mail,) = sink.received
    assert mail.subject == f"Your order {order['id']} was cancelled"
    assert "changed mind" in mail.body


async def test_given_no_mail_server_configured_then_nobody_is_mailed(stack: Stack):
    order = await place(stack, "mail-3", email="ola@example.org", lines=[(SHOE, 1)])
    await ok(stack.gql, CANCEL, id=order["id"], key="mail-3-cancel")
    await stack.drain()
    deliveries = (
        await ok(
            stack.gql,
            "query ($id: ID!) { orderDeliveries(orderId: $id) { operation } }",
            id=order["id"],
        )
    )["orderDeliveries"]
    assert "mail.send" not in [d["operation"] for d in deliveries]


async def ring_up_at_the_till(stack: Stack, sku: str, store_ref: str, quantity: int) -> None:
    """A walk-in customer buys ``quantity`` at the store: Square's own POS records the sale
    (IN_STOCK -> SOLD), without asking the gateway."""
    simulator = stack.apps["square"].state.simulator
    (vid,) = [v for v, variation in simulator.catalog.variations.items() if variation.sku == sku]
    settings = stack.settings()
    body = {
        "idempotency_key": f"till-{sku}-{store_ref}",
        "changes": [
            {
                "type": "ADJUSTMENT",
                "adjustment": {
                    "catalog_object_id": vid,
                    "location_id": store_ref,
                    "from_state": "IN_STOCK",
                    "to_state": "SOLD",
                    "quantity": str(quantity),
                    "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                },
            }
        ],
    }
    async with httpx.AsyncClient(base_url=settings.square_base_url) as http:
        response = await http.post(
            "/v2/inventory/changes/batch-create",
            json=body,
            headers={"Authorization": f"Bearer {settings.square_access_token}"},
        )
    assert response.status_code == 200, response.text


SHORT = """query ($id: ID!) { order(id: $id) { status
  exceptions { kind owner severity status sku locationId copy { value } }
  timeline { kind source detail } } }"""


async def test_given_a_till_sale_of_a_promised_unit_then_the_order_is_owned_and_told_once(
    mailing: Stack, sink: MailSink
):
    # Given a pickup order holding every unit the Berlin store can promise,
    at_store = await position(mailing.gql, SHOE, BERLIN_STORE)
    units, ref = at_store["availableToPromise"], at_store["location"]["sourceRef"]
    order = await place(
        mailing, "till-1", email="ben@example.org", lines=[(SHOE, units)], pickup=BERLIN_STORE
    )
    await mailing.drain()
    on_shelf = square_in_stock(mailing.apps, SHOE, ref)
    assert (await mailing.services.short_holds.check()).short == 0  # the shelf covers it

    # when a walk-in customer buys more at the till than the shelf has beyond the order,
    await ring_up_at_the_till(mailing, SHOE, ref, on_shelf + 1)
    first = await mailing.services.short_holds.check()
    await mailing.drain()
    again = await mailing.services.short_holds.check()  # the next round: nothing new
    await mailing.drain()

    # then the order owns a SHORT_HOLD for the store team, its timeline says what happened,
    assert (first.short, first.opened, again.opened) == (1, 1, 0)
    seen = (await ok(mailing.gql, SHORT, id=order["id"]))["order"]
    (exception,) = seen["exceptions"]
    assert (exception["kind"], exception["owner"], exception["severity"]) == (
        "SHORT_HOLD",
        "store-ops",
        "CRITICAL",
    )
    assert (exception["sku"], exception["locationId"]) == (SHOE, BERLIN_STORE)
    assert "1 no longer on the shelf" in exception["copy"]["value"]
    assert any(e["kind"] == "SHORT_HOLD" and e["source"] == "POS" for e in seen["timeline"])
    # and the customer is told once.
    told = [m for m in sink.received if m.to == ("ben@example.org",)]
    assert [m.subject for m in told] == [f"Your order {order['id']}: a change"]
    assert "sold in the store" in told[0].body

    # Once the store team cancels the order, the next check closes the exception.
    await ok(mailing.gql, CANCEL, id=order["id"], key="till-1-cancel")
    await mailing.drain()
    assert (await mailing.services.short_holds.check()).closed == 1
    closed = (await ok(mailing.gql, SHORT, id=order["id"]))["order"]["exceptions"]
    assert [(e["kind"], e["status"]) for e in closed] == [("SHORT_HOLD", "AUTO_RESOLVED")]


ROUTED = """query ($id: ID!) { order(id: $id) { status lines { sku quantity locationId }
  exceptions { kind status } timeline { kind detail } } }"""


async def test_given_a_till_sale_takes_a_ship_from_store_unit_then_another_node_ships_it(
    dataset, tmp_path, sink: MailSink
):
    sku = shipped_by_two_stores(dataset)
    async with gateway(
        dataset, tmp_path, routing=STORES_SHIP, smtp_host=sink.host, smtp_port=sink.port
    ) as stack:
        # Given a delivery order a store ships (stores are the cheaper nodes here),
        order = await place(stack, "till-2", email="eva@example.org", lines=[(sku, 1)])
        await stack.drain()
        (store,) = {line["locationId"] for line in order["lines"]}
        assert store.startswith("ST-")
        ref = (await position(stack.gql, sku, store))["location"]["sourceRef"]

        # when a walk-in customer buys everything left on that shelf and one more,
        await ring_up_at_the_till(stack, sku, ref, square_in_stock(stack.apps, sku, ref) + 1)
        report = await stack.services.short_holds.check()
        await stack.drain()

        # then the unit comes from another node instead, with no exception to work,
        assert (report.short, report.rerouted, report.opened) == (1, 1, 0)
        moved = (await ok(stack.gql, ROUTED, id=order["id"]))["order"]
        (line,) = moved["lines"]
        assert line["locationId"] != store and line["quantity"] == 1
        assert moved["exceptions"] == [] and moved["status"] == "ALLOCATED"
        (event,) = [e for e in moved["timeline"] if e["kind"] == "REROUTED"]
        assert "sold in" in event["detail"]
        # the store's count is right again (the order's sale of that unit is undone),
        assert square_in_stock(stack.apps, sku, ref) == 0
        # Shopify's fulfillment order moved to the new node with it,
        (oms,) = oms_orders_for(stack.apps, order["id"])
        open_at = {
            fo.location.id
            for fo in stack.apps["oms"].state.shop.fulfillment_orders.values()
            if fo.order is oms and any(x.remaining_quantity for x in fo.lines)
        }
        nodes = json.loads(stack.settings().nodes_file.read_text())["nodes"]
        oms_location = {n["id"]: n["oms_location"] for n in nodes}
        assert open_at == {oms_location[line["locationId"]]}
        # the customer hears once, and the next round finds nothing more.
        told = [m for m in sink.received if m.to == ("eva@example.org",)]
        assert len(told) == 1 and "now come from" in told[0].body
        again = await stack.services.short_holds.check()
        assert (again.short, again.rerouted) == (0, 0)


async def test_given_a_pickup_customer_accepted_a_transfer_then_a_till_sale_is_replaced(
    mailing: Stack, sink: MailSink
):
    # Given a pickup order for every unit the store can promise, whose customer accepted
    # collecting after a transfer,
    at_store = await position(mailing.gql, SHOE, BERLIN_STORE)
    units, ref = at_store["availableToPromise"], at_store["location"]["sourceRef"]
    consenting = {**order_input("ida@example.org", [(SHOE, units)], pickup=BERLIN_STORE)}
    consenting["allowTransfer"] = True
    order = (await ok(mailing.gql, PLACE, input=consenting, key="till-3"))["placeOrder"]
    await mailing.drain()

    # when the till sells one unit more than the shelf had beyond it,
    await ring_up_at_the_till(mailing, SHOE, ref, square_in_stock(mailing.apps, SHOE, ref) + 1)
    report = await mailing.services.short_holds.check()
    await mailing.drain()

    # then the missing unit comes to the store from another node, no exception is opened,
    assert (report.short, report.rerouted, report.opened) == (1, 1, 0)
    moved = (await ok(mailing.gql, ROUTED, id=order["id"]))["order"]
    where = {line["locationId"]: line["quantity"] for line in moved["lines"]}
    assert where[BERLIN_STORE] == units - 1 and sum(where.values()) == units
    assert moved["exceptions"] == [] and moved["status"] == "ALLOCATED"
    # and the customer hears of it once.
    told = [m for m in sink.received if m.to == ("ida@example.org",)]
    assert len(told) == 1 and "now come from" in told[0].body


SHORT_PICK = """mutation ($id: ID!, $sku: String!, $found: Int!, $key: String!) {
  reportShortPick(orderId: $id, sku: $sku, found: $found, idempotencyKey: $key) {
    substitution { id offered } } }"""
ANSWER = """mutation ($id: ID!, $sku: String, $key: String!) {
  respondToSubstitution(id: $id, substituteSku: $sku, idempotencyKey: $key) { status } }"""


async def test_given_a_short_pick_then_the_customer_is_offered_substitutes_by_mail(
    mailing: Stack, sink: MailSink
):
    order = await place(
        mailing, "mail-9", email="ola@example.org", lines=[(SHOE, 2)], pickup=BERLIN_STORE
    )
    await mailing.drain()
    short = await ok(mailing.gql, SHORT_PICK, id=order["id"], sku=SHOE, found=1, key="sp-9")
    offer = short["reportShortPick"]["substitution"]
    await mailing.drain()

    (mail,) = sink.received
    assert mail.to == ("ola@example.org",) and mail.subject == f"Your order {order['id']}: a change"
    assert offer["id"] in mail.body and all(sku in mail.body for sku in offer["offered"])

    # Declined (a support agent answering for the customer): told once more.
    await ok(mailing.gql, ANSWER, id=offer["id"], sku=None, key="an-9")
    await ok(mailing.gql, ANSWER, id=offer["id"], sku=None, key="an-9")
    await mailing.drain()
    assert len(sink.received) == 2 and "are dropped" in sink.received[1].body
