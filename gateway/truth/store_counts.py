"""The stores' counts a full reconcile adds up, kept current by reading only what changed.

The ONLINE truth adds up every ship-from-store store's count of every SKU: for the 50,000-SKU
x 200-store sample retailer that is 3.3 million Square counts, which a reconcile every few
minutes cannot read again each time (nor could it from the real Square, 1,000 counts a
call). So the reconciler keeps its own copy (``UnitOfWork.store_counts``, in the database,
shared by every gateway process) and keeps it current the way Square's
``updated_after`` is meant for: before a run, and every ``TRUTH__STORE_COUNTS_DELTA_SECONDS``
during it, it asks which items' counts changed since the last look (with an overlap for
clock skew), and forgets those SKUs, so their page reads them in full again (a change the
last look saw already, reported again because of the overlap, is not news: its SKU was
forgotten then, and read again since or still to be). A SKU never
read, or not read in full for ``TRUTH__STORE_COUNTS_REREAD_HOURS``, is read in full; another
set of stores (a node file change) starts the copy afresh.

Reconciling named SKUs (``reconcileNow``) reads them live and refreshes the copy with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta

from gateway.config import TruthSettings
from gateway.domain import StockChanges, StockReading, StoreSum
from gateway.domain.ledger import store_sum
from gateway.ports import Clock, PosCounts, UnitOfWorkFactory
from gateway.ports.storage import SyncMark
from gateway.services.availability import asked_at

MARK = "pos:store_counts"
# Square's calculated_at is its own clock; a change may be indexed a little after it is
# stamped. Each look starts this much before the newest change the last one saw.
OVERLAP = timedelta(minutes=2)


def fingerprint(safety_stock: Mapping[str, int]) -> str:
    """The stores and what each keeps back: the kept sums hold for these only."""
    stores = "\n".join(f"{ref}={units}" for ref, units in sorted(safety_stock.items()))
    return hashlib.sha256(stores.encode()).hexdigest()


class StoreCountCopy:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        pos: PosCounts,
        clock: Clock,
        policy: TruthSettings,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = unit_of_work
        self._pos = pos
        self._clock = clock
        self._policy = policy
        self._monotonic = monotonic
        self._looked_at: float | None = None
        self._last_seen: frozenset[tuple[str, str, str, datetime]] = frozenset()
        self._lock = asyncio.Lock()

    def begin_run(self) -> None:
        """A full run starts: its first read looks for changes whatever the interval."""
        self._looked_at = None

    async def catch_up(self, safety_stock: Mapping[str, int], *, force: bool = False) -> int:
        """Forget the SKUs whose counts at these stores changed since the last look; how
        many. Looks at most every ``store_counts_delta_seconds`` unless forced."""
        async with self._lock:
            now = self._monotonic()
            due = self._policy.store_counts_delta_seconds
            if not force and self._looked_at is not None and now - self._looked_at < due:
                return 0
            self._looked_at = now
            stores = fingerprint(safety_stock)
            async with self._uow(read_only=True) as uow:
                mark = await uow.store_counts.mark(MARK)
            if mark is None or mark.fingerprint != stores:
                # Never looked, or over other stores: nothing kept can be trusted.
                async with self._uow() as uow:
                    await uow.store_counts.forget()
                    await uow.store_counts.set_mark(MARK, SyncMark(self._clock.now(), stores))
                    await uow.commit()
                return 0
            changes = await self._pos.stock_changes(mark.at - OVERLAP, list(safety_stock))
            news = StockChanges(changes.counts - self._last_seen)
            self._last_seen = changes.counts
            async with self._uow() as uow:
                skus = await uow.store_counts.skus_of(news.item_ids)
                await uow.store_counts.forget(skus)
                if changes.newest is not None and changes.newest > mark.at:
                    await uow.store_counts.set_mark(MARK, SyncMark(changes.newest, stores))
                await uow.commit()
            return len(skus)

    async def stock(
        self,
        skus: Sequence[str],
        safety_stock: Mapping[str, int],
        one_by_one: Collection[str],
        variation_ids: Mapping[str, str | None],
    ) -> tuple[list[StockReading], dict[str, StoreSum]]:
        """The SKUs' counts at these stores (location ref -> safety stock): the readings of
        those in ``one_by_one``, the others added up; kept ones where the copy has them, read
        in full (and kept) where it does not. ``variation_ids``: each SKU's POS item. Each
        reading's ``fetched_at`` is when it was read, kept ones too: the ledger's holds are
        weighed against that (gateway.domain.ledger), not against Square's clock."""
        await self.catch_up(safety_stock)
        read_since = self._clock.now() - timedelta(hours=self._policy.store_counts_reread_hours)
        async with self._uow(read_only=True) as uow:
            kept, sums = await uow.store_counts.of(
                skus, read_since=read_since, one_by_one=one_by_one
            )
        missing = [sku for sku in skus if sku not in kept and sku not in sums]
        if missing:
            read_at = self._clock.now()
            singles = [sku for sku in missing if sku in one_by_one]
            others = [sku for sku in missing if sku not in one_by_one]
            # Only the counts a page needs store by store become readings; the others
            # (nearly all, in a first run: 3.3 million counts) are added up as they are read.
            read, added_up = await asyncio.gather(
                self._pos.stock(singles, list(safety_stock)) if singles else _no_readings(),
                self._pos.store_sums(others, safety_stock) if others else _no_sums(),
            )
            fresh: dict[str, list[StockReading]] = {sku: [] for sku in singles}
            for reading in asked_at(read, read_at):
                fresh[reading.sku].append(reading)
            added_up.update({sku: store_sum(fresh[sku], safety_stock) for sku in singles})
            await self._keep(fresh, added_up, variation_ids, read_at)
            kept.update(fresh)
            sums.update({sku: added_up[sku] for sku in others})
        return [reading for sku in skus for reading in kept.get(sku, ())], sums

    async def refresh(
        self,
        skus: Sequence[str],
        safety_stock: Mapping[str, int],
        variation_ids: Mapping[str, str | None],
        one_by_one: Collection[str],
    ) -> dict[str, list[StockReading]]:
        """Read the SKUs' counts in full and return them (``fetched_at``: now); keep their
        sums, and the counts themselves of those in ``one_by_one``. The POS item of each is
        kept with them (a change Square reports names the item): given, or looked up."""
        read_at = self._clock.now()
        fresh: dict[str, list[StockReading]] = {sku: [] for sku in skus}
        for reading in asked_at(await self._pos.stock(skus, list(safety_stock)), read_at):
            fresh[reading.sku].append(reading)
        sums = {sku: store_sum(readings, safety_stock) for sku, readings in fresh.items()}
        kept = {sku: fresh[sku] for sku in fresh if sku in one_by_one}
        await self._keep(kept, sums, variation_ids, read_at)
        return fresh

    async def _keep(
        self,
        readings: Mapping[str, Sequence[StockReading]],
        sums: Mapping[str, StoreSum],
        variation_ids: Mapping[str, str | None],
        read_at: datetime,
    ) -> None:
        """Keep every SKU's sum in ``sums`` and the counts of those in ``readings``, read at
        ``read_at``, with each one's POS item (a change Square reports names the item):
        given, or looked up."""
        items = {sku: variation_ids[sku] for sku in sums if sku in variation_ids}
        if unknown := [sku for sku in sums if sku not in items]:  # kit components, mostly
            found = await self._pos.variations_by_sku(unknown)
            for sku in unknown:
                items[sku] = found[sku].variation_id if sku in found else None
        async with self._uow() as uow:
            await uow.store_counts.replace(readings, sums, items, read_at)
            await uow.commit()


async def _no_readings() -> list[StockReading]:
    return []


async def _no_sums() -> dict[str, StoreSum]:
    return {}
