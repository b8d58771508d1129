"""An order the router splits over two nodes, on SQLite and on PostgreSQL: both holds are
taken in one transaction, each node's source of truth is owed its own write, and
cancelling gives both back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.config import NodeTermsSettings, RoutingSettings
from gateway.domain import Channel, GeoPoint
from gateway.domain.documents import PostalAddress
from gateway.domain.reservations import ReservationLine
from gateway.services.orders.draft import PlaceOrderRequest
from tests.pg import temporary_database
from tests.services.world import World

# Warehouses that can pick one unit a day: the Mitte store ships what it can, one
# warehouse the rest.
ONE_UNIT_WAREHOUSES = RoutingSettings(
    warehouse=NodeTermsSettings(daily_capacity=1, cutoff="23:59", handling_per_order=150)
)
BERLIN = PostalAddress(
    "Kim", "Invalidenstr. 44", "Berlin", "10115", "DE", point=GeoPoint(52.52, 13.40)
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def world(request, make_world) -> AsyncIterator[World]:
    if request.param == "sqlite":
        yield await make_world(routing=ONE_UNIT_WAREHOUSES)
        return
    async with temporary_database() as url:
        yield await make_world(routing=ONE_UNIT_WAREHOUSES, database_url=url)


async def test_a_split_order_holds_at_both_nodes_and_cancelling_returns_both(world: World):
    before = {n: await world.atp("SHOE-42", n) for n in ("ST-MITTE", "WH-CENTRAL")}
    assert before["ST-MITTE"] < 3  # the store alone cannot ship 3

    order = await world.services.placement.place(
        PlaceOrderRequest(
            lines=(ReservationLine("SHOE-42", 3),),
            channel=Channel.ONLINE,
            email="kim@example.com",
            name="Kim",
            delivery=BERLIN,
        ),
        key="split-1",
    )

    held = {line.location_id: line.quantity for line in order.lines}
    assert held == {"ST-MITTE": before["ST-MITTE"], "WH-CENTRAL": 3 - before["ST-MITTE"]}
    for node, units in held.items():
        assert await world.atp("SHOE-42", node) == before[node] - units
    owed = {d.message.kind: d.message.reference for d in await world.deliveries(order.id)}
    assert owed["erp.submit_sales_order"] == f"{order.id}@WH-CENTRAL"
    assert owed["pos.record_sale"] == f"{order.id}@ST-MITTE:sale:SHOE-42"
    (decision,) = (await world.services.orders.routing_decisions([order.id])).values()
    assert {s["node_id"] for s in decision.plan["shipments"]} == set(held)

    await world.services.lifecycle.cancel(order.id, key="split-1-cancel")

    for node in held:
        assert await world.atp("SHOE-42", node) == before[node]
