"""ShopifyAdapter (OmsPort) against the simulator, and against contract payloads served by
httpx.MockTransport for the failure layers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.shopify import ShopifyAdapter, build_shopify_client
from adapters.shopify.plan import plan_moves
from gateway.domain import Money
from gateway.domain.documents import (
    DocumentLine,
    OmsAllocation,
    OmsFulfillmentLine,
    OmsFulfillmentOrder,
    OmsOrderDraft,
    OmsReturnLine,
    PostalAddress,
    Tracking,
)
from gateway.errors import BackendAuthError, BackendRejected, BackendUnavailable, NotFound
from tests.shopify_support import (
    BASE_URL,
    CENTRAL,
    DOWNTOWN,
    GRAPHQL,
    NORTH_HUB,
    adapter,
    contract,
    raw_client,
    settings,
    simulator,
)

SHOE = "SHOE-TRAIL-42"
SOCK = "SOCK-MER-CREW-M"


def draft(*allocations: OmsAllocation, reference: str = "gw-order-1") -> OmsOrderDraft:
    return OmsOrderDraft(
        reference=reference,
        email="lena.okafor@example.org",
        customer_name="Lena Okafor",
        currency="EUR",
        lines=(
            DocumentLine(SHOE, 1, Money(Decimal("129.00"), "EUR")),
            DocumentLine(SOCK, 3, Money(Decimal("14.00"), "EUR")),
        ),
        allocations=allocations
        or (OmsAllocation(CENTRAL, SHOE, 1), OmsAllocation(CENTRAL, SOCK, 3)),
        shipping_address=PostalAddress("Lena Okafor", "Kastanienallee 12", "Berlin", "10435", "DE"),
        tags=("woocommerce",),
    )


def placement(order: Any) -> dict[tuple[str, str], int]:
    """(location, sku) -> units still to ship there, over the live fulfillment orders."""
    found: dict[tuple[str, str], int] = {}
    for fo in order.fulfillment_orders:
        if fo.status in ("CLOSED", "CANCELLED"):
            continue
        for line in fo.lines:
            key = (fo.location_ref, line.sku)
            found[key] = found.get(key, 0) + line.remaining_quantity
    return found


SPLIT = (
    OmsAllocation(NORTH_HUB, SHOE, 1),
    OmsAllocation(CENTRAL, SOCK, 2),
    OmsAllocation(DOWNTOWN, SOCK, 1),
)


# --- create_order -------------------------------------------------------------------------------


async def test_create_order_twice_returns_the_same_order_and_the_store_holds_one() -> None:
    app = simulator()
    oms = adapter(app)
    first = await oms.create_order(draft())
    again = await oms.create_order(draft())
    assert again == first
    assert first.name == "#1043" and first.reference == "gw-order-1"
    assert len(app.state.shop.orders) == 1
    assert app.state.calls["orderCreate"] == 1
    assert placement(first) == {(CENTRAL, SHOE): 1, (CENTRAL, SOCK): 3}


async def test_allocations_move_lines_to_their_locations_splitting_a_line_across_two() -> None:
    app = simulator()
    order = await adapter(app).create_order(draft(*SPLIT))
    assert placement(order) == {(NORTH_HUB, SHOE): 1, (CENTRAL, SOCK): 2, (DOWNTOWN, SOCK): 1}
    assert app.state.calls["fulfillmentOrderMove"] == 2
    assert all(fo.status == "OPEN" for fo in order.fulfillment_orders)


async def test_a_retry_finishes_the_routing_an_interrupted_first_call_did_not_reach() -> None:
    app = simulator()
    # The first attempt created the order and died before moving anything.
    body = contract("order.create")["request"]["body"]
    body["variables"]["order"]["sourceIdentifier"] = "gw-order-1"
    async with raw_client(app) as client:
        await client.post(GRAPHQL, json=body)
    allocations = (OmsAllocation(NORTH_HUB, SHOE, 1), OmsAllocation(CENTRAL, SOCK, 1))
    order = await adapter(app).create_order(draft(*allocations))
    assert order.id == "gid://shopify/Order/6120456781234"
    assert placement(order) == {(NORTH_HUB, SHOE): 1, (CENTRAL, SOCK): 1}
    assert app.state.calls["orderCreate"] == 1
    assert app.state.calls["fulfillmentOrderMove"] == 1


class LoseFirstAnswerTo(httpx.AsyncBaseTransport):
    """Shopify runs the first ``mutation`` call, but its answer is lost (a proxy's 503)."""

    def __init__(self, app: Any, mutation: str) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._mutation = mutation
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        query = json.loads(request.content)["query"]
        if f"{self._mutation}(" in query and not self.lost:
            self.lost += 1
            await response.aread()
            return httpx.Response(503, text="<html><body>503 nginx</body></html>")
        return response


def adapter_losing(app: Any, mutation: str) -> tuple[ShopifyAdapter, LoseFirstAnswerTo]:
    transport = LoseFirstAnswerTo(app, mutation)
    return ShopifyAdapter(build_shopify_client(settings(), transport=transport)), transport


async def test_given_a_lost_order_create_answer_then_the_retry_finds_it_instead_of_a_second():
    app = simulator()
    oms, transport = adapter_losing(app, "orderCreate")
    order = await oms.create_order(draft())
    assert transport.lost == 1
    assert order.reference == "gw-order-1"
    assert app.state.calls["orderCreate"] == 1
    assert len(app.state.shop.orders) == 1


async def test_an_unknown_sku_is_rejected_before_anything_is_written() -> None:
    app = simulator()
    bad = OmsOrderDraft("gw-x", "a@example.org", "A B", "EUR", (DocumentLine("NOPE-1", 1),), ())
    with pytest.raises(BackendRejected, match="NOPE-1"):
        await adapter(app).create_order(bad)
    assert app.state.calls["orderCreate"] == 0


async def test_variant_ids_are_looked_up_once_per_adapter() -> None:
    app = simulator()
    oms = adapter(app)
    await oms.create_order(draft(reference="a"))
    await oms.create_order(draft(reference="b"))
    assert app.state.calls["query productVariants"] == 1


def test_plan_moves_sends_only_the_surplus_and_nothing_once_placed() -> None:
    fo = OmsFulfillmentOrder(
        "fo1",
        CENTRAL,
        "OPEN",
        (OmsFulfillmentLine("l1", SOCK, 3, 3), OmsFulfillmentLine("l2", SHOE, 1, 1)),
    )
    moves = plan_moves([fo], SPLIT, movable={"fo1"})
    assert {(m.location_ref, m.lines) for m in moves} == {
        (NORTH_HUB, (("l2", 1),)),
        (DOWNTOWN, (("l1", 1),)),
    }
    placed = [
        OmsFulfillmentOrder("a", CENTRAL, "OPEN", (OmsFulfillmentLine("x", SOCK, 2, 2),)),
        OmsFulfillmentOrder("b", DOWNTOWN, "OPEN", (OmsFulfillmentLine("y", SOCK, 1, 1),)),
        OmsFulfillmentOrder("c", NORTH_HUB, "OPEN", (OmsFulfillmentLine("z", SHOE, 1, 1),)),
    ]
    assert plan_moves(placed, SPLIT, movable={"a", "b", "c"}) == []
    assert plan_moves([fo], SPLIT, movable=set()) == []  # e.g. picking already started


# --- fulfill, cancel, read ----------------------------------------------------------------------


async def test_fulfill_closes_the_fulfillment_order_with_tracking_and_a_repeat_changes_nothing() -> (
    None
):
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())
    fo_id = order.fulfillment_orders[0].id
    tracking = Tracking("DHL Express", "JD014600006180212345", "https://dhl.example/JD0146")
    shipped = await oms.fulfill(fo_id, tracking)
    again = await oms.fulfill(fo_id, tracking)
    assert shipped.status == "CLOSED"
    assert shipped.tracking == (tracking,)
    assert all(line.remaining_quantity == 0 for line in shipped.lines)
    assert again == shipped
    assert app.state.calls["fulfillmentCreate"] == 1
    read = await oms.order(order.id)
    assert read is not None and read.fulfillment_orders[0].tracking == (tracking,)


