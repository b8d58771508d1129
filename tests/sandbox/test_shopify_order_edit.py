"""Order editing on the Shopify simulator: orderEditBegin stages a calculated order, the
SetQuantity/AddVariant mutations change only it, orderEditCommit applies it to the order, its
fulfillment orders and its timeline; refusals are userErrors in Shopify's words (as captured
from a live store)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.sandbox.webhook_support import Receiver
from tests.shopify_support import (
    CENTRAL,
    GRAPHQL,
    NORTH_HUB,
    contract,
    graphql,
    raw_client,
    simulator,
)

SHOE, SOCK = "SHOE-TRAIL-42", "SOCK-MER-CREW-M"
CAP_VARIANT = "gid://shopify/ProductVariant/45000006"  # HEAD-00003, 109.99
BEGIN = """mutation ($id: ID!) { orderEditBegin(id: $id) {
  calculatedOrder { id originalOrder { id } lineItems(first: 10) { nodes { id quantity sku variant { id sku } } } }
  orderEditSession { id } userErrors { field message } } }"""
SET_QUANTITY = """mutation ($id: ID!, $line: ID!, $quantity: Int!) {
  orderEditSetQuantity(id: $id, lineItemId: $line, quantity: $quantity, restock: false) {
    calculatedLineItem { id quantity editableQuantity } calculatedOrder { id }
    userErrors { field message } } }"""
ADD_VARIANT = """mutation ($id: ID!, $variant: ID!, $quantity: Int!, $duplicates: Boolean) {
  orderEditAddVariant(id: $id, variantId: $variant, quantity: $quantity, allowDuplicates: $duplicates) {
    calculatedLineItem { id quantity sku title originalUnitPriceSet { shopMoney { amount currencyCode } } }
    calculatedOrder { addedLineItems(first: 5) { nodes { id quantity } } subtotalLineItemsQuantity }
    userErrors { field message } } }"""
COMMIT = """mutation ($id: ID!, $note: String, $notify: Boolean) {
  orderEditCommit(id: $id, notifyCustomer: $notify, staffNote: $note) {
    order { id } successMessages userErrors { field message } } }"""
READ = """query ($id: ID!) { order(id: $id) {
  note closed totalPriceSet { shopMoney { amount } }
  lineItems(first: 10) { nodes { id sku quantity currentQuantity unfulfilledQuantity
    originalUnitPriceSet { shopMoney { amount } } } }
  fulfillmentOrders(first: 10) { nodes { id status assignedLocation { location { id } }
    lineItems(first: 10) { nodes { id sku totalQuantity remainingQuantity } } } }
  events(first: 10, query: "action:edited") { nodes { id action message appTitle
    ... on BasicEvent { subjectId subjectType hasAdditionalContent additionalContent } } } } }"""
CANCEL = """mutation ($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true) {
  job { id } orderCancelUserErrors { message } } }"""
FULFIL = """mutation ($fo: ID!) { fulfillmentCreate(fulfillment: {
  lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: $fo }] }) { userErrors { message } } }"""
MOVE = """mutation ($fo: ID!, $to: ID!) { fulfillmentOrderMove(id: $fo, newLocationId: $to) {
  userErrors { message } } }"""


async def place(client: httpx.AsyncClient, socks: int = 3) -> str:
    """The contract's order (a shoe, socks at 14.00) with ``socks`` pairs; its id."""
    body = contract("order.create")["request"]["body"]
    body["variables"]["order"]["lineItems"][1]["quantity"] = socks
    answer = (await client.post(GRAPHQL, json=body)).json()
    order_id: str = answer["data"]["orderCreate"]["order"]["id"]
    return order_id


async def begin(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql(client, BEGIN, id=order_id))["data"]["orderEditBegin"]
    return payload


def line_of(calculated: dict[str, Any], sku: str) -> str:
    line_id: str = next(n["id"] for n in calculated["lineItems"]["nodes"] if n["sku"] == sku)
    return line_id


async def read(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await graphql(client, READ, id=order_id))["data"]["order"]
    return order


