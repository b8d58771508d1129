"""Picking over the simulators: a pickup order on the store's pick list with its Square
shelf; the picker finds one shoe of two, a substitute is offered, and the customer's answer
(with the order's access token) reaches the gateway's order, the holds, Square and Shopify."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sandbox.sample_data import generate
from tests.e2e.support import (
    BERLIN_STORE,
    PLACE,
    SHOE,
    Stack,
    ok,
    oms_orders_for,
    order_input,
    square_in_stock,
)
from tests.e2e.test_order_transitions import LOCAL_PICKUP, woo_order
from tests.e2e.test_web_orders import checkout, imported
from tests.identity import bearer, token

PLACED = PLACE.replace(
    "placeOrder(input: $input, idempotencyKey: $key) {",
    "placeOrder(input: $input, idempotencyKey: $key) { accessToken",
)
PICKS = """query ($at: ID!) { pickList(locationId: $at) {
  orderId channel promisedBy lines { sku quantity shelf } } }"""
SHORT = """mutation ($id: ID!, $sku: String!, $found: Int!, $key: String!) {
  reportShortPick(orderId: $id, sku: $sku, found: $found, idempotencyKey: $key) {
    outcome detail substitution { id sku missing offered status } } }"""
ANSWER = """mutation ($id: ID!, $sku: String, $token: String, $key: String!) {
  respondToSubstitution(id: $id, substituteSku: $sku, accessToken: $token, idempotencyKey: $key) {
    status chosen answeredBy } }"""
ORDER = """query ($id: ID!) { order(id: $id) {
  lines { sku quantity } substitutions { status chosen } } }"""
ASSOCIATE = bearer(token(["STORE_ASSOCIATE"], sub="picker-1", location_id=BERLIN_STORE))
WEB_SHOP = bearer(token(["STOREFRONT"], sub="web-shop"))


@pytest.fixture(scope="module")
def dataset():
    return generate(seed=42, skus=500, stores=12, base_time=datetime.now(UTC))


async def as_caller(stack: Stack, headers: dict[str, str], query: str, **variables) -> dict:
    assert stack.gql.http is not None
    response = await stack.gql.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def test_a_short_pick_s_substitute_reaches_square_and_shopify(stack, dataset):
    store_ref = next(
        loc["sourceRef"]
        for loc in (await ok(stack.gql, "{ locations { id sourceRef } }"))["locations"]
        if loc["id"] == BERLIN_STORE
    )
    placed = (
        await ok(
            stack.gql,
            PLACED,
            input=order_input("cy@example.com", [(SHOE, 2)], pickup=BERLIN_STORE),
            key="pick-1",
        )
    )["placeOrder"]
    await stack.drain()
    # The store's pick list has it, with the shoe's shelf from Square's custom attribute.
    picks = (await as_caller(stack, ASSOCIATE, PICKS, at=BERLIN_STORE))["pickList"]
    (task,) = [t for t in picks if t["orderId"] == placed["id"]]
    assert task["lines"] == [{"sku": SHOE, "quantity": 2, "shelf": "E-05-3"}]

    # The picker finds one of the two: a substitute is offered.
    short = (
        await as_caller(stack, ASSOCIATE, SHORT, id=placed["id"], sku=SHOE, found=1, key="s-1")
    )["reportShortPick"]
    assert short["outcome"] == "SUBSTITUTES_OFFERED"
    offer = short["substitution"]
    assert offer["missing"] == 1 and offer["offered"] and offer["status"] == "OFFERED"
    chosen = offer["offered"][0]
    before = square_in_stock(stack.apps, chosen, store_ref)

    # The customer's app answers with the order's access token.
    answered = (
        await as_caller(
            stack,
            WEB_SHOP,
            ANSWER,
            id=offer["id"],
            sku=chosen,
            token=placed["accessToken"],
            key="a-1",
        )
    )["respondToSubstitution"]
    assert answered["status"] == "ACCEPTED" and answered["chosen"] == chosen
    await stack.drain()

    # The gateway's order, Square (the substitute's sale) and Shopify's order all follow.
    order = (await ok(stack.gql, ORDER, id=placed["id"]))["order"]
    assert sorted((x["sku"], x["quantity"]) for x in order["lines"]) == sorted(
        [(SHOE, 1), (chosen, 1)]
    )
    assert order["substitutions"] == [{"status": "ACCEPTED", "chosen": chosen}]
    assert square_in_stock(stack.apps, chosen, store_ref) == before - 1
    (shopify,) = oms_orders_for(stack.apps, placed["id"])
    quantities = {line.sku: line.current_quantity for line in shopify.line_items}
    assert quantities[SHOE] == 1 and quantities[chosen] == 1


async def test_without_the_order_s_token_a_storefront_cannot_answer(stack, dataset):
    placed = (
        await ok(
            stack.gql,
            PLACED,
            input=order_input("dee@example.com", [(SHOE, 2)], pickup=BERLIN_STORE),
            key="pick-2",
        )
    )["placeOrder"]
    await stack.drain()
    short = (
        await as_caller(stack, ASSOCIATE, SHORT, id=placed["id"], sku=SHOE, found=0, key="s-2")
    )["reportShortPick"]
    offer = short["substitution"]
    assert stack.gql.http is not None
    response = await stack.gql.http.post(
        "/graphql",
        json={"query": ANSWER, "variables": {"id": offer["id"], "sku": None, "key": "a-2"}},
        headers=WEB_SHOP,
    )
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_a_web_order_s_declined_units_are_refunded_in_woocommerce(stack, dataset):
    await imported(stack)
    web = await checkout(stack, [(SHOE, 2)], shipping_lines=LOCAL_PICKUP)
    await stack.services.web_orders.sync()
    await stack.drain()
    order_id = f"web_{web['id']}"
    paid = Decimal(web["total"])

    short = (await as_caller(stack, ASSOCIATE, SHORT, id=order_id, sku=SHOE, found=1, key="s-3"))[
        "reportShortPick"
    ]
    offer = short["substitution"]
    declined = (await ok(stack.gql, ANSWER, id=offer["id"], sku=None, token=None, key="a-3"))[
        "respondToSubstitution"
    ]
    assert declined["status"] == "DECLINED"
    await stack.drain()

    # WooCommerce refunded the one shoe not found (half of what was paid for two) and notes
    # why for the shop's staff; the gateway's order keeps one shoe.
    woo = woo_order(stack, web)
    (refund,) = woo.refunds
    assert refund.amount == paid / 2
    assert any("not found at the store" in n.note for n in woo.notes if not n.customer_note)
    order = (await ok(stack.gql, ORDER, id=order_id))["order"]
    assert [(x["sku"], x["quantity"]) for x in order["lines"]] == [(SHOE, 1)]
