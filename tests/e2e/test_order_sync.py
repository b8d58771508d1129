"""syncOrder: the canonical status follows what the OMS reports (FulfillmentOrder status,
fulfilments with tracking), forward only."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.support import Stack, ok, place

SYNC = """mutation ($id: ID!, $key: String!) { syncOrder(id: $id, idempotencyKey: $key) {
  status systems { system id status } tracking { company number }
  timeline { kind source fromStatus toStatus detail } } }"""


async def oms_graphql(opened: Stack, query: str, **variables: Any) -> dict[str, Any]:
    settings = opened.settings()
    async with httpx.AsyncClient(base_url=settings.oms_base_url) as client:
        response = await client.post(
            f"/admin/api/{settings.oms_api_version}/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": settings.oms_access_token},
        )
    response.raise_for_status()
    return response.json()


async def mark_fulfillment_order(opened: Stack, fulfillment_order_id: str, status: str) -> None:
    settings = opened.settings()
    async with httpx.AsyncClient(base_url=settings.oms_base_url) as client:
        response = await client.post(
            f"/_sandbox/fulfillment_orders/{fulfillment_order_id}/status", json={"status": status}
        )
    assert response.status_code == 200, response.text


async def test_given_the_oms_reports_picking_then_shipped_when_synced_then_the_order_follows(
    stack: Stack,
):
    # Given a delivery order the OMS knows,
    order = await place(stack, "sync-1", email="sam@example.org", lines=[("SHOE-TRAIL-42", 1)])
    await stack.drain()
    (oms_order,) = [
        o
        for o in stack.apps["oms"].state.shop.orders.values()
        if o.source_identifier == order["id"]
    ]
    fulfillment_order_ids = [
        fo.id
        for fo in stack.apps["oms"].state.shop.fulfillment_orders.values()
        if fo.order_id == oms_order.id
    ]

    # when the warehouse starts picking in the OMS and the order is synced,
    for fo_id in fulfillment_order_ids:
        await mark_fulfillment_order(stack, fo_id, "IN_PROGRESS")
    picking = (await ok(stack.gql, SYNC, id=order["id"], key="sync-1a"))["syncOrder"]
    # then it is PICKING, with the OMS named as the reason on its timeline;
    assert picking["status"] == "PICKING"
    assert {"system": "OMS", "id": oms_order.id, "status": "IN_PROGRESS"} in picking["systems"]
    last = picking["timeline"][-1]
    assert (last["source"], last["fromStatus"], last["toStatus"]) == ("OMS", "ALLOCATED", "PICKING")

    # and when the OMS records the shipment with tracking, a sync makes it SHIPPED with it.
    for fo_id in fulfillment_order_ids:
        shipped = await oms_graphql(
            stack,
            """mutation ($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
                 fulfillment { id status } userErrors { field message } } }""",
            f={
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_id}],
                "trackingInfo": {"company": "DHL", "number": "00340434161234567890"},
            },
        )
        assert shipped["data"]["fulfillmentCreate"]["userErrors"] == [], shipped
    done = (await ok(stack.gql, SYNC, id=order["id"], key="sync-1b"))["syncOrder"]
    assert done["status"] == "SHIPPED"
    assert {"company": "DHL", "number": "00340434161234567890"} in done["tracking"]

    # Syncing again with nothing new changes nothing.
    again = (await ok(stack.gql, SYNC, id=order["id"], key="sync-1c"))["syncOrder"]
    assert again["status"] == "SHIPPED"
    assert len(again["timeline"]) == len(done["timeline"])
