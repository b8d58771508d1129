"""Click-and-collect, no-shows and returns (gateway and WooCommerce web orders) through the
real gateway over the four simulators (helpers in tests/e2e/support.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.support import (
    BERLIN_STORE,
    CENTRAL_WAREHOUSE,
    COLLECTED,
    ORDER,
    READY,
    SHOE,
    SOCKS,
    Stack,
    error_of,
    gateway,
    ok,
    oms_orders_for,
    place,
    position,
    square_in_stock,
    system,
)

RETURN_FIELDS = """id orderId status omsReturnId webRefundId refundTotal { amount currency }
  lines { sku quantity reason condition disposition locationId refund { amount } }"""
REQUEST_RETURN = f"""mutation ($orderId: ID!, $lines: [ReturnLineInput!]!, $key: String!) {{
  requestReturn(orderId: $orderId, lines: $lines, idempotencyKey: $key) {{ {RETURN_FIELDS} }} }}"""
RECEIVE_RETURN = f"""mutation ($id: ID!, $key: String!) {{
  receiveReturn(id: $id, idempotencyKey: $key) {{ {RETURN_FIELDS} }} }}"""
RETURN = f"query ($id: ID!) {{ returnRequest(id: $id) {{ {RETURN_FIELDS} }} }}"
CUSTOMER_ORDERS = """query ($email: String!) { orders(filter: {customerEmail: $email}) {
  edges { node { id origin status channel total { amount currency }
    lines { sku quantity unitPrice { amount } locationId } systems { system id status } } } } }"""

# WooCommerce order 10456 (seed 42): completed, Paul Richter's only order, one line of
# 3x GLOV-00236-L at 72.26 each before tax (216.78 net + 41.19 VAT = 257.97 paid).
WEB_ORDER = 10456
WEB_EMAIL = "paul.richter@example.org"
WEB_SKU = "GLOV-00236-L"


def line(sku: str, quantity: int, reason: str, condition: str) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, "reason": reason, "condition": condition}


async def status_of(stack: Stack, order_id: str) -> str:
    return (await ok(stack.gql, ORDER, id=order_id))["order"]["status"]


@pytest.fixture
async def stack(dataset, tmp_path):
    async with gateway(dataset, tmp_path, returns_location_id=CENTRAL_WAREHOUSE) as opened:
        yield opened


# --- d: click and collect, then two returns ------------------------------------------------


async def test_given_a_collected_pickup_order_when_returned_then_restocked_units_sell_again(
    stack: Stack,
):
    ref = (await position(stack.gql, SHOE, BERLIN_STORE))["location"]["sourceRef"]
    order = await place(
        stack, "cc", email="cc@example.org", lines=[(SHOE, 2), (SOCKS, 1)], pickup=BERLIN_STORE
    )
    assert {x["locationId"] for x in order["lines"]} == {BERLIN_STORE}
    await stack.drain()

    ready = (await ok(stack.gql, READY, id=order["id"], key="cc-ready"))["markReadyForPickup"]
    assert ready["status"] == "READY_FOR_PICKUP"
    deadline = datetime.fromisoformat(ready["pickupDeadline"])
    assert timedelta(hours=71) < deadline - datetime.now(UTC) <= timedelta(hours=72)

    collected = (await ok(stack.gql, COLLECTED, id=order["id"], key="cc-collect"))["confirmPickup"]
    assert collected["status"] == "COLLECTED"
    await stack.drain()
    (oms_order,) = oms_orders_for(stack.apps, order["id"])
    assert {fo.status for fo in oms_order.fulfillment_orders} == {"CLOSED"}

    shoe_collected = await position(stack.gql, SHOE, BERLIN_STORE)
    socks_collected = await position(stack.gql, SOCKS, BERLIN_STORE)
    square_collected = square_in_stock(stack.apps, SHOE, ref)

    # More than was collected cannot come back.
    too_many = await error_of(
        stack.gql,
        REQUEST_RETURN,
        orderId=order["id"],
        lines=[line(SHOE, 3, "SIZE_OR_FIT", "NEW")],
        key="too-many",
    )
    assert (too_many["code"], too_many["returnable"]) == ("BAD_USER_INPUT", 2)

    first = (
        await ok(
            stack.gql,
            REQUEST_RETURN,
            orderId=order["id"],
            lines=[line(SHOE, 1, "SIZE_OR_FIT", "NEW"), line(SOCKS, 1, "CHANGED_MIND", "OPENED")],
            key="return-1",
        )
    )["requestReturn"]
    assert [(x["sku"], x["disposition"], x["locationId"]) for x in first["lines"]] == [
        (SHOE, "RESTOCK", BERLIN_STORE),
        (SOCKS, "INSPECT", BERLIN_STORE),
    ]
    second = (
        await ok(
            stack.gql,
            REQUEST_RETURN,
            orderId=order["id"],
            lines=[line(SHOE, 1, "CHANGED_MIND", "NEW")],
            key="return-2",
        )
    )["requestReturn"]
    # Everything collected is now on a return: nothing more may be asked for.
    nothing_left = await error_of(
        stack.gql,
        REQUEST_RETURN,
        orderId=order["id"],
        lines=[line(SHOE, 1, "CHANGED_MIND", "NEW")],
        key="return-3",
    )
    assert (nothing_left["code"], nothing_left["returnable"]) == ("BAD_USER_INPUT", 0)
    # The support console sees both returns on the order, oldest first.
    listed = await ok(
        stack.gql,
        "query ($id: ID!) { order(id: $id) { returns { id lines { sku quantity } } } }",
        id=order["id"],
    )
    assert [r["id"] for r in listed["order"]["returns"]] == [first["id"], second["id"]]

    await stack.drain()
    assert [r.status for r in oms_order.returns] == ["OPEN", "OPEN"]
    first = (await ok(stack.gql, RETURN, id=first["id"]))["returnRequest"]
    assert first["omsReturnId"] in {r.id for r in oms_order.returns}

    # On their way back: incoming at the store, not sellable.
    shoe = await position(stack.gql, SHOE, BERLIN_STORE)
    socks = await position(stack.gql, SOCKS, BERLIN_STORE)
    assert (shoe["incoming"], shoe["availableToPromise"]) == (
        2,
        shoe_collected["availableToPromise"],
    )
    assert (socks["incoming"], socks["availableToPromise"]) == (
        1,
        socks_collected["availableToPromise"],
    )

    received = (await ok(stack.gql, RECEIVE_RETURN, id=first["id"], key="receive-1"))[
        "receiveReturn"
    ]
    assert received["status"] == "RECEIVED"
    assert await status_of(stack, order["id"]) == "PARTIALLY_RETURNED"
    shoe = await position(stack.gql, SHOE, BERLIN_STORE)
    socks = await position(stack.gql, SOCKS, BERLIN_STORE)
    # The restocked shoe sells again at once; the opened socks wait for inspection.
    assert (shoe["incoming"], shoe["availableToPromise"]) == (
        1,
        shoe_collected["availableToPromise"] + 1,
    )
    assert (socks["incoming"], socks["availableToPromise"]) == (
        1,
        socks_collected["availableToPromise"],
    )

    await stack.drain()
    assert square_in_stock(stack.apps, SHOE, ref) == square_collected + 1
    shoe = await position(stack.gql, SHOE, BERLIN_STORE)
    assert shoe["availableToPromise"] == shoe_collected["availableToPromise"] + 1  # not +2
    assert (await ok(stack.gql, RETURN, id=first["id"]))["returnRequest"]["status"] == "CLOSED"
    closed = next(r for r in oms_order.returns if r.id == first["omsReturnId"])
    assert closed.status == "CLOSED"

    await ok(stack.gql, RECEIVE_RETURN, id=second["id"], key="receive-2")
    assert await status_of(stack, order["id"]) == "RETURNED"
    await stack.drain()
    assert square_in_stock(stack.apps, SHOE, ref) == square_collected + 2
    shoe = await position(stack.gql, SHOE, BERLIN_STORE)
    assert (shoe["incoming"], shoe["availableToPromise"]) == (
        0,
        shoe_collected["availableToPromise"] + 2,
    )
    assert [r.status for r in oms_order.returns] == ["CLOSED", "CLOSED"]

    # The opened socks waited for inspection; written off, they are incoming no more.
    disposed = (
        await ok(
            stack.gql,
            """mutation ($id: ID!, $key: String!) { disposeReturnUnits(returnId: $id,
              skus: ["SOCK-MER-CREW-M"], idempotencyKey: $key) {
              lines { sku disposition awaitingDecision decidedAt } } }""",
            id=first["id"],
            key="dispose-socks",
        )
    )["disposeReturnUnits"]
    assert [(x["sku"], x["disposition"], x["awaitingDecision"]) for x in disposed["lines"]] == [
        (SHOE, "RESTOCK", False),
        (SOCKS, "DISPOSE", False),
    ]
    socks = await position(stack.gql, SOCKS, BERLIN_STORE)
    assert (socks["incoming"], socks["availableToPromise"]) == (
        0,
        socks_collected["availableToPromise"],
    )


# --- e: no-show ----------------------------------------------------------------------------


async def test_given_a_pickup_order_left_on_the_shelf_when_its_window_ends_then_stock_returns(
    dataset,
    tmp_path,
):
    async with gateway(dataset, tmp_path, pickup_window_hours=0.0001) as stack:  # 0.36 s
        before = await position(stack.gql, SHOE, BERLIN_STORE)
        ref = before["location"]["sourceRef"]
        square_before = square_in_stock(stack.apps, SHOE, ref)
        order = await place(
            stack, "no-show", email="late@example.org", lines=[(SHOE, 2)], pickup=BERLIN_STORE
        )
        await stack.drain()
        await ok(stack.gql, READY, id=order["id"], key="no-show-ready")
        assert await stack.services.order_sync.cancel_no_shows() == 0  # still within its window

        await asyncio.sleep(0.5)
        assert await stack.services.order_sync.cancel_no_shows() == 1

        seen = (await ok(stack.gql, ORDER, id=order["id"]))["order"]
        assert seen["status"] == "CANCELLED"
        assert seen["timeline"][-1]["kind"] == "NO_SHOW"
        await stack.drain()
        assert square_in_stock(stack.apps, SHOE, ref) == square_before
        after = await position(stack.gql, SHOE, BERLIN_STORE)
        assert (after["held"], after["availableToPromise"]) == (0, before["availableToPromise"])
        assert await stack.services.order_sync.cancel_no_shows() == 0


# --- f: a WooCommerce web order ------------------------------------------------------------


async def returned_web_order(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """Import the web orders, return one of the three gloves of order 10456, receive it."""
    assert await stack.services.web_orders.sync() > 0
    (edge,) = (await ok(stack.gql, CUSTOMER_ORDERS, email=WEB_EMAIL))["orders"]["edges"]
    opened = (
        await ok(
            stack.gql,
            REQUEST_RETURN,
            orderId=edge["node"]["id"],
            lines=[line(WEB_SKU, 1, "SIZE_OR_FIT", "NEW")],
            key="web-return",
        )
    )["requestReturn"]
    await ok(stack.gql, RECEIVE_RETURN, id=opened["id"], key="web-receive")
    await stack.drain()
    return edge["node"], (await ok(stack.gql, RETURN, id=opened["id"]))["returnRequest"]


async def test_given_a_completed_web_order_when_returned_then_woocommerce_refunds_it_exactly(
    stack: Stack,
):
    web = stack.apps["woocommerce"].state.orders.orders[WEB_ORDER]
    assert web.status == "completed" and web.refunds == []

    order, returned = await returned_web_order(stack)

    assert (order["id"], order["origin"], order["status"]) == (
        f"web_{WEB_ORDER}",
        "STOREFRONT",
        "DELIVERED",  # WooCommerce "completed" for a delivery order
    )
    assert system(order, "STOREFRONT") == {
        "system": "STOREFRONT",
        "id": str(WEB_ORDER),
        "status": "completed",
    }
    assert [(x["sku"], x["quantity"]) for x in order["lines"]] == [(WEB_SKU, 3)]

    (refund,) = web.refunds
    # One glove of three: 72.26 before tax and 13.73 VAT, what was paid for it.
    assert refund.amount == Decimal(returned["refundTotal"]["amount"]) == Decimal("85.99")
    assert [(x.item.sku, x.quantity, x.total, x.tax) for x in refund.lines] == [
        (WEB_SKU, 1, Decimal("72.26"), Decimal("13.73"))
    ]
    assert (returned["status"], returned["webRefundId"]) == ("CLOSED", refund.id)
    assert returned["lines"][0]["locationId"] == CENTRAL_WAREHOUSE
    assert await status_of(stack, order["id"]) == "PARTIALLY_RETURNED"
    assert web.status == "completed"  # two gloves are still paid for


async def test_given_a_returned_web_order_unit_then_the_customer_gets_back_what_they_paid(
    stack: Stack,
):
    web = stack.apps["woocommerce"].state.orders.orders[WEB_ORDER]
    paid_for_line = web.lines[0].price.subtotal + web.lines[0].price.tax  # 257.97
    paid_per_unit = paid_for_line / 3  # 85.99

    order, _ = await returned_web_order(stack)

    (refund,) = web.refunds
    assert refund.amount == paid_per_unit.quantize(Decimal("0.01"))

    # When the other two come back too, the refunds add up to exactly what the line cost,
    # VAT included, without a cent of rounding drift.
    opened = (
        await ok(
            stack.gql,
            REQUEST_RETURN,
            orderId=order["id"],
            lines=[line(WEB_SKU, 2, "SIZE_OR_FIT", "NEW")],
            key="web-return-rest",
        )
    )["requestReturn"]
    await ok(stack.gql, RECEIVE_RETURN, id=opened["id"], key="web-receive-rest")
    await stack.drain()
    assert len(web.refunds) == 2
    assert sum(r.amount for r in web.refunds) == paid_for_line
    assert sum(x.total for r in web.refunds for x in r.lines) == web.lines[0].price.subtotal
    assert sum(x.tax for r in web.refunds for x in r.lines) == web.lines[0].price.tax
    assert await status_of(stack, order["id"]) == "RETURNED"


async def test_a_webhook_read_taken_before_the_refund_does_not_move_the_order_back(
    stack: Stack,
):
    web = stack.apps["woocommerce"].state.orders.orders[WEB_ORDER]
    before = (web.status, web.modified)  # what a webhook's read would have seen

    order, _ = await returned_web_order(stack)
    opened = (
        await ok(
            stack.gql,
            REQUEST_RETURN,
            orderId=order["id"],
            lines=[line(WEB_SKU, 2, "SIZE_OR_FIT", "NEW")],
            key="web-return-rest",
        )
    )["requestReturn"]
    await ok(stack.gql, RECEIVE_RETURN, id=opened["id"], key="web-receive-rest")
    await stack.drain()
    assert web.status == "refunded"
    refunded = (web.status, web.modified)
    (found,) = (await ok(stack.gql, CUSTOMER_ORDERS, email=WEB_EMAIL))["orders"]["edges"]
    assert system(found["node"], "STOREFRONT")["status"] == "refunded"

    # The read arrives only now, after the gateway recorded its own refund.
    web.status, web.modified = before
    await stack.services.web_orders.sync_one(WEB_ORDER)
    web.status, web.modified = refunded

    (found,) = (await ok(stack.gql, CUSTOMER_ORDERS, email=WEB_EMAIL))["orders"]["edges"]
    assert system(found["node"], "STOREFRONT")["status"] == "refunded"
    assert found["node"]["status"] == "RETURNED"
