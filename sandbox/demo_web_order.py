"""The demo's web-order flow (``--check``): a WooCommerce checkout order for local pickup,
followed through allocation, pickup and return, with each system's own status at each step
(what a support agent sees in ``Order.systems``)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from adapters.woocommerce import build_woocommerce_client
from gateway.config import Settings
from sandbox.demo import FlowFailed, Summary, _ask, _data, _settled

SKU = "SHOE-TRAIL-42"
STORE = "Berlin Store"
FIELDS = "id status channel pickupLocationId systems { system id status }"
ORDER = f"query ($id: ID!) {{ order(id: $id) {{ {FIELDS} }} }}"
READY = f"""mutation ($id: ID!, $key: String!) {{
  markReadyForPickup(id: $id, idempotencyKey: $key) {{ {FIELDS} }} }}"""
COLLECTED = f"""mutation ($id: ID!, $key: String!) {{
  confirmPickup(id: $id, idempotencyKey: $key) {{ {FIELDS} }} }}"""
RETURN = """mutation ($id: ID!, $lines: [ReturnLineInput!]!, $key: String!) {
  requestReturn(orderId: $id, lines: $lines, idempotencyKey: $key) { id } }"""
TIMELINE = "query ($id: ID!) { order(id: $id) { timeline { at kind source detail } } }"
RECEIVE = """mutation ($id: ID!, $key: String!) {
  receiveReturn(id: $id, idempotencyKey: $key) { id status } }"""
CUSTOMER = {
    "first_name": "Lena",
    "last_name": "Okafor",
    "address_1": "Kastanienallee 12",
    "city": "Berlin",
    "postcode": "10435",
    "country": "DE",
    "email": "lena@example.org",
}


def each_system(order: dict[str, Any]) -> str:
    return " | ".join(f"{s['system']} {s['status']}" for s in order["systems"])


async def web_order_flow(url: str, settings: Settings) -> Summary:
    summary = Summary()
    run = uuid.uuid4().hex[:8]
    try:
        web_id = await _checkout(settings)
        order_id = f"web_{web_id}"
        summary.say(f"WooCommerce checkout -> order #{web_id}, local pickup at {STORE}")
        order = await _imported(url, order_id)
        await _settled(url, order_id)
        order = (await _data(url, ORDER, id=order_id))["order"]
        summary.say(f"allocated   -> {order['pickupLocationId']}: {each_system(order)}")
        await _data(url, READY, id=order_id, key=f"demo-{run}-web-ready")
        await _settled(url, order_id)
        order = (await _data(url, ORDER, id=order_id))["order"]
        summary.say(f"ready       -> {each_system(order)}")
        await _data(url, COLLECTED, id=order_id, key=f"demo-{run}-web-collect")
        await _settled(url, order_id)
        order = (await _data(url, ORDER, id=order_id))["order"]
        summary.say(f"collected   -> {each_system(order)}")
        line = {"sku": SKU, "quantity": 1, "reason": "SIZE_OR_FIT", "condition": "NEW"}
        opened = await _data(url, RETURN, id=order_id, lines=[line], key=f"demo-{run}-web-ret")
        returned = opened["requestReturn"]["id"]
        await _data(url, RECEIVE, id=returned, key=f"demo-{run}-web-receive")
        await _settled(url, order_id)
        order = (await _data(url, ORDER, id=order_id))["order"]
        summary.say(f"returned    -> {each_system(order)}")
        web = next(s for s in order["systems"] if s["system"] == "STOREFRONT")
        summary.ok = order["status"] == "RETURNED" and web["status"] == "refunded"
        if not summary.ok:
            # What each system reported, in order: the clue to which read came late.
            timeline = (await _data(url, TIMELINE, id=order_id))["order"]["timeline"]
            summary.lines.extend(
                f"    {e['at']} {e['source']} {e['kind']} {e['detail']}" for e in timeline
            )
    except FlowFailed as failure:
        summary.say(f"FAILED: {failure}")
        summary.ok = False
    return summary


async def _checkout(settings: Settings) -> int:
    """A paid order at the WooCommerce simulator's checkout (its REST API, as the shop's
    own checkout would create it)."""
    body = {
        "payment_method": "stripe",
        "set_paid": True,
        "billing": CUSTOMER,
        "shipping": CUSTOMER,
        "line_items": [{"sku": SKU, "quantity": 1}],
        "shipping_lines": [
            {
                "method_id": "pickup_location",
                "method_title": "Pickup",
                "total": "0.00",
                "meta_data": [{"key": "pickup_location", "value": STORE}],
            }
        ],
    }
    async with build_woocommerce_client(settings) as client:
        response = await client.post("orders", json=body)
    if response.status_code != 201:
        raise FlowFailed(f"WooCommerce checkout refused: {response.text[:300]}")
    return int(response.json()["id"])


async def _imported(url: str, order_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Wait for the gateway's web-order import to allocate it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        body = await _ask(url, "query ($id: ID!) { order(id: $id) { id status } }", id=order_id)
        found = (body.get("data") or {}).get("order")
        if found is not None and found["status"] == "ALLOCATED":
            return dict(found)
        if loop.time() > deadline:
            raise FlowFailed(f"{order_id} not allocated in {timeout:.0f} s: {body}")
        await asyncio.sleep(0.25)
