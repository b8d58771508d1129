"""The safety net under the webhooks: every ``DELTA_POLL_SECONDS`` each backend is asked
what changed since it was last asked, so a webhook that was dropped, delayed or never sent is
caught within one period.

    ERPNext      Bins whose ``modified`` is later          (Bin, Stock Ledger Entry events)
    WooCommerce  products ``modified_after``               (product.* events)
    Square       counts ``updated_after`` at the stores    (inventory.count.updated)

What they name is handled as a webhook's stock event is (gateway.events.processor): the SKUs'
cached figures dropped, subscribers told, the SKUs reconciled. Orders have their own nets:
WooCommerce orders are imported by ``modified_after`` (WEB_ORDER_SYNC_SECONDS) and every
recently changed order is checked against every system (ORDER_WATCH_SECONDS), which is
what catches a lost Shopify or ERPNext order event.

How far each poll got is kept in the database in the source's own time (one process polls
at a time; a restart resumes there; the very first poll only sets the marks, the periodic
reconcile covering what came before); consecutive polls overlap by a little, since sources
stamp to the second or share a stamp between changes, and a change already seen in the
previous poll is not handled twice.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.domain import SourceSystem, Via
from gateway.ports import Clock, ErpPort, PosPort, StorefrontPort, UnitOfWorkFactory
from gateway.ports.storage import SyncMark

log = logging.getLogger(__name__)

OVERLAP = timedelta(seconds=2)
_MARKS = {
    SourceSystem.ERP: "poll:erp",
    SourceSystem.STOREFRONT: "poll:storefront",
    SourceSystem.POS: "poll:pos",
}

StockHeard = Callable[[Sequence[str], Via], Awaitable[None]]
Reconcile = Callable[[Sequence[str]], Awaitable[object]]
# One change as a source reports it: what it names and when, in the source's time.
Seen = tuple[str, ...]


@dataclass
class PollReport:
    changed: dict[SourceSystem, int] = field(default_factory=dict)  # SKUs named per source
    found: set[str] = field(default_factory=set)  # the SKUs named
    failed: list[SourceSystem] = field(default_factory=list)
    skus: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class _Delta:
    skus: frozenset[str]
    seen: frozenset[Seen]  # the changes, so the next (overlapping) poll skips them
    newest: datetime | None


class DeltaPoll:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        erp: ErpPort,
        storefront: StorefrontPort,
        pos: PosPort,
        store_refs: Callable[[], Awaitable[list[str]]],
        stock_heard: StockHeard,
        reconcile: Reconcile,
        clock: Clock,
    ) -> None:
        self._uow = unit_of_work
        self._erp = erp
        self._storefront = storefront
        self._pos = pos
        self._store_refs = store_refs
        self._stock_heard = stock_heard
        self._reconcile = reconcile
        self._clock = clock
        self._last_seen: dict[SourceSystem, frozenset[Seen]] = {}
        self.caught: Counter[SourceSystem] = Counter()  # SKUs each source's polls named

    async def run(self) -> PollReport:
        began = time.monotonic()
        report = PollReport()
        skus: set[str] = set()
        reads = {
            SourceSystem.ERP: self._erp_delta,
            SourceSystem.STOREFRONT: self._storefront_delta,
            SourceSystem.POS: self._pos_delta,
        }
        for system, read in reads.items():
            since = await self._since(system)
            if since is None:
                # Never polled: nothing to compare with (the periodic reconcile covers what
                # came before). From here on, each change is caught.
                await self._advance(system, self._clock.now() - OVERLAP, None)
                continue
            try:
                delta = await read(since)
            except Exception as error:  # the mark stays: the next poll asks again
                log.warning("delta poll of %s failed: %s", system.value, error)
                report.failed.append(system)
                continue
            news = delta.seen - self._last_seen.get(system, frozenset())
            self._last_seen[system] = delta.seen
            named = {change[0] for change in news} & delta.skus
            report.changed[system] = len(named)
            self.caught[system] += len(named)
            skus |= named
            await self._advance(system, since, delta.newest)
        wanted = sorted(skus)
        report.found = set(wanted)
        if wanted:
            await self._stock_heard(wanted, Via.POLL)
            await self._reconcile(wanted)
        report.skus = len(wanted)
        report.seconds = time.monotonic() - began
        return report

    async def _since(self, system: SourceSystem) -> datetime | None:
        async with self._uow(read_only=True) as uow:
            mark = await uow.store_counts.mark(_MARKS[system])
        return None if mark is None else mark.at - OVERLAP

    async def _advance(
        self, system: SourceSystem, since: datetime, newest: datetime | None
    ) -> None:
        # The source's newest stamp, never backwards; with nothing new, where we were.
        at = max(newest, since + OVERLAP) if newest is not None else since + OVERLAP
        async with self._uow() as uow:
            await uow.store_counts.set_mark(_MARKS[system], SyncMark(at, ""))
            await uow.commit()

    async def _erp_delta(self, since: datetime) -> _Delta:
        moved = await self._erp.stock_moved_since(since)
        return _delta(moved)

    async def _storefront_delta(self, since: datetime) -> _Delta:
        return _delta(await self._storefront.listings_modified_since(since))

    async def _pos_delta(self, since: datetime) -> _Delta:
        refs = await self._store_refs()
        changes = await self._pos.stock_changes(since, refs)
        if not changes.counts:
            return _Delta(frozenset(), frozenset(), None)
        sku_of = await self._pos.skus_of_variations(sorted(changes.item_ids))
        seen = frozenset(
            (sku_of[vid], location, state, at.isoformat())
            for vid, location, state, at in changes.counts
            if vid in sku_of
        )
        return _Delta(frozenset(sku_of.values()), seen, changes.newest)


def _delta(found: Sequence[tuple[str, datetime]]) -> _Delta:
    seen = frozenset((sku, at.isoformat()) for sku, at in found)
    newest = max((at for _, at in found), default=None)
    return _Delta(frozenset(sku for sku, _ in found), seen, newest)
