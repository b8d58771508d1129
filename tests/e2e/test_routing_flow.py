"""The router through GraphQL over the four simulators: the checkout dry run, split
orders, pickup with a transfer, capacity taken by earlier orders, and bad questions."""

from __future__ import annotations

from typing import Any

from gateway.config import NodeTermsSettings, RoutingSettings
from tests.e2e.support import (
    BERLIN,
    BERLIN_STORE,
    CANCEL,
    PLACE,
    SHOE,
    Stack,
    error_of,
    gateway,
    ok,
    order_input,
    place,
    rows,
    square_in_stock,
)

PLAN = """query ($input: FulfillmentPlanInput!) { fulfillmentPlan(input: $input) {
  strategy complete promisedDate
  shipments { locationId service distanceKm parcels arrivalDate transferTo
              lines { sku quantity } shippingCost { minorUnits } handlingCost { minorUnits } }
  unfulfillable { sku quantity available reason }
  cost { shipping { minorUnits } handling { minorUnits } splitPenalty { minorUnits }
         total { minorUnits currency } }
  alternativeStores { locationId distanceKm }
  explanation { summary tieBreak notes plansCompared searchComplete
    candidates(first: 500) { locationId verdict rejection detail unitsAvailable score { minorUnits } } }
} }"""
ROUTED = """query ($id: ID!) { order(id: $id) { routing { strategy
  plan { shipments { locationId transferTo lines { sku quantity } } }
  replay { samePlan } } } }"""


# Warehouses made dear, so stores ship (and split) in these tests.
STORES_SHIP = RoutingSettings(
    warehouse=NodeTermsSettings(daily_capacity=5000, cutoff="23:59", handling_per_order=10**7)
)


def shipped_by_two_stores(dataset) -> str:
    """A SKU at least two ship-from-store stores stock, so a split between them exists."""
    shippers = [s for s in dataset.stores if s.ship_from_store]
    for sku in dataset.sellable_skus:
        if sku in dataset.kits:
            continue
        stocked = [
            s for s in shippers if (dataset.store_count(sku, s.id) or {}).get("IN_STOCK", 0) >= 3
        ]
        if len(stocked) >= 2:
            return sku
    raise AssertionError("the sample data has no SKU two shipping stores stock")


def delivery_plan(lines: list[tuple[str, int]], **more: Any) -> dict[str, Any]:
    return {"lines": [{"sku": s, "quantity": q} for s, q in lines], "destination": BERLIN, **more}


def held_by_node(order: dict[str, Any]) -> dict[str, int]:
    held: dict[str, int] = {}
    for line in order["lines"]:
        held[line["locationId"]] = held.get(line["locationId"], 0) + line["quantity"]
    return held


async def test_the_checkout_dry_run_explains_every_node_and_holds_nothing(stack: Stack) -> None:
    plan = (await ok(stack.gql, PLAN, input=delivery_plan([(SHOE, 1)])))["fulfillmentPlan"]

    assert plan["strategy"] == "COST" and plan["complete"]
    (shipment,) = plan["shipments"]
    assert shipment["lines"] == [{"sku": SHOE, "quantity": 1}]
    assert plan["promisedDate"] == shipment["arrivalDate"]
    cost = plan["cost"]
    assert cost["total"]["minorUnits"] == (
        cost["shipping"]["minorUnits"]
        + cost["handling"]["minorUnits"]
        + cost["splitPenalty"]["minorUnits"]
    )
    assert plan["explanation"]["summary"].startswith("1 shipment: ")
    candidates = {c["locationId"]: c for c in plan["explanation"]["candidates"]}
    assert candidates[shipment["locationId"]]["verdict"] == "CHOSEN"
    # Every node that ships online orders is accounted for, and none is left unexplained.
    online = await ok(
        stack.gql,
        """{ locations(capability: null) { id type capabilities } }""",
    )
    shipping_nodes = {
        x["id"]
        for x in online["locations"]
        if x["type"] == "WAREHOUSE" or "SHIP_FROM_STORE" in x["capabilities"]
    }
    assert shipping_nodes <= set(candidates)
    for c in candidates.values():
        if c["verdict"] == "REJECTED":
            assert c["rejection"] and c["detail"]
        else:
            assert c["score"] is not None
    # A dry run holds nothing.
    assert all(r["held"] == 0 for r in (await rows(stack.gql, SHOE)).values())


async def test_given_stores_are_cheaper_when_no_store_has_enough_then_the_order_splits(
    dataset,
    tmp_path,
) -> None:
    sku = shipped_by_two_stores(dataset)
    async with gateway(dataset, tmp_path, routing=STORES_SHIP) as live:
        plan = await ok(live.gql, PLAN, input=delivery_plan([(sku, 1)]))
        stores = [
            c
            for c in plan["fulfillmentPlan"]["explanation"]["candidates"]
            if c["verdict"] != "REJECTED" and c["locationId"].startswith("ST-")
        ]
        by_node = await rows(live.gql, sku)
        most = max(by_node[c["locationId"]]["availableToPromise"] for c in stores)
        quantity = most + 1  # no store can ship it alone
        before = {
            c["locationId"]: square_in_stock(
                live.apps, sku, by_node[c["locationId"]]["location"]["sourceRef"]
            )
            for c in stores
        }

        order = await place(live, "split-1", email="sam@example.org", lines=[(sku, quantity)])

        held = held_by_node(order)
        assert len(held) >= 2 and sum(held.values()) == quantity
        assert all(node.startswith("ST-") for node in held)
        after = await rows(live.gql, sku)
        for node, units in held.items():
            assert units <= by_node[node]["availableToPromise"]
            assert after[node]["held"] == units
        routing = (await ok(live.gql, ROUTED, id=order["id"]))["order"]["routing"]
        assert {s["locationId"] for s in routing["plan"]["shipments"]} == set(held)
        assert routing["replay"]["samePlan"] is True

        # Cancelling gives every node its units back, in the gateway and in Square.
        await live.drain()
        for node, units in held.items():
            ref = by_node[node]["location"]["sourceRef"]
            assert square_in_stock(live.apps, sku, ref) == before[node] - units
        await ok(live.gql, CANCEL, id=order["id"], key="split-1-cancel")
        await live.drain()
        final = await rows(live.gql, sku)
        for node in held:
            assert final[node]["held"] == 0
            ref = by_node[node]["location"]["sourceRef"]
            assert square_in_stock(live.apps, sku, ref) == before[node]


