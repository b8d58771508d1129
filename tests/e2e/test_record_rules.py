"""Whose records: a storefront changes only the holds it took and reads an order only with
its access token or the customer's own token; a store associate works on its own store's
orders; what a caller changes is recorded under its name (gateway.domain.access)."""

from __future__ import annotations

from typing import Any

from gateway.domain.principal import Role
from tests.e2e.support import (
    BERLIN_STORE,
    CENTRAL_WAREHOUSE,
    PLACE,
    SHOE,
    SOCKS,
    Stack,
    order_input,
)
from tests.identity import bearer, token

RESERVE = """mutation ($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) { id status } }"""
EXTEND = """mutation ($id: ID!, $key: String!) {
  extendReservation(id: $id, ttlSeconds: 600, idempotencyKey: $key) { id status } }"""
RELEASE = """mutation ($id: ID!, $key: String!) {
  releaseReservation(id: $id, idempotencyKey: $key) { id status } }"""
HOLD = "query ($id: ID!) { reservation(id: $id) { id status } }"
ORDER = """query ($id: ID!, $token: String) {
  order(id: $id, accessToken: $token) { id status customerEmail } }"""
READY = """mutation ($id: ID!, $key: String!) {
  markReadyForPickup(id: $id, idempotencyKey: $key) { id status } }"""
PLACED = PLACE.replace(
    "placeOrder(input: $input, idempotencyKey: $key) {",
    "placeOrder(input: $input, idempotencyKey: $key) { accessToken",
)
TRAIL = """query ($sku: String!) { auditTrail(sku: $sku, kinds: [STOCK_COMMITTED]) {
  edges { node { actor reference } } } }"""

WEB_SHOP = bearer(token(["STOREFRONT"], sub="web-shop"))
MOBILE_APP = bearer(token(["STOREFRONT"], sub="mobile-app"))
SUPPORT_AGENT = bearer(token(["SUPPORT"], sub="agent-7"))


async def ask(stack: Stack, headers: dict[str, str], query: str, **variables: Any) -> dict:
    """The same gateway, asked by another caller."""
    assert stack.gql.http is not None
    response = await stack.gql.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def refused(body: dict) -> str:
    [error] = body["errors"]
    return error["extensions"]["code"]


async def test_a_storefront_changes_and_reads_only_the_holds_it_took(stack):
    line = {"lines": [{"sku": SHOE, "quantity": 1}], "locationId": CENTRAL_WAREHOUSE}
    taken = await ask(stack, WEB_SHOP, RESERVE, input={**line, "channel": "ONLINE"}, key="r-1")
    hold = taken["data"]["reserve"]["id"]
    # Another storefront can neither extend, release nor read it, and nothing changes,
    assert refused(await ask(stack, MOBILE_APP, EXTEND, id=hold, key="x-1")) == "FORBIDDEN"
    assert refused(await ask(stack, MOBILE_APP, RELEASE, id=hold, key="x-2")) == "FORBIDDEN"
    assert refused(await ask(stack, MOBILE_APP, HOLD, id=hold)) == "FORBIDDEN"
    assert (await ask(stack, WEB_SHOP, HOLD, id=hold))["data"]["reservation"]["status"] == (
        "ACTIVE"
    )
    # while the one that took it extends it, and support may release anyone's.
    extended = await ask(stack, WEB_SHOP, EXTEND, id=hold, key="x-3")
    assert extended["data"]["extendReservation"]["status"] == "ACTIVE"
    released = await ask(stack, SUPPORT_AGENT, RELEASE, id=hold, key="x-4")
    assert released["data"]["releaseReservation"]["status"] == "RELEASED"


async def test_a_storefront_reads_an_order_with_its_access_token_or_the_customers_own_token(
    stack,
):
    placed = await ask(
        stack, WEB_SHOP, PLACED, input=order_input("ann@example.com", [(SOCKS, 1)]), key="o-1"
    )
    order = placed["data"]["placeOrder"]
    assert order["accessToken"].startswith("oat_")
    # Without the token (or with another order's), the storefront is refused,
    assert refused(await ask(stack, WEB_SHOP, ORDER, id=order["id"])) == "FORBIDDEN"
    wrong = await ask(stack, WEB_SHOP, ORDER, id=order["id"], token="oat_" + "A" * 32)
    assert refused(wrong) == "FORBIDDEN"
    # with it, any storefront reads the order (the customer's browser holds it),
    read = await ask(stack, MOBILE_APP, ORDER, id=order["id"], token=order["accessToken"])
    assert read["data"]["order"]["id"] == order["id"]
    # and so does the customer's own token, for that customer's orders only.
    ann = bearer(token(["STOREFRONT"], sub="customer-1", claims={"email": "Ann@Example.com"}))
    bob = bearer(token(["STOREFRONT"], sub="customer-2", claims={"email": "bob@example.com"}))
    assert (await ask(stack, ann, ORDER, id=order["id"]))["data"]["order"]["id"] == order["id"]
    assert refused(await ask(stack, bob, ORDER, id=order["id"])) == "FORBIDDEN"