def quantities(order: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {n["sku"]: (n["quantity"], n["currentQuantity"]) for n in order["lineItems"]["nodes"]}


def placed(order: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, int, int]]]]:
    """(status, location, [(sku, total, remaining)]) per fulfillment order, oldest first."""
    return [
        (
            fo["status"],
            fo["assignedLocation"]["location"]["id"],
            [
                (n["sku"], n["totalQuantity"], n["remainingQuantity"])
                for n in fo["lineItems"]["nodes"]
            ],
        )
        for fo in order["fulfillmentOrders"]["nodes"]
    ]


def errors(answer: dict[str, Any], mutation: str) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["message"]) for e in answer["data"][mutation]["userErrors"]]


# --- staged until commit ------------------------------------------------------------------------


async def test_given_an_order_when_an_edit_begins_then_its_lines_are_calculated_lines() -> None:
    async with raw_client(simulator()) as client:
        order_id = await place(client)
        begun = await begin(client, order_id)
        before = await read(client, order_id)
    calculated = begun["calculatedOrder"]
    number = calculated["id"].rsplit("/", 1)[-1]
    assert calculated["id"].startswith("gid://shopify/CalculatedOrder/")
    assert begun["orderEditSession"] == {"id": f"gid://shopify/OrderEditSession/{number}"}
    assert calculated["originalOrder"] == {"id": order_id}
    assert begun["userErrors"] == []
    # A calculated line carries the number of the line item it stands for.
    assert [n["id"].rsplit("/", 1)[-1] for n in calculated["lineItems"]["nodes"]] == [
        n["id"].rsplit("/", 1)[-1] for n in before["lineItems"]["nodes"]
    ]
    assert [(n["sku"], n["quantity"]) for n in calculated["lineItems"]["nodes"]] == [
        (SHOE, 1),
        (SOCK, 3),
    ]
    assert calculated["lineItems"]["nodes"][0]["variant"]["sku"] == SHOE


async def test_staged_changes_leave_the_order_alone_and_a_second_begin_starts_afresh() -> None:
    async with raw_client(simulator()) as client:
        order_id = await place(client)
        before = await read(client, order_id)
        first = (await begin(client, order_id))["calculatedOrder"]
        lowered = await graphql(
            client, SET_QUANTITY, id=first["id"], line=line_of(first, SOCK), quantity=1
        )
        added = await graphql(client, ADD_VARIANT, id=first["id"], variant=CAP_VARIANT, quantity=2)
        during = await read(client, order_id)
        second = (await begin(client, order_id))["calculatedOrder"]
    assert errors(lowered, "orderEditSetQuantity") == []
    assert lowered["data"]["orderEditSetQuantity"]["calculatedLineItem"]["quantity"] == 1
    staged = added["data"]["orderEditAddVariant"]
    assert staged["calculatedLineItem"]["sku"] == "HEAD-00003"
    assert staged["calculatedLineItem"]["title"] == "Ridge Sun Cap"
    assert staged["calculatedLineItem"]["originalUnitPriceSet"]["shopMoney"] == {
        "amount": "109.99",
        "currencyCode": "EUR",
    }
    assert staged["calculatedLineItem"]["id"].startswith("gid://shopify/CalculatedLineItem/")
    assert [n["quantity"] for n in staged["calculatedOrder"]["addedLineItems"]["nodes"]] == [2]
    assert staged["calculatedOrder"]["subtotalLineItemsQuantity"] == 4
    assert during == before  # nothing reaches the order before the commit
    assert second["id"] != first["id"]
    assert [n["quantity"] for n in second["lineItems"]["nodes"]] == [1, 3]


# --- commit -------------------------------------------------------------------------------------