async def test_fulfilling_a_cancelled_fulfillment_order_is_a_rejected_user_error() -> None:
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())
    await oms.cancel_order(order.id)
    with pytest.raises(BackendRejected, match="unfulfillable status") as caught:
        await oms.fulfill(order.fulfillment_orders[0].id, None)
    assert caught.value.details["user_errors"][0]["field"][0] == "fulfillment"


async def test_cancel_order_cancels_the_order_and_leaves_no_open_work_once() -> None:
    """Given an order split over three locations, when it is cancelled (twice), then the
    order is cancelled in Shopify once, and every fulfillment order is cancelled with no
    replacement left OPEN at any location."""
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft(*SPLIT))

    cancelled = await oms.cancel_order(order.id)
    again = await oms.cancel_order(order.id)

    assert sorted(fo.status for fo in cancelled.fulfillment_orders) == ["CANCELLED"] * 3
    assert placement(cancelled) == {}
    assert again == cancelled
    assert app.state.calls["orderCancel"] == 1
    assert app.state.calls["fulfillmentOrderCancel"] == 0
    stored = app.state.shop.orders[order.id]
    assert stored.cancelled_at is not None and stored.cancel_reason == "OTHER"


async def test_cancel_order_asks_for_a_restock_without_moving_money() -> None:
    app = simulator()
    sent: list[dict[str, Any]] = []

    class Recording(httpx.ASGITransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            if "orderCancel(" in body["query"]:
                sent.append(body["variables"])
            return await super().handle_async_request(request)

    client = build_shopify_client(settings(), transport=Recording(app=app))
    oms = ShopifyAdapter(client)
    order = await oms.create_order(draft())

    await oms.cancel_order(order.id)

    (variables,) = sent
    assert variables["refundMethod"] == {"originalPaymentMethodsRefund": False}
    assert (variables["restock"], variables["notifyCustomer"]) == (True, False)
    assert variables["reason"] in ("OTHER", "CUSTOMER")


def order_answer(cancelled_at: str | None) -> httpx.Response:
    order = {
        "id": "gid://shopify/Order/1",
        "name": "#1001",
        "sourceIdentifier": "gw-1",
        "cancelledAt": cancelled_at,
        "fulfillmentOrders": {"pageInfo": {"hasNextPage": False}, "nodes": []},
    }
    return httpx.Response(200, json={"data": {"order": order}})


def cancel_answer(job: dict[str, Any] | None, *errors: dict[str, Any]) -> httpx.Response:
    payload = {"job": job, "orderCancelUserErrors": list(errors)}
    return httpx.Response(200, json={"data": {"orderCancel": payload}})


async def test_a_cancel_job_still_running_is_polled_until_the_order_is_cancelled() -> None:
    seen: list[httpx.Request] = []
    job = {"id": "gid://shopify/Job/7", "done": False}
    oms = mock_adapter(
        [
            order_answer(None),
            cancel_answer(job),
            order_answer(None),  # the job has not run yet
            httpx.Response(200, json={"data": {"job": {**job, "done": True}}}),
            order_answer("2026-11-22T10:00:00Z"),
        ],
        seen,
    )
    cancelled = await oms.cancel_order("gid://shopify/Order/1")
    assert cancelled.id == "gid://shopify/Order/1"
    assert len(seen) == 5


async def test_a_refused_cancel_is_rejected_unless_the_order_turns_out_cancelled() -> None:
    already = {"field": ["orderId"], "message": "already cancelled", "code": "INVALID"}
    seen: list[httpx.Request] = []
    raced = mock_adapter(
        [order_answer(None), cancel_answer(None, already), order_answer("2026-11-22T10:00:00Z")],
        seen,
    )
    assert (await raced.cancel_order("gid://shopify/Order/1")).name == "#1001"

    refused = {
        "field": ["orderId"],
        "message": "Order has a return in progress.",
        "code": "INVALID",
    }
    oms = mock_adapter([order_answer(None), cancel_answer(None, refused), order_answer(None)], seen)
    with pytest.raises(BackendRejected, match="return in progress") as caught:
        await oms.cancel_order("gid://shopify/Order/1")
    assert caught.value.details["backend_code"] == "INVALID"


async def test_unknown_ids_read_as_none_or_not_found() -> None:
    oms = adapter(simulator())
    assert await oms.order("gid://shopify/Order/1") is None
    with pytest.raises(NotFound):
        await oms.fulfill("gid://shopify/FulfillmentOrder/1", None)
    with pytest.raises(NotFound):
        await oms.close_return("gid://shopify/Return/1")


# --- returns ------------------------------------------------------------------------------------


async def test_a_return_is_requested_approved_and_closed_once_however_often_asked() -> None:
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())
    await oms.fulfill(order.fulfillment_orders[0].id, None)
    lines = [OmsReturnLine(SOCK, 2, "SIZE_OR_FIT", "too tight"), OmsReturnLine(SHOE, 1, "DAMAGED")]
    opened = await oms.open_return(order.id, lines, "rma-7")
    again = await oms.open_return(order.id, lines, "rma-7")
    assert opened.status == "OPEN" and opened.name == "#1043-R1"
    assert again == opened
    assert app.state.calls["returnRequest"] == 1
    assert app.state.calls["returnApproveRequest"] == 1
    stored = app.state.shop.returns[opened.id]
    reasons = {ln.fulfillment_line_item.line_item.sku: ln for ln in stored.lines}
    assert reasons[SOCK].return_reason_definition.handle == "does-not-fit"
    assert reasons[SOCK].customer_note == "[gateway:rma-7] too tight"
    assert reasons[SHOE].return_reason_definition.handle == "damaged"
    closed = await oms.close_return(opened.id)
    assert (await oms.close_return(opened.id)) == closed
    assert closed.status == "CLOSED"
    assert app.state.calls["returnClose"] == 1


