"""Customer data is shown in full only to a caller holding the pii:read scope; a support
agent without it sees enough to talk about the order, not to reach the customer."""

from __future__ import annotations

from typing import Any

from tests.e2e.support import SHOE, Stack, place
from tests.identity import bearer, token

ORDER = """query ($id: ID!) { order(id: $id) { id status customerEmail customerName
  deliveryAddress { name line1 line2 city postalCode countryCode lat lng } } }"""


async def order_as(stack: Stack, order_id: str, scopes: str | None) -> dict[str, Any]:
    assert stack.gql.http is not None
    headers = bearer(token(["SUPPORT"], sub="agent-7", scopes=scopes))
    answer = await stack.gql.http.post(
        "/graphql", json={"query": ORDER, "variables": {"id": order_id}}, headers=headers
    )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]["order"]


async def test_support_without_pii_read_sees_customer_data_masked(stack: Stack):
    placed = await place(stack, "pii-1", email="ann.example@example.org", lines=[(SHOE, 1)])

    masked = await order_as(stack, placed["id"], scopes=None)
    assert masked["customerEmail"] == "a***@example.org"
    assert masked["customerName"] == "A. E."
    assert masked["deliveryAddress"] == {
        "name": "A. E.",
        "line1": "***",
        "line2": None,
        "city": "Berlin",
        "postalCode": "10***",
        "countryCode": "DE",
        "lat": None,
        "lng": None,
    }
    assert masked["status"] and masked["id"] == placed["id"]

    full = await order_as(stack, placed["id"], scopes="orders:read pii:read")
    assert full["customerEmail"] == "ann.example@example.org"
    assert full["customerName"] == "Ann Example"
    assert full["deliveryAddress"]["line1"] == "Invalidenstrasse 44"
    assert full["deliveryAddress"]["postalCode"] == "10115"