async def test_commit_applies_the_edit_to_lines_fulfillment_orders_and_timeline() -> None:
    async with raw_client(simulator()) as client:
        order_id = await place(client)
        calculated = (await begin(client, order_id))["calculatedOrder"]
        await graphql(
            client, SET_QUANTITY, id=calculated["id"], line=line_of(calculated, SOCK), quantity=1
        )
        await graphql(client, ADD_VARIANT, id=calculated["id"], variant=CAP_VARIANT, quantity=2)
        committed = await graphql(
            client, COMMIT, id=calculated["id"], note="[gateway:sub-1] short pick", notify=False
        )
        after = await read(client, order_id)
        late = await graphql(
            client, SET_QUANTITY, id=calculated["id"], line=line_of(calculated, SHOE), quantity=0
        )
    payload = committed["data"]["orderEditCommit"]
    assert payload["order"] == {"id": order_id}
    assert payload["successMessages"] == ["Order updated"]
    assert payload["userErrors"] == []
    # The lowered line keeps its ordered quantity; the cap is a new line at its price.
    assert quantities(after) == {SHOE: (1, 1), SOCK: (3, 1), "HEAD-00003": (2, 2)}
    cap = after["lineItems"]["nodes"][2]
    assert cap["originalUnitPriceSet"]["shopMoney"]["amount"] == "109.99"
    assert cap["unfulfilledQuantity"] == 2
    # 129.00 + 3 x 14.00 + 5.00 shipping, less 2 x 14.00, plus 2 x 109.99
    assert after["totalPriceSet"]["shopMoney"]["amount"] == "367.98"
    # The socks came off their fulfillment-order line; the caps are a new open one.
    assert placed(after) == [
        ("OPEN", CENTRAL, [(SHOE, 1, 1), (SOCK, 1, 1)]),
        ("OPEN", CENTRAL, [("HEAD-00003", 2, 2)]),
    ]
    # The staff note is shown with the timeline's "edited" entry, not in the order's note.
    (event,) = after["events"]["nodes"]
    assert (event["action"], event["message"]) == ("edited", "Commerce Gateway edited this order.")
    assert (event["subjectId"], event["subjectType"]) == (order_id, "ORDER")
    content = json.loads(event["additionalContent"])
    assert content["staff_note"] == "[gateway:sub-1] short pick"
    assert [(x["sku"], x["delta"]) for x in content["line_items"]["removals"]] == [(SOCK, 2)]
    assert [(x["sku"], x["delta"]) for x in content["line_items"]["additions"]] == [
        ("HEAD-00003", 2)
    ]
    assert after["note"] != "[gateway:sub-1] short pick"
    # A committed calculated order is gone.
    assert errors(late, "orderEditSetQuantity") == [
        (["id"], "The calculated order does not exist.")
    ]


async def test_a_line_set_to_zero_stays_and_its_emptied_fulfillment_order_closes() -> None:
    async with raw_client(simulator()) as client:
        order_id = await place(client)
        calculated = (await begin(client, order_id))["calculatedOrder"]
        for sku in (SHOE, SOCK):
            await graphql(
                client, SET_QUANTITY, id=calculated["id"], line=line_of(calculated, sku), quantity=0
            )
        session = calculated["id"].replace("CalculatedOrder", "OrderEditSession")
        committed = await graphql(client, COMMIT, id=session, note="declined")
        after = await read(client, order_id)
        again = await begin(client, order_id)
    assert errors(committed, "orderEditCommit") == []  # the session's id is taken too
    assert quantities(after) == {SHOE: (1, 0), SOCK: (3, 0)}
    assert placed(after) == [("CLOSED", CENTRAL, [])]
    assert after["totalPriceSet"]["shopMoney"]["amount"] == "5.00"  # the shipping is kept
    nodes = again["calculatedOrder"]["lineItems"]["nodes"]
    assert [(n["sku"], n["quantity"]) for n in nodes] == [(SHOE, 0), (SOCK, 0)]


async def test_removed_units_leave_whichever_fulfillment_orders_hold_them_and_additions_go_where_most_are_open() -> (
    None
):
    async with raw_client(simulator()) as client:
        order_id = await place(client)
        fo = (await read(client, order_id))["fulfillmentOrders"]["nodes"][0]
        await graphql(client, MOVE, fo=fo["id"], to=NORTH_HUB)  # all of it moves
        calculated = (await begin(client, order_id))["calculatedOrder"]
        await graphql(
            client, SET_QUANTITY, id=calculated["id"], line=line_of(calculated, SOCK), quantity=2
        )
        await graphql(client, ADD_VARIANT, id=calculated["id"], variant=CAP_VARIANT, quantity=1)
        await graphql(client, COMMIT, id=calculated["id"], note="x")
        after = await read(client, order_id)
    assert placed(after) == [
        ("OPEN", NORTH_HUB, [(SHOE, 1, 1), (SOCK, 2, 2)]),
        ("OPEN", NORTH_HUB, [("HEAD-00003", 1, 1)]),
    ]