async def test_given_a_lost_return_request_answer_then_the_retry_finds_it_and_approves_it():
    app = simulator()
    order = await adapter(app).create_order(draft())
    await adapter(app).fulfill(order.fulfillment_orders[0].id, None)
    oms, transport = adapter_losing(app, "returnRequest")
    opened = await oms.open_return(order.id, [OmsReturnLine(SOCK, 1, "OTHER")], "rma-9")
    assert transport.lost == 1
    assert opened.status == "OPEN"
    assert app.state.calls["returnRequest"] == 1
    assert list(app.state.shop.returns) == [opened.id]


async def test_returning_more_than_was_shipped_is_rejected() -> None:
    oms = adapter(simulator())
    order = await oms.create_order(draft())
    with pytest.raises(BackendRejected, match="0 of 1"):
        await oms.open_return(order.id, [OmsReturnLine(SHOE, 1, "OTHER")], "rma-8")


# --- auth, outages, throttling ------------------------------------------------------------------


async def test_a_wrong_token_is_an_auth_error() -> None:
    with pytest.raises(BackendAuthError, match="Invalid API key"):
        await adapter(simulator(), token="shpat_wrong").order("gid://shopify/Order/1")


async def test_an_outage_is_retried_then_reported_unavailable() -> None:
    app = simulator()
    app.state.faults.script(503)
    assert await adapter(app).order("gid://shopify/Order/1") is None
    app.state.faults.script(503, 503, 503)
    with pytest.raises(BackendUnavailable):
        await adapter(app).order("gid://shopify/Order/1")


