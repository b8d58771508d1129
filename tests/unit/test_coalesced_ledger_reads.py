"""Ledger reads asked while one is under way share the next query
(gateway.persistence.ledger_reads.CoalescedLedgerReads)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.reservations import LedgerEntry, LedgerKind
from gateway.persistence.ledger_reads import CoalescedLedgerReads

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class SlowLedger:
    """Answers one entry per SKU asked, after a pause; records every query it was asked."""

    def __init__(self) -> None:
        self.queries: list[tuple[list[str], datetime, datetime]] = []
        self.tracer = None
        self.fail_next = False

    async def entries(
        self, skus: Sequence[str], *, now: datetime, applied_after: datetime
    ) -> list[LedgerEntry]:
        self.queries.append((list(skus), now, applied_after))
        await asyncio.sleep(0.01)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the database went away")
        return [LedgerEntry(sku, "ST-1", LedgerKind.HOLD, 1, None) for sku in skus]

    async def close(self) -> None:
        return None


async def test_reads_arriving_during_a_query_share_the_next_one_and_get_their_own_skus():
    inner = SlowLedger()
    reads = CoalescedLedgerReads(inner)
    asked = [["A"], ["B", "C"], ["C"], ["A", "D", "A"]]
    moments = [NOW + timedelta(milliseconds=n) for n in range(len(asked))]
    calls = [
        asyncio.ensure_future(reads.entries(skus, now=at, applied_after=at - timedelta(minutes=5)))
        for skus, at in zip(asked[:1], moments, strict=False)
    ]
    await asyncio.sleep(0.001)  # the first read's query is under way
    calls += [
        asyncio.ensure_future(reads.entries(skus, now=at, applied_after=at - timedelta(minutes=5)))
        for skus, at in zip(asked[1:], moments[1:], strict=True)
    ]
    answers = await asyncio.gather(*calls)
    assert [[e.sku for e in got] for got in answers] == [["A"], ["B", "C"], ["C"], ["A", "D"]]
    # The first ran alone; the three that came while it ran shared one query, as of the
    # latest of their moments.
    assert inner.queries == [
        (["A"], moments[0], moments[0] - timedelta(minutes=5)),
        (["B", "C", "A", "D"], moments[3], moments[3] - timedelta(minutes=5)),
    ]


async def test_a_failed_query_fails_the_reads_that_shared_it_and_no_others():
    inner = SlowLedger()
    reads = CoalescedLedgerReads(inner)
    first = asyncio.ensure_future(reads.entries(["A"], now=NOW, applied_after=NOW))
    await asyncio.sleep(0)
    inner.fail_next = True  # the first query fails
    second = asyncio.ensure_future(reads.entries(["B"], now=NOW, applied_after=NOW))
    with pytest.raises(ConnectionError):
        await first
    assert [e.sku for e in await second] == ["B"]


async def test_a_read_given_up_on_leaves_the_others_theirs():
    inner = SlowLedger()
    reads = CoalescedLedgerReads(inner)
    running = asyncio.ensure_future(reads.entries(["A"], now=NOW, applied_after=NOW))
    await asyncio.sleep(0)
    given_up = asyncio.ensure_future(reads.entries(["B"], now=NOW, applied_after=NOW))
    kept = asyncio.ensure_future(reads.entries(["C"], now=NOW, applied_after=NOW))
    await asyncio.sleep(0)
    given_up.cancel()
    assert [e.sku for e in await running] == ["A"]
    assert [e.sku for e in await kept] == ["C"]
    assert given_up.cancelled()
    assert inner.queries[1][0] == ["C"]  # the read given up on was not asked for


async def test_with_traces_on_every_read_is_its_own_query():
    inner = SlowLedger()
    reads = CoalescedLedgerReads(inner)
    reads.tracer = object()  # type: ignore[assignment]
    assert inner.tracer is reads.tracer
    await asyncio.gather(*(reads.entries([s], now=NOW, applied_after=NOW) for s in "ABC"))
    assert [q[0] for q in inner.queries] == [["A"], ["B"], ["C"]]
