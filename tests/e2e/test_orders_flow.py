"""Holds, orders and cancellations through the real gateway over the four simulators.

Every test runs the gateway on its own SQLite database (tests/conftest.py) with the
background workers off: ``services.worker.drain()`` delivers the outbox exactly when the
test says so, which is how a test sees the moment before and after a backend write.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.asgi import GraphQLClient
from tests.e2e.support import (
    BERLIN_STORE,
    CANCEL,
    CENTRAL_WAREHOUSE,
    COLLECTED,
    ORDER,
    PLACE,
    READY,
    SHOE,
    Stack,
    erp_bin,
    error_of,
    ok,
    oms_orders_for,
    order_input,
    place,
    position,
    rows,
    ship_sales_order,
    square_in_stock,
    system,
)

ONLINE_ROWS = """query ($sku: String!) { product(sku: $sku) {
  availability(near: {lat: 52.52, lng: 13.405}, channel: ONLINE) {
  locations { location { id stockSource } distanceKm availableToPromise } } } }"""
RESERVE = """mutation ($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) { id status } }"""
CONFIRM = """mutation ($id: ID!, $key: String!) {
  confirmReservation(id: $id, idempotencyKey: $key) { id status } }"""
ORDERS = """query ($email: String!, $first: Int!, $after: String) {
  orders(filter: {customerEmail: $email}, first: $first, after: $after) {
    edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }"""


# --- reading what users and backends see -------------------------------------------------


# --- a: reserve -> confirm -> source write -> availability, never counted twice -----------


@pytest.mark.parametrize(
    ("location_id", "stock_source"), [(BERLIN_STORE, "POS"), (CENTRAL_WAREHOUSE, "ERP")]
)
async def test_given_a_confirmed_hold_when_the_source_records_it_then_availability_drops_once(
    stack: Stack, location_id: str, stock_source: str
):
    n = 3
    before = await position(stack.gql, SHOE, location_id)
    assert before["location"]["stockSource"] == stock_source
    assert before["held"] == 0 and before["availableToPromise"] > n
    original = before["availableToPromise"]
    ref = before["location"]["sourceRef"]
    source_before = (
        square_in_stock(stack.apps, SHOE, ref)
        if stock_source == "POS"
        else erp_bin(stack.apps, SHOE, ref)
    )

    async with stack.another_gateway(cache_ttl_stock_seconds=600) as other:
        # The other process reads (and caches) the source figure from before any write.
        assert (await position(other, SHOE, location_id))["availableToPromise"] == original

        held = await ok(
            stack.gql,
            RESERVE,
            input={
                "lines": [{"sku": SHOE, "quantity": n}],
                "locationId": location_id,
                "channel": "ONLINE" if stock_source == "ERP" else "PICKUP",
            },
            key=f"hold-{location_id}",
        )
        # When reserved: every reader, on every process, sees N fewer at once.
        for reader in (stack.gql, other):
            now = await position(reader, SHOE, location_id)
            assert (now["held"], now["availableToPromise"]) == (n, original - n)

        await ok(stack.gql, CONFIRM, id=held["reserve"]["id"], key=f"confirm-{location_id}")
        assert (await position(stack.gql, SHOE, location_id))["availableToPromise"] == original - n
        await stack.drain()

        # The source of truth now carries the N units itself ...
        if stock_source == "POS":
            assert square_in_stock(stack.apps, SHOE, ref) == source_before - n
        else:
            actual, reserved = source_before
            assert erp_bin(stack.apps, SHOE, ref) == (actual, reserved + n)
        # ... so the process that delivered (its cached reading refreshed) counts them once,
        fresh = await position(stack.gql, SHOE, location_id)
        assert (fresh["held"], fresh["availableToPromise"]) == (0, original - n)
        # and the other process, still serving its reading from before the write, too.
        stale = await position(other, SHOE, location_id)
        assert stale["onHand"] == before["onHand"] and stale["reserved"] == before["reserved"]
        assert (stale["held"], stale["availableToPromise"]) == (n, original - n)

    if stock_source == "ERP":
        (so_name,) = [
            m["name"]
            for m in stack.apps["erp"].state.store.table("Sales Order").rows()
            if m.get("po_no") == held["reserve"]["id"]
        ]
        await ship_sales_order(stack, so_name)
        actual, reserved = source_before
        assert erp_bin(stack.apps, SHOE, ref) == (actual - n, reserved)
        async with stack.another_gateway() as after_shipping:  # a fresh reading
            shipped = await position(after_shipping, SHOE, location_id)
        assert shipped["onHand"] == before["onHand"] - n
        assert (shipped["held"], shipped["availableToPromise"]) == (0, original - n)


# --- b: placeOrder ------------------------------------------------------------------------


async def online_rows(gql: GraphQLClient, sku: str) -> list[dict[str, Any]]:
    data = await ok(gql, ONLINE_ROWS, sku=sku)
    return data["product"]["availability"]["locations"]


async def test_given_the_nearest_node_is_short_then_one_warehouse_shipment_beats_a_split(
    stack: Stack, dataset
):
    candidates = sorted(await online_rows(stack.gql, SHOE), key=lambda r: r["distanceKm"])
    nearest_with_stock = next(r for r in candidates if r["availableToPromise"] > 0)
    quantity = nearest_with_stock["availableToPromise"] + 1  # the nearest cannot fill it
    chosen = next(r for r in candidates if r["availableToPromise"] >= quantity)
    assert chosen["distanceKm"] > nearest_with_stock["distanceKm"]
    assert chosen["location"]["id"] == CENTRAL_WAREHOUSE  # an ERP warehouse, for the SO check

    order = await place(stack, "order-b", email="ann@example.org", lines=[(SHOE, quantity)])

    node = chosen["location"]["id"]
    assert order["status"] == "ALLOCATED"
    assert [(x["sku"], x["quantity"], x["locationId"]) for x in order["lines"]] == [
        (SHOE, quantity, node)
    ]
    assert order["fulfillmentLocationIds"] == [node]
    (allocated,) = [e for e in order["timeline"] if e["toStatus"] == "ALLOCATED"]
    assert allocated["detail"].startswith(f"1 shipment: Central Warehouse ({node}, ")
    routing = (await ok(stack.gql, ROUTING, id=order["id"]))["order"]["routing"]
    assert routing["strategy"] == "COST"
    assert [s["locationId"] for s in routing["plan"]["shipments"]] == [node]
    verdicts = {c["locationId"]: c["verdict"] for c in routing["plan"]["explanation"]["candidates"]}
    assert verdicts[node] == "CHOSEN"
    assert verdicts[nearest_with_stock["location"]["id"]] == "CONSIDERED"
    # The decision keeps its inputs (this node's stock as it was) and replays the same.
    snapshot = {n["id"]: n for n in routing["inputs"]["nodes"]}
    assert snapshot[node]["atp"][SHOE] == chosen["availableToPromise"]
    assert routing["replay"] == {"samePlan": True, "differences": []}
    assert (await position(stack.gql, SHOE, node))["held"] == quantity

    await stack.drain()

    (oms_order,) = oms_orders_for(stack.apps, order["id"])
    assert oms_order.fulfillment_orders
    assert {fo.location.id for fo in oms_order.fulfillment_orders} == {
        dataset.oms_location_ids()[node]
    }
    assert sum(line.total_quantity for fo in oms_order.fulfillment_orders for line in fo.lines) == (
        quantity
    )
    seen = (await ok(stack.gql, ORDER, id=order["id"]))["order"]
    assert system(seen, "OMS") == {"system": "OMS", "id": oms_order.id, "status": "OPEN"}
    sales_orders = [
        so
        for so in stack.apps["erp"].state.store.table("Sales Order").rows()
        if so.get("po_no") == order["id"]
    ]
    assert [so["docstatus"] for so in sales_orders] == [1]
    assert system(seen, "ERP")["id"] == sales_orders[0]["name"]

    # The same key and input: the same order, and nothing new anywhere.
    deliveries = (await ok(stack.gql, DELIVERIES, id=order["id"]))["orderDeliveries"]
    again = await place(stack, "order-b", email="ann@example.org", lines=[(SHOE, quantity)])
    await stack.drain()
    assert again["id"] == order["id"]
    assert len(oms_orders_for(stack.apps, order["id"])) == 1
    assert len(stack.apps["oms"].state.shop.orders) == 1
    assert (await ok(stack.gql, DELIVERIES, id=order["id"]))["orderDeliveries"] == deliveries
    assert (await position(stack.gql, SHOE, node))["availableToPromise"] == (
        chosen["availableToPromise"] - quantity
    )
    # The same key with another input is refused.
    refused = await error_of(
        stack.gql, PLACE, input=order_input("ann@example.org", [(SHOE, 1)]), key="order-b"
    )
    assert refused["code"] == "IDEMPOTENCY_KEY_REUSED"


ROUTING = """query ($id: ID!) { order(id: $id) { routing {
  strategy inputs replay { samePlan differences }
  plan { shipments { locationId } explanation { candidates(first: 100) { locationId verdict } } }
} } }"""
DELIVERIES = """query ($id: ID!) { orderDeliveries(orderId: $id) { id operation status } }"""


async def test_given_more_than_all_nodes_hold_when_placed_then_insufficient_stock_and_nothing_kept(
    stack: Stack,
):
    candidates = await online_rows(stack.gql, SHOE)
    everything = sum(r["availableToPromise"] for r in candidates)

    refused = await error_of(
        stack.gql,
        PLACE,
        input=order_input("nobody@example.org", [(SHOE, everything + 1)]),
        key="o-x",
    )

    assert refused["code"] == "INSUFFICIENT_STOCK"
    assert [(s["sku"], s["requested"], s["available"]) for s in refused["shortfalls"]] == [
        (SHOE, everything + 1, everything)
    ]
    assert (await ok(stack.gql, ORDERS, email="nobody@example.org", first=5))["orders"][
        "edges"
    ] == []
    assert all(r["held"] == 0 for r in (await rows(stack.gql, SHOE)).values())
    await stack.drain()
    assert stack.apps["oms"].state.shop.orders == {}


# --- c: cancelOrder -------------------------------------------------------------------------


@pytest.mark.parametrize("stock_source", ["POS", "ERP"])
async def test_given_a_placed_order_when_cancelled_then_stock_returns_and_every_system_undoes_it(
    stack: Stack, stock_source: str
):
    candidates = sorted(await online_rows(stack.gql, SHOE), key=lambda r: r["distanceKm"])
    nearest = next(r for r in candidates if r["availableToPromise"] > 0)
    # One unit goes to the nearest store; more than it has goes to the ERP warehouse.
    quantity = 1 if stock_source == "POS" else nearest["availableToPromise"] + 1
    order = await place(
        stack, f"c-{stock_source}", email="cy@example.org", lines=[(SHOE, quantity)]
    )
    node = order["lines"][0]["locationId"]
    before = next(r for r in candidates if r["location"]["id"] == node)
    assert before["location"]["stockSource"] == stock_source
    ref = (await position(stack.gql, SHOE, node))["location"]["sourceRef"]
    square_before = square_in_stock(stack.apps, SHOE, ref) if stock_source == "POS" else None
    bin_before = erp_bin(stack.apps, SHOE, ref) if stock_source == "ERP" else None
    await stack.drain()
    assert (await position(stack.gql, SHOE, node))["availableToPromise"] == (
        before["availableToPromise"] - quantity
    )
    (oms_order,) = oms_orders_for(stack.apps, order["id"])
    work_at_node = list(oms_order.fulfillment_orders)

    cancelled = (await ok(stack.gql, CANCEL, id=order["id"], key=f"cancel-{order['id']}"))[
        "cancelOrder"
    ]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["timeline"][-1]["detail"] == "changed mind"
    # Until the source gives the units back nobody is promised more than exists.
    assert (await position(stack.gql, SHOE, node))["availableToPromise"] <= before[
        "availableToPromise"
    ]
    await stack.drain()

    assert (await position(stack.gql, SHOE, node))["availableToPromise"] == before[
        "availableToPromise"
    ]
    if stock_source == "POS":
        assert square_in_stock(stack.apps, SHOE, ref) == square_before
    else:
        assert erp_bin(stack.apps, SHOE, ref) == bin_before
        (so,) = [
            so
            for so in stack.apps["erp"].state.store.table("Sales Order").rows()
            if so.get("po_no") == order["id"]
        ]
        assert (so["docstatus"], so["status"]) == (2, "Cancelled")
    # The fulfillment orders the node was given are cancelled in the OMS, with the order
    # itself, and nothing is left open in their place.
    assert {fo.status for fo in work_at_node} == {"CANCELLED"}
    assert {fo.status for fo in oms_order.fulfillment_orders} == {"CANCELLED"}
    assert oms_order.cancelled_at is not None
    seen = (await ok(stack.gql, ORDER, id=order["id"]))["order"]
    assert "CANCELLED" in system(seen, "OMS")["status"].split(",")
    failed = (await ok(stack.gql, DELIVERIES, id=order["id"]))["orderDeliveries"]
    assert {d["status"] for d in failed} == {"DELIVERED"}


async def test_given_a_cancelled_order_then_the_oms_shows_no_work_left_at_the_node(stack: Stack):
    order = await place(stack, "oms-cancel", email="oc@example.org", lines=[(SHOE, 1)])
    await stack.drain()

    await ok(stack.gql, CANCEL, id=order["id"], key="oms-cancel-now")
    await stack.drain()

    (oms_order,) = oms_orders_for(stack.apps, order["id"])
    assert [fo.status for fo in oms_order.fulfillment_orders if fo.status != "CANCELLED"] == []


async def test_given_a_collected_order_when_cancelled_then_illegal_transition(stack: Stack):
    order = await place(
        stack, "collected", email="col@example.org", lines=[(SHOE, 1)], pickup=BERLIN_STORE
    )
    await ok(stack.gql, READY, id=order["id"], key="ready-1")
    await ok(stack.gql, COLLECTED, id=order["id"], key="collected-1")

    refused = await error_of(stack.gql, CANCEL, id=order["id"], key="cancel-collected")

    assert refused["code"] == "ILLEGAL_TRANSITION"
    assert (refused["status"], refused["requested"]) == ("COLLECTED", "CANCELLED")
    assert (await ok(stack.gql, ORDER, id=order["id"]))["order"]["status"] == "COLLECTED"


# --- g: paging ---------------------------------------------------------------------------


async def test_given_many_orders_when_paged_then_every_order_appears_once_newest_first(
    stack: Stack,
):
    email = "pager@example.org"
    placed = [
        (await place(stack, f"page-{i}", email=email, lines=[(SHOE, 1)], pickup=BERLIN_STORE))["id"]
        for i in range(5)
    ]
    await place(
        stack, "someone-else", email="other@example.org", lines=[(SHOE, 1)], pickup=BERLIN_STORE
    )

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await ok(stack.gql, ORDERS, email=email.upper(), first=2, after=after))["orders"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        pages += 1
        if pages == 1:
            # An order placed while someone pages arrives at the front: it neither shifts
            # the pages still to come nor shows up twice.
            late = await place(stack, "late", email=email, lines=[(SHOE, 1)], pickup=BERLIN_STORE)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]

    assert pages == 3
    assert seen == list(reversed(placed))
    first_page = (await ok(stack.gql, ORDERS, email=email, first=2))["orders"]["edges"]
    assert first_page[0]["node"]["id"] == late["id"]