async def test_a_store_associate_works_only_on_its_own_stores_orders(stack):
    placed = await ask(
        stack,
        SUPPORT_AGENT,
        PLACED,
        input=order_input("cy@example.com", [(SHOE, 1)], pickup=BERLIN_STORE),
        key="o-2",
    )
    order_id = placed["data"]["placeOrder"]["id"]
    elsewhere = bearer(token(["STORE_ASSOCIATE"], sub="assoc-2", location_id="ST-MITTE"))
    here = bearer(token(["STORE_ASSOCIATE"], sub="assoc-1", location_id=BERLIN_STORE))
    # An associate of another store can neither read the order nor move it,
    assert refused(await ask(stack, elsewhere, ORDER, id=order_id)) == "FORBIDDEN"
    assert refused(await ask(stack, elsewhere, READY, id=order_id, key="rd-1")) == "FORBIDDEN"
    assert (await ask(stack, here, ORDER, id=order_id))["data"]["order"]["status"] == ("ALLOCATED")
    # while the pickup store's associate marks it ready.
    ready = await ask(stack, here, READY, id=order_id, key="rd-2")
    assert ready["data"]["markReadyForPickup"]["status"] == "READY_FOR_PICKUP"


async def test_what_a_caller_changes_is_on_the_audit_trail_under_its_name(stack):
    # Given a storefront's API key,
    _, shown = await stack.services.keys.create("web-eu", Role.STOREFRONT)
    web_eu = {"Authorization": f"Bearer {shown}"}
    # when it places an order and the gateway writes its hold to the ERP,
    placed = await ask(
        stack, web_eu, PLACED, input=order_input("dee@example.com", [(SOCKS, 2)]), key="o-3"
    )
    order_id = placed["data"]["placeOrder"]["id"]
    await stack.drain()
    # then the audit entry the write left names that key, not just "gateway".
    trail = await ask(stack, bearer(token(["OPS"])), TRAIL, sku=SOCKS)
    actors = {
        e["node"]["actor"]
        for e in trail["data"]["auditTrail"]["edges"]
        if e["node"]["reference"] == order_id
    }
    assert actors == {"key:web-eu"}


NO_SHOW = """mutation ($id: ID!, $key: String!) {
  markNoShow(id: $id, idempotencyKey: $key) { id status timeline { kind } } }"""


async def test_the_pickup_store_marks_a_ready_order_not_collected(stack):
    placed = await ask(
        stack,
        SUPPORT_AGENT,
        PLACED,
        input=order_input("fay@example.com", [(SHOE, 1)], pickup=BERLIN_STORE),
        key="o-4",
    )
    order_id = placed["data"]["placeOrder"]["id"]
    here = bearer(token(["STORE_ASSOCIATE"], sub="assoc-1", location_id=BERLIN_STORE))
    elsewhere = bearer(token(["STORE_ASSOCIATE"], sub="assoc-2", location_id="ST-MITTE"))
    # Not ready yet: nothing to clear from the shelf.
    early = await ask(stack, here, NO_SHOW, id=order_id, key="ns-0")
    assert refused(early) == "ILLEGAL_TRANSITION"
    await ask(stack, here, READY, id=order_id, key="rd-4")
    assert refused(await ask(stack, elsewhere, NO_SHOW, id=order_id, key="ns-1")) == "FORBIDDEN"
    cleared = (await ask(stack, here, NO_SHOW, id=order_id, key="ns-2"))["data"]["markNoShow"]
    assert cleared["status"] == "CANCELLED"
    assert cleared["timeline"][-1]["kind"] == "NO_SHOW"
    # A retry answers the same; nothing is cancelled twice.
    again = (await ask(stack, here, NO_SHOW, id=order_id, key="ns-2"))["data"]["markNoShow"]
    assert again == cleared
