"""The promise cap (TRUTH__OVERSELL_RISK_PROMISE_CAP) on SQLite and PostgreSQL: while a SKU
has an open OVERSELL_RISK, each node offers and holds at most the cap, holds outstanding
included; the figure a reconcile compares with the copies is never capped."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.config import TruthSettings
from gateway.domain import Channel, SourceSystem
from gateway.domain.reservations import ReservationLine
from gateway.domain.truth import (
    Discrepancy,
    DiscrepancyKey,
    DiscrepancyKind,
    Figure,
    Finding,
    Resolution,
    Severity,
)
from gateway.errors import InsufficientStock
from gateway.services.reservations import ReserveRequest
from gateway.truth import queue
from tests.pg import temporary_database
from tests.services.world import World

SHOE, SOCK, KIT = "SHOE-42", "SOCK-M", "KIT-RUN"
CAP = 3
# small_retailer: WH-CENTRAL has 10 shoes, 2 reserved at the ERP, and 40 socks.
CENTRAL_SHOES, CENTRAL_SOCKS = 8, 40


@pytest.fixture(params=["sqlite", "postgresql"])
async def world(request, make_world) -> AsyncIterator[World]:
    capped = {"truth": {"oversell_risk_promise_cap": CAP}}
    if request.param == "sqlite":
        yield await make_world(**capped)
        return
    async with temporary_database() as url:
        yield await make_world(database_url=url, **capped)


def hold(sku: str, quantity: int) -> ReserveRequest:
    return ReserveRequest((ReservationLine(sku, quantity),), "WH-CENTRAL", Channel.ONLINE, 600)


async def oversell_risk(world: World, sku: str) -> Discrepancy:
    finding = Finding(
        DiscrepancyKey(DiscrepancyKind.OVERSELL_RISK, sku, "", SourceSystem.STOREFRONT),
        Figure(SourceSystem.GATEWAY, "5"),
        Figure(SourceSystem.STOREFRONT, "50"),
        Severity.HIGH,
        "copy above truth",
        delta=45,
    )
    record = queue.opened(finding, f"dsc_{sku}", world.clock.now(), TruthSettings())
    async with world.uow() as uow:
        await uow.discrepancies.add([record])
        await uow.commit()
    return record


async def resolve(world: World, record: Discrepancy) -> None:
    closed = queue.resolved(record, Resolution.FIXED, world.clock.now(), "kim", None)
    async with world.uow() as uow:
        await uow.discrepancies.save([closed])
        await uow.commit()


async def test_an_oversold_sku_offers_and_holds_at_most_the_cap_until_its_record_closes(world):
    reservations = world.services.reservations
    online = await world.services.availability.channel_totals([SHOE], Channel.ONLINE)
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES
    # Given an open OVERSELL_RISK on the shoe
    record = await oversell_risk(world, SHOE)
    # then the warehouse offers the cap, and keeps back what lies above it;
    row = await world.node(SHOE, "WH-CENTRAL")
    assert (row.available_to_promise, row.safety_stock) == (CAP, CENTRAL_SHOES - CAP)
    assert await world.atp(SHOE, "ST-MITTE") == 2  # below the cap: as it was
    assert await world.atp(SOCK, "WH-CENTRAL") == CENTRAL_SOCKS  # another SKU: not capped
    # a hold within the cap is taken, and counts against it: the next one is refused.
    await reservations.reserve(hold(SHOE, 2), "k1")
    with pytest.raises(InsufficientStock) as refused:
        await reservations.reserve(hold(SHOE, 2), "k2")
    assert refused.value.details["shortfalls"][0]["available"] == CAP - 2
    # The ONLINE figure a reconcile compares with the storefront is the uncapped truth,
    # less the hold, or correcting the copy would move the truth it is corrected to.
    during = await world.services.availability.channel_totals([SHOE], Channel.ONLINE)
    assert during[SHOE].available == online[SHOE].available - 2
    # When the record closes, the node offers all it has again.
    await resolve(world, record)
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES - 2
    assert (await reservations.reserve(hold(SHOE, 4), "k3")).lines[0].quantity == 4


async def test_a_capped_component_caps_the_kits_it_is_in_and_only_itself(world):
    # Given an open OVERSELL_RISK on the shoe, one of the running kit's parts
    await oversell_risk(world, SHOE)
    # then the kit is offered at the cap, the loose socks as before,
    assert await world.atp(KIT, "WH-CENTRAL") == CAP
    assert await world.atp(SOCK, "WH-CENTRAL") == CENTRAL_SOCKS
    # and a hold on more kits than the cap is refused on the shoe; one within it is taken.
    with pytest.raises(InsufficientStock) as refused:
        await world.services.reservations.reserve(hold(KIT, CAP + 1), "k1")
    assert [s["sku"] for s in refused.value.details["shortfalls"]] == [SHOE]
    assert (await world.services.reservations.reserve(hold(KIT, CAP), "k2")).lines[
        0
    ].quantity == CAP
    assert await world.atp(KIT, "WH-CENTRAL") == 0
    assert await world.atp(SOCK, "WH-CENTRAL") == CENTRAL_SOCKS - 3 * CAP
