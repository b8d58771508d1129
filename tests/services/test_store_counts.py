"""The stores' counts a full reconcile keeps and brings up to date by asking the POS what
changed (gateway.truth.store_counts), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.config import TruthSettings
from gateway.domain import SourceSystem, StockReading, StoreSum
from gateway.domain.truth import DiscrepancyKey, DiscrepancyKind
from gateway.ports.storage import SyncMark
from gateway.truth.store_counts import StoreCountCopy
from tests.fakes import AS_OF

POS = SourceSystem.POS


def reading(world, sku: str, store: str, on_hand: int, reserved: int = 0) -> StockReading:
    """A count read now; the copy gives it back as fetched when its SKU was read (the
    ledger's holds are weighed against that, not against Square's clock)."""
    now = world.clock.now()
    return StockReading(sku, POS, store, on_hand, reserved, now, 2, fetched_at=now)


async def test_kept_counts_come_back_as_read_or_summed_until_forgotten_or_too_old(world):
    now = world.clock.now()
    kept = {
        "SHOE-42": [reading(world, "SHOE-42", "LMITTE", 3), reading(world, "SHOE-42", "LX", 5, 1)],
        "SOCK-M": [],  # read: no store holds any
    }
    sums = {"SHOE-42": StoreSum(5, 8, now), "SOCK-M": StoreSum(0, 0, None)}
    async with world.uow() as uow:
        await uow.store_counts.replace(kept, sums, {"SHOE-42": "VSHOE", "SOCK-M": None}, now)
        await uow.store_counts.set_mark("pos", SyncMark(now, "abc"))
        await uow.commit()
    async with world.uow() as uow:
        skus = ["SHOE-42", "SOCK-M", "NEVER"]
        one_by_one = await uow.store_counts.of(skus, read_since=now, one_by_one=set(skus))
        summed = await uow.store_counts.of(skus, read_since=now, one_by_one={"SOCK-M"})
        too_old = await uow.store_counts.of(
            ["SHOE-42"], read_since=now + timedelta(seconds=1), one_by_one=()
        )
        owners = await uow.store_counts.skus_of({"VSHOE", "VOTHER"})
        mark = await uow.store_counts.mark("pos")
    found, none_summed = one_by_one
    assert sorted(found["SHOE-42"], key=lambda r: r.location_ref) == kept["SHOE-42"]
    assert found["SOCK-M"] == [] and "NEVER" not in found and none_summed == {}
    assert summed == ({"SOCK-M": []}, {"SHOE-42": StoreSum(5, 8, now)})
    assert too_old == ({}, {})
    assert owners == {"SHOE-42"}
    assert mark == SyncMark(now, "abc")

    # Read again: the new figures replace the old ones, none are left over.
    async with world.uow() as uow:
        await uow.store_counts.replace(
            {"SHOE-42": [reading(world, "SHOE-42", "LX", 4)]},
            {"SHOE-42": StoreSum(3, 4, now)},
            {"SHOE-42": "VSHOE"},
            now,
        )
        await uow.store_counts.forget(["SOCK-M"])
        await uow.commit()
    async with world.uow() as uow:
        found, _ = await uow.store_counts.of(
            ["SHOE-42", "SOCK-M"], read_since=now, one_by_one={"SHOE-42", "SOCK-M"}
        )
    assert found == {"SHOE-42": [reading(world, "SHOE-42", "LX", 4)]}

    # Kept as a sum only (not wanted one by one when read): its counts are not kept, so a
    # page that now needs them one by one is told to read them again, never given none.
    async with world.uow() as uow:
        await uow.store_counts.replace(
            {}, {"SHOE-42": StoreSum(6, 6, now)}, {"SHOE-42": "VSHOE"}, now
        )
        await uow.commit()
    async with world.uow() as uow:
        wanted = await uow.store_counts.of(["SHOE-42"], read_since=now, one_by_one={"SHOE-42"})
        summed_only = await uow.store_counts.of(["SHOE-42"], read_since=now, one_by_one=())
    assert wanted == ({}, {})
    assert summed_only == ({}, {"SHOE-42": StoreSum(6, 6, now)})


async def test_two_pages_keeping_one_skus_counts_at_once_both_succeed(world):
    # A kit component sits on several pages, which a reconcile works on side by side: both
    # keep its counts in transactions that overlap (on PostgreSQL the second waited, then
    # failed on the first's rows), and the copy ends as one of them read it.
    now = world.clock.now()
    first = [reading(world, "SOCK-M", "LMITTE", 3), reading(world, "SOCK-M", "LPOTS", 1)]
    second = [reading(world, "SOCK-M", "LMITTE", 2), reading(world, "SOCK-M", "LPOTS", 1)]
    gate = asyncio.Event()

    async def keep(readings, wait: bool) -> None:
        async with world.uow() as uow:
            if wait:
                await gate.wait()
            await uow.store_counts.replace(
                {"SOCK-M": readings}, {"SOCK-M": StoreSum(0, 4, now)}, {"SOCK-M": "VSOCK"}, now
            )
            if not wait:
                gate.set()
                await asyncio.sleep(0.2)  # the other writes while this one is still open
            await uow.commit()

    await asyncio.wait_for(asyncio.gather(keep(first, False), keep(second, True)), 30)
    async with world.uow() as uow:
        found, _ = await uow.store_counts.of(["SOCK-M"], read_since=now, one_by_one={"SOCK-M"})
    assert sorted((r.location_ref, r.on_hand) for r in found["SOCK-M"]) == [
        ("LMITTE", 2),
        ("LPOTS", 1),
    ]


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_copy_reads_a_sku_once_then_only_when_the_pos_says_it_changed(world):
    ticks = Ticks()
    copy = StoreCountCopy(world.uow, world.pos, world.clock, TruthSettings(), monotonic=ticks)
    ids = {"SHOE-42": "VSHOE"}
    stores = {"LMITTE": 1, "LPOTS": 0}

    async def read(one_by_one=("SHOE-42",), at=stores):
        readings, sums = await copy.stock(["SHOE-42"], at, set(one_by_one), ids)
        return [(r.location_ref, r.on_hand) for r in readings], sums

    first = await read()
    assert first == ([("LMITTE", 3), ("LPOTS", 8)], {})
    assert await read() == first
    # Added up: Mitte 3 less 1 kept back, Potsdam 8 less 1 reserved; 11 on hand.
    assert await read(one_by_one=()) == ([], {"SHOE-42": StoreSum(9, 11, AS_OF)})
    assert world.pos.calls["stock"] == 1

    # A till sale at Mitte: the next look (due after the interval) forgets the SKU, so the
    # next read is a full one and sees it.
    world.clock.advance(30)
    await world.pos.record_sale("till-1", "SHOE-42", "LMITTE", 2, world.clock.now())
    assert await read() == first  # not due yet
    ticks.now += TruthSettings().store_counts_delta_seconds
    assert await read() == ([("LMITTE", 1), ("LPOTS", 8)], {})
    assert world.pos.calls["stock"] == 2
    # The next look still reports that sale (it starts two minutes before the newest change
    # seen): not news, so nothing is read again.
    ticks.now += TruthSettings().store_counts_delta_seconds
    assert await read() == ([("LMITTE", 1), ("LPOTS", 8)], {})
    assert world.pos.calls["stock"] == 2 and world.pos.calls["stock_changes"] == 2

    # Other stores, or other safety stock: nothing kept is trusted. A day later: read again.
    copy.begin_run()
    await read(at={"LMITTE": 1})
    copy.begin_run()
    await read(at={"LMITTE": 2})
    assert world.pos.calls["stock"] == 4
    world.clock.advance(TruthSettings().store_counts_reread_hours * 3600 + 1)
    copy.begin_run()
    await read(at={"LMITTE": 2})
    assert world.pos.calls["stock"] == 5


async def test_a_sku_kept_as_a_sum_is_read_again_when_needed_one_by_one(world):
    # A hold taken at a store since the last run: its page needs that SKU's counts store by
    # store, which the copy did not keep.
    copy = StoreCountCopy(world.uow, world.pos, world.clock, TruthSettings())
    stores = {"LMITTE": 1, "LPOTS": 0}
    readings, sums = await copy.stock(["SHOE-42"], stores, set(), {"SHOE-42": "VSHOE"})
    assert (readings, sums) == ([], {"SHOE-42": StoreSum(9, 11, AS_OF)})
    readings, sums = await copy.stock(["SHOE-42"], stores, {"SHOE-42"}, {"SHOE-42": "VSHOE"})
    assert sorted((r.location_ref, r.on_hand) for r in readings) == [("LMITTE", 3), ("LPOTS", 8)]
    assert sums == {} and world.pos.calls["stock"] == 2


async def test_full_reconciles_read_the_stores_once_and_see_a_till_sale_after(world):
    reconcile = world.services.reconciler.run
    lost_sales = DiscrepancyKey(DiscrepancyKind.LOST_SALES, "SHOE-42", "", SourceSystem.STOREFRONT)

    async def truth() -> str:
        async with world.uow() as uow:
            return (await uow.discrepancies.of_skus(["SHOE-42"]))[lost_sales].truth.value

    await reconcile()
    reads = world.pos.calls["stock"]
    # The storefront shows the shoe sold out; the ONLINE truth is Central 8 + North 0 +
    # Mitte 3 less its safety stock of 1.
    assert await truth() == "10"

    await reconcile()
    assert world.pos.calls["stock"] == reads  # nothing changed: no store count read again
    assert world.pos.calls["stock_changes"] == 1  # the first run had nothing to bring up to date

    world.clock.advance(60)
    await world.pos.record_sale("till-2", "SHOE-42", "LMITTE", 2, world.clock.now())
    await reconcile()
    assert world.pos.calls["stock"] == reads + 1
    assert await truth() == "8"


async def test_a_read_only_unit_of_work_reads_while_a_page_writes_and_cannot_commit(world):
    # A reconcile's reads (kept sums, the ledger) do not queue behind another page's
    # writes: they read what was committed before it.
    now = world.clock.now()
    async with world.uow() as uow:
        await uow.store_counts.replace({}, {"SHOE-42": StoreSum(5, 8, now)}, {}, now)
        await uow.commit()
    async with world.uow() as writer:
        await writer.store_counts.replace({}, {"SHOE-42": StoreSum(1, 1, now)}, {}, now)

        async def read() -> dict[str, StoreSum]:
            async with world.uow(read_only=True) as reader:
                return (await reader.store_counts.of(["SHOE-42"], read_since=now, one_by_one=()))[1]

        assert await asyncio.wait_for(read(), 5) == {"SHOE-42": StoreSum(5, 8, now)}
        await writer.commit()

    async with world.uow(read_only=True) as reader:
        await reader.store_counts.forget(["SHOE-42"])
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.commit()
    async with world.uow(read_only=True) as reader:
        _, sums = await reader.store_counts.of(["SHOE-42"], read_since=now, one_by_one=())
    assert sums == {"SHOE-42": StoreSum(1, 1, now)}  # the write in it was not kept