async def test_a_pickup_its_store_cannot_fill_needs_consent_to_a_transfer(stack: Stack) -> None:
    at_store = (await rows(stack.gql, SHOE))[BERLIN_STORE]["availableToPromise"]
    quantity = at_store + 2
    plan = (
        await ok(
            stack.gql,
            PLAN,
            input={
                "lines": [{"sku": SHOE, "quantity": quantity}],
                "pickupLocationId": BERLIN_STORE,
            },
        )
    )["fulfillmentPlan"]
    assert plan["strategy"] == "PICKUP" and plan["complete"]
    transfers = [s for s in plan["shipments"] if s["transferTo"] == BERLIN_STORE]
    kept = [s for s in plan["shipments"] if s["locationId"] == BERLIN_STORE]
    assert sum(x["quantity"] for s in transfers for x in s["lines"]) == quantity - at_store
    assert sum(x["quantity"] for s in kept for x in s["lines"]) == at_store
    assert any(n.startswith("transfer from ") for n in plan["explanation"]["notes"])

    refused = await error_of(
        stack.gql,
        PLACE,
        input=order_input("pat@example.org", [(SHOE, quantity)], pickup=BERLIN_STORE),
        key="pickup-1",
    )
    assert refused["code"] == "INSUFFICIENT_STOCK"
    assert refused["shortfalls"] == [
        {"sku": SHOE, "locationId": BERLIN_STORE, "requested": quantity, "available": at_store}
    ]

    consenting = order_input("pat@example.org", [(SHOE, quantity)], pickup=BERLIN_STORE)
    consenting["allowTransfer"] = True
    order = (await ok(stack.gql, PLACE, input=consenting, key="pickup-2"))["placeOrder"]
    assert order["pickupLocationId"] == BERLIN_STORE
    assert sum(held_by_node(order).values()) == quantity
    routing = (await ok(stack.gql, ROUTED, id=order["id"]))["order"]["routing"]
    assert routing["strategy"] == "PICKUP"
    assert {s["transferTo"] for s in routing["plan"]["shipments"]} >= {BERLIN_STORE}


async def test_units_routed_today_use_up_a_nodes_pick_capacity(dataset, tmp_path) -> None:
    tight = RoutingSettings(
        warehouse=STORES_SHIP.warehouse,
        store=NodeTermsSettings(daily_capacity=2, cutoff="23:59", handling_per_order=250),
    )
    async with gateway(dataset, tmp_path, routing=tight) as live:
        order = await place(live, "cap-1", email="cap@example.org", lines=[(SHOE, 2)])
        (node,) = held_by_node(order)

        plan = (await ok(live.gql, PLAN, input=delivery_plan([(SHOE, 1)])))["fulfillmentPlan"]

        verdict = next(c for c in plan["explanation"]["candidates"] if c["locationId"] == node)
        assert (verdict["verdict"], verdict["rejection"]) == ("REJECTED", "OVER_CAPACITY")
        assert node not in {s["locationId"] for s in plan["shipments"]}


async def test_questions_the_router_cannot_answer_get_clear_errors(stack: Stack) -> None:
    async def code_of(plan_input: dict[str, Any]) -> tuple[str, str]:
        body = await stack.gql(PLAN, input=plan_input)
        (error,) = body["errors"]
        return error["extensions"]["code"], error["message"]

    lines = [{"sku": SHOE, "quantity": 1}]
    assert (await code_of({"lines": lines}))[0] == "BAD_USER_INPUT"
    both = {"lines": lines, "destination": BERLIN, "pickupLocationId": BERLIN_STORE}
    assert (await code_of(both))[0] == "BAD_USER_INPUT"
    code, message = await code_of(delivery_plan([("NO-SUCH-SKU", 1)]))
    assert code == "NOT_FOUND" and "NO-SUCH-SKU" in message
    code, message = await code_of(delivery_plan([(SHOE, 1)], deliverBy="2020-01-01"))
    assert code == "BAD_USER_INPUT" and "in the past" in message
    code, message = await code_of(delivery_plan([(SHOE, 1)], serviceLevel="TELEPORT"))
    assert code == "BAD_USER_INPUT" and "STANDARD" in message
    code, _ = await code_of(delivery_plan([(SHOE, 1)], strategy="PICKUP"))
    assert code == "BAD_USER_INPUT"
    code, _ = await code_of(delivery_plan([(SHOE, 0)]))
    assert code == "BAD_USER_INPUT"