async def test_with_nothing_left_open_added_units_go_to_the_default_location() -> None:
    async with raw_client(simulator()) as client:
        order_id = await place(client)
        fo = (await read(client, order_id))["fulfillmentOrders"]["nodes"][0]
        await graphql(client, MOVE, fo=fo["id"], to=NORTH_HUB)
        await graphql(client, FULFIL, fo=fo["id"])
        calculated = (await begin(client, order_id))["calculatedOrder"]
        below = await graphql(
            client, SET_QUANTITY, id=calculated["id"], line=line_of(calculated, SOCK), quantity=2
        )
        await graphql(client, ADD_VARIANT, id=calculated["id"], variant=CAP_VARIANT, quantity=1)
        await graphql(client, COMMIT, id=calculated["id"], note="x")
        after = await read(client, order_id)
    # Shipped units cannot be edited away (the simulator's wording).
    assert errors(below, "orderEditSetQuantity") == [
        (["quantity"], "Quantity can't be less than the 3 already fulfilled.")
    ]
    assert placed(after)[-1] == ("OPEN", CENTRAL, [("HEAD-00003", 1, 1)])


async def test_a_closed_order_can_be_edited_and_the_commit_reopens_it() -> None:
    app = simulator()
    async with raw_client(app) as client:
        order_id = await place(client)
        app.state.shop.orders[order_id].closed = True  # archived, as orderClose would
        calculated = (await begin(client, order_id))["calculatedOrder"]
        await graphql(
            client, SET_QUANTITY, id=calculated["id"], line=line_of(calculated, SOCK), quantity=2
        )
        committed = await graphql(client, COMMIT, id=calculated["id"], notify=True)
        after = await read(client, order_id)
    assert committed["data"]["orderEditCommit"]["successMessages"] == [
        "Order updated",
        "Order unarchived",
        "Notification sent",
    ]
    assert after["closed"] is False


# --- refusals -----------------------------------------------------------------------------------


async def test_unknown_ids_and_bad_quantities_are_shopifys_user_errors() -> None:
    unknown_edit = "gid://shopify/CalculatedOrder/999999999999999"
    async with raw_client(simulator()) as client:
        order_id = await place(client)
        no_order = await graphql(client, BEGIN, id="gid://shopify/Order/0")
        no_edit_set = await graphql(
            client,
            SET_QUANTITY,
            id=unknown_edit,
            line="gid://shopify/CalculatedLineItem/1",
            quantity=1,
        )
        no_edit_add = await graphql(
            client, ADD_VARIANT, id=unknown_edit, variant=CAP_VARIANT, quantity=1
        )
        no_edit_commit = await graphql(client, COMMIT, id=unknown_edit)
        calculated = (await begin(client, order_id))["calculatedOrder"]
        sock = line_of(calculated, SOCK)
        negative = await graphql(client, SET_QUANTITY, id=calculated["id"], line=sock, quantity=-1)
        no_line = await graphql(
            client,
            SET_QUANTITY,
            id=calculated["id"],
            line="gid://shopify/CalculatedLineItem/9",
            quantity=1,
        )
        zero = await graphql(
            client, ADD_VARIANT, id=calculated["id"], variant=CAP_VARIANT, quantity=0
        )
        below_zero = await graphql(
            client, ADD_VARIANT, id=calculated["id"], variant=CAP_VARIANT, quantity=-3
        )
        no_variant = await graphql(
            client,
            ADD_VARIANT,
            id=calculated["id"],
            variant="gid://shopify/ProductVariant/1",
            quantity=1,
        )
        duplicate = await graphql(
            client,
            ADD_VARIANT,
            id=calculated["id"],
            variant="gid://shopify/ProductVariant/44120100",
            quantity=1,
        )
        allowed = await graphql(
            client,
            ADD_VARIANT,
            id=calculated["id"],
            variant="gid://shopify/ProductVariant/44120100",
            quantity=1,
            duplicates=True,
        )
    assert errors(no_order, "orderEditBegin") == [(["id"], "The order does not exist.")]
    assert no_order["data"]["orderEditBegin"]["calculatedOrder"] is None
    for answer, mutation in (
        (no_edit_set, "orderEditSetQuantity"),
        (no_edit_add, "orderEditAddVariant"),
        (no_edit_commit, "orderEditCommit"),
    ):
        assert errors(answer, mutation) == [(["id"], "The calculated order does not exist.")]
    assert errors(negative, "orderEditSetQuantity") == [
        (["quantity"], "must be greater than or equal to 0")
    ]
    assert errors(no_line, "orderEditSetQuantity") == [
        (["lineItemId"], "The line item does not exist on the order.")
    ]
    assert errors(zero, "orderEditAddVariant") == [(["quantity"], "must be greater than 0")]
    assert errors(below_zero, "orderEditAddVariant") == [
        (["quantity"], "must be greater than 0"),
        (["quantity"], "must be greater than or equal to 0"),
    ]
    assert errors(no_variant, "orderEditAddVariant") == [
        (["variantId"], "The variant does not exist in the shop.")
    ]
    assert errors(duplicate, "orderEditAddVariant")[0][0] == ["variantId"]
    assert errors(allowed, "orderEditAddVariant") == []