def mock_adapter(answers: list[httpx.Response], seen: list[httpx.Request]) -> ShopifyAdapter:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    client = build_shopify_client(settings(), transport=httpx.MockTransport(handler))
    return ShopifyAdapter(client)


def throttled(available: float) -> httpx.Response:
    body = next(e["body"] for e in contract("errors")["examples"] if e.get("case") == "throttled")
    body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = available
    return httpx.Response(200, json=body)


async def test_throttled_is_retried_when_the_bucket_refills_soon() -> None:
    seen: list[httpx.Request] = []
    ok = httpx.Response(200, json={"data": {"order": None}, "extensions": {}})
    oms = mock_adapter([throttled(550.0), ok], seen)  # (552 - 550) / 100 = 20 ms
    assert await oms.order("gid://shopify/Order/1") is None
    assert len(seen) == 2
    assert str(seen[0].url) == f"{BASE_URL}/admin/api/2026-10/graphql.json"
    assert seen[0].headers["X-Shopify-Access-Token"] == settings().oms_access_token


async def test_throttled_for_longer_than_a_caller_can_wait_is_unavailable_at_once() -> None:
    seen: list[httpx.Request] = []
    oms = mock_adapter([throttled(311.0)], seen)  # the contract's 2.41 s wait
    with pytest.raises(BackendUnavailable) as caught:
        await oms.order("gid://shopify/Order/1")
    assert len(seen) == 1
    assert caught.value.backend_code == "THROTTLED"
    assert caught.value.details["retry_after_seconds"] == pytest.approx(2.41)