async def test_a_cancelled_order_cannot_be_edited_nor_an_edit_begun_before_it_committed() -> None:
    async with raw_client(simulator()) as client:
        order_id = await place(client)
        calculated = (await begin(client, order_id))["calculatedOrder"]
        await graphql(client, CANCEL, id=order_id)
        refused_begin = await graphql(client, BEGIN, id=order_id)
        refused_commit = await graphql(client, COMMIT, id=calculated["id"])
        after = await read(client, order_id)
    assert errors(refused_begin, "orderEditBegin") == [(None, "The order cannot be edited.")]
    assert errors(refused_commit, "orderEditCommit") == [(None, "The order cannot be edited.")]
    assert after["events"]["nodes"] == []


# --- webhooks and counters ----------------------------------------------------------------------


async def test_a_commit_sends_orders_edited_and_orders_updated_and_is_counted() -> None:
    app: Starlette = simulator()
    receiver = Receiver()
    receiver.attach(app.state.webhooks)
    hook = {"uri": "https://gateway.northtrail.example/hooks/shopify", "format": "JSON"}
    subscribe = """mutation ($topic: WebhookSubscriptionTopic!, $hook: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $hook) { userErrors { message } } }"""
    async with raw_client(app) as client:
        order_id = await place(client)
        for topic in ("ORDERS_EDITED", "ORDERS_UPDATED"):
            await graphql(client, subscribe, topic=topic, hook=hook)
        calculated = (await begin(client, order_id))["calculatedOrder"]
        await graphql(
            client, SET_QUANTITY, id=calculated["id"], line=line_of(calculated, SOCK), quantity=1
        )
        await graphql(client, ADD_VARIANT, id=calculated["id"], variant=CAP_VARIANT, quantity=2)
        await graphql(client, COMMIT, id=calculated["id"], note="[gateway:sub-1]")
    await app.state.webhooks.settle()
    assert [r.header("x-shopify-topic") for r in receiver.received] == [
        "orders/edited",
        "orders/updated",
    ]
    edit = json.loads(receiver.received[0].body)["order_edit"]
    assert edit["order_id"] == int(order_id.rsplit("/", 1)[-1])
    assert edit["staff_note"] == "[gateway:sub-1]"
    assert edit["notify_customer"] is False
    assert [x["delta"] for x in edit["line_items"]["removals"]] == [2]
    assert [x["delta"] for x in edit["line_items"]["additions"]] == [2]
    updated = json.loads(receiver.received[1].body)
    assert {line["sku"]: line["current_quantity"] for line in updated["line_items"]} == {
        SHOE: 1,
        SOCK: 1,
        "HEAD-00003": 2,
    }
    for name in (
        "orderEditBegin",
        "orderEditSetQuantity",
        "orderEditAddVariant",
        "orderEditCommit",
    ):
        assert app.state.calls[name] == 1
