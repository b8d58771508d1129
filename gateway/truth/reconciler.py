"""The reconciler: every copy compared with its truth, page by page, and the queue, the
audit trail and the storefront's stock brought up to date.

A run streams the ERP's sellable items a page at a time (or reads the SKUs it is given),
several pages at once (``TRUTH__CONCURRENCY``). For each page it reads, in one round, the
storefront's listings, Square's variations and the ONLINE figures (ERPNext Bins and the
ship-from-store stores' Square counts, straight from the sources, holds deducted), then in
one unit of work: classifies (gateway.truth.rules), settles the queue (gateway.truth.queue),
owes the storefront the truth where policy enforces it (outbox ``SetWebStock``), records
what changed since the last read (audit trail, observations), and commits. Memory holds a
few pages, whatever the catalogue's size; nothing is cached between pages.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from gateway.config import TruthSettings
from gateway.domain import (
    Channel,
    ItemMaster,
    Kit,
    Money,
    PosVariation,
    SourceSystem,
    StockReading,
    StoreSum,
    WebListing,
)
from gateway.domain.outbox import SetWebStock, WebStockItem
from gateway.domain.truth import (
    AuditEntry,
    AuditKind,
    Discrepancy,
    DiscrepancyKey,
    DiscrepancyKind,
    Enforcement,
    Finding,
    Observation,
)
from gateway.ports import Clock, ErpPort, PosPort, StorefrontPort, UnitOfWork, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService, ChannelTotal
from gateway.truth import queue, rules
from gateway.truth.rules import Evaluation, WebStockTruth
from gateway.truth.store_counts import StoreCountCopy

K = DiscrepancyKind
WEB, POS, ERP = SourceSystem.STOREFRONT, SourceSystem.POS, SourceSystem.ERP
PUSH_ITEMS = 100  # WooCommerce's batch endpoints take at most 100 items a call
STOCK_KINDS = (K.OVERSELL_RISK, K.LOST_SALES, K.STATUS_MISMATCH)
WEB_STOCK_KIND = "web.set_stock"
NOTHING_ONLINE = ChannelTotal(0, None, {})

logger = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    started: datetime
    pages: int = 0
    skus: int = 0
    findings: Counter[DiscrepancyKind] = field(default_factory=Counter)
    opened: int = 0
    changed: int = 0
    auto_resolved: int = 0
    pushed: int = 0  # listings the storefront is owed a push for
    changes_seen: int = 0  # audit entries of changes seen between two reads
    seconds: float = 0.0


@dataclass
class _RunState:
    full: bool  # every item: the stores' counts come from the kept copy
    barcodes: dict[str, str] = field(default_factory=dict)  # barcode -> first SKU seen with it
    queued: dict[int, tuple[WebStockItem, ...]] = field(default_factory=dict)  # pushes read


@dataclass(frozen=True, slots=True)
class PageRead:
    items: list[ItemMaster]
    listings: Mapping[str, WebListing]
    variations: Mapping[str, PosVariation]
    kits: Mapping[str, Kit]
    online: Mapping[str, ChannelTotal]  # the truth the storefront's copy must follow


def new_discrepancy_id() -> str:
    return f"dsc_{secrets.token_hex(10)}"


# The fields each read is compared with the last on, per system.
OBSERVED: Mapping[SourceSystem, tuple[str, ...]] = {
    WEB: ("price", "stock_quantity"),
    POS: ("price", "on_hand"),
    ERP: ("name", "list_price", "on_hand"),
}


class Reconciler:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        erp: ErpPort,
        web: StorefrontPort,
        pos: PosPort,
        availability: AvailabilityService,
        clock: Clock,
        policy: TruthSettings,
        wake_worker: Callable[[], None],
        store_counts: StoreCountCopy,
        own_changes: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._uow = unit_of_work
        # Queues the pushes the gateway owes the storefront for its own latest changes
        # (gateway.truth.sync), so a reconcile finds them on their way, not as drift.
        self._own_changes = own_changes
        self._erp = erp
        self._web = web
        self._pos = pos
        self._availability = availability
        self._clock = clock
        self._policy = policy
        self._wake = wake_worker
        self._store_counts = store_counts

    async def run(
        self,
        skus: Sequence[str] | None = None,
        progress: Callable[[ReconcileReport], None] | None = None,
    ) -> ReconcileReport:
        """Reconcile every sellable item, or only ``skus``."""
        if self._own_changes is not None:
            try:
                await self._own_changes()
            except Exception as error:  # noted again: the next flush or reconcile has them
                logger.warning("own storefront changes not queued before reconciling: %s", error)
        report = ReconcileReport(self._clock.now())
        began = time.monotonic()
        state = _RunState(full=skus is None)
        if state.full:
            self._store_counts.begin_run()
        pages = self._pages(skus)
        lock = asyncio.Lock()

        async def work() -> None:
            while True:
                async with lock:
                    items = await anext(pages, None)
                if items is None:
                    return
                await self._page(items, report, state)
                if progress is not None:
                    progress(report)

        await asyncio.gather(*(work() for _ in range(self._policy.concurrency)))
        report.seconds = time.monotonic() - began
        if report.pushed:
            self._wake()
        return report

    async def _pages(self, skus: Sequence[str] | None) -> AsyncIterator[list[ItemMaster]]:
        size = self._policy.page_size
        if skus is not None:
            wanted = list(dict.fromkeys(skus))
            for start in range(0, len(wanted), size):
                found = await self._erp.items_by_sku(wanted[start : start + size])
                yield [found[s] for s in wanted[start : start + size] if s in found]
            return
        offset = 0
        while True:
            page = await self._erp.list_items(offset=offset, limit=size)
            if page:
                yield page
            if len(page) < size:
                return
            offset += size

    async def _page(
        self,
        items: list[ItemMaster],
        report: ReconcileReport,
        state: _RunState,
    ) -> None:
        if not items:
            return
        read = await self._read(items, state.full)
        now = self._clock.now()
        skus = [item.sku for item in items]
        # Read, then decide with no transaction open, then write in a short one: on SQLite a
        # write transaction holds the one write lock, and the other pages' writes would
        # queue behind this page's reads and decisions.
        async with self._uow(read_only=True) as uow:
            records = await uow.discrepancies.of_skus(skus)
            # A difference first seen moments ago is still a lag: reads come seconds apart
            # when sources send events, and a write of the gateway's own may be in both.
            confirm = timedelta(seconds=self._policy.suspect_confirm_seconds)
            suspects = await uow.discrepancies.suspects(skus, seen_by=now - confirm)
            in_flight, pushing = await self._in_flight(uow, skus, now, state.queued)
            last = await uow.observations.last_values(skus, OBSERVED)
        evaluation = self._evaluate(read, records, suspects, in_flight, state.barcodes)
        changes, seen = self._changes(read, last, now)
        if changes.findings:
            evaluation = evaluation + Evaluation(frozenset(), tuple(changes.findings))
        settled = queue.settle(
            evaluation.findings,
            evaluation.checked,
            records,
            now,
            self._policy,
            new_discrepancy_id,
        )
        by_key = {**records, **{r.key: r for r in (*settled.new, *settled.changed)}}
        pushes, enforced = self._pushes(read, evaluation.findings, by_key, pushing, now)
        new_ids = {r.id for r in settled.new}
        changed = {r.id: r for r in settled.changed}
        changed.update((i, r) for i, r in enforced.items() if i not in new_ids)
        async with self._uow() as uow:
            await uow.discrepancies.add([enforced.get(r.id, r) for r in settled.new])
            await uow.discrepancies.save(list(changed.values()))
            await uow.discrepancies.replace_suspects(evaluation.checked, evaluation.suspects, now)
            await uow.outbox.add(pushes, now)
            await uow.audit.add(changes.entries)
            await uow.observations.record(seen)
            await uow.commit()
        report.pages += 1
        report.skus += len(items)
        report.findings.update(f.key.kind for f in evaluation.findings)
        report.opened += len(settled.new)
        report.changed += len(settled.changed)
        report.auto_resolved += sum(1 for r in settled.changed if not r.status.is_open)
        report.pushed += sum(len(m.items) for m in pushes)
        report.changes_seen += len(changes.entries)

    async def _read(self, items: list[ItemMaster], full: bool) -> PageRead:
        """A page's copies and truths. In a full run the stores' counts come from the kept
        copy (gateway.truth.store_counts); for named SKUs they are read live, and kept."""
        skus = [item.sku for item in items]
        # The sources' readings are dated by when the gateway asked, as its cache dates
        # them: a hold their source took over before that is in them, whatever time the
        # source's own clock gives the figure, and must not be taken off again.
        asked = self._clock.now()

        async def catalogue_then_stock() -> tuple[
            dict[str, PosVariation], dict[str, Kit], dict[str, ChannelTotal]
        ]:
            # Square's variations first: the stock read then finds their ids remembered
            # instead of searching the catalogue again; the kits are read once for both.
            variations, kits = await asyncio.gather(
                self._pos.variations_by_sku(skus), self._availability.kits(skus)
            )
            ids = {sku: v.variation_id for sku, v in variations.items()}

            async def kept(
                stock_skus: Sequence[str], safety: Mapping[str, int], one_by_one: Collection[str]
            ) -> tuple[list[StockReading], dict[str, StoreSum]]:
                return await self._store_counts.stock(stock_skus, safety, one_by_one, ids)

            async def live(
                stock_skus: Sequence[str], safety: Mapping[str, int], one_by_one: Collection[str]
            ) -> tuple[list[StockReading], dict[str, StoreSum]]:
                fresh = await self._store_counts.refresh(stock_skus, safety, ids, one_by_one)
                return [reading for of_sku in fresh.values() for reading in of_sku], {}

            online = await self._availability.channel_totals(
                skus, Channel.ONLINE, kits=kits, store_stock=kept if full else live, asked=asked
            )
            return variations, kits, online

        listings, (variations, kits, online) = await asyncio.gather(
            self._web.listings_by_sku(skus), catalogue_then_stock()
        )
        return PageRead(items, listings, variations, kits, online)

    async def _in_flight(
        self,
        uow: UnitOfWork,
        skus: Sequence[str],
        now: datetime,
        queued: dict[int, tuple[WebStockItem, ...]],
    ) -> tuple[dict[str, int], set[str]]:
        """Per SKU, the units the gateway changed within the grace period or has a push on
        its way for; and the SKUs with a push on its way. ``queued`` keeps the undelivered
        pushes already read in this run: each page reads only the new ones (a first run
        queues hundreds, and every page would otherwise read them all again)."""
        since = now - timedelta(seconds=self._policy.grace_seconds)
        flight = Counter(await uow.reservations.units_changed_since(skus, since))
        waiting = set(await uow.outbox.undelivered_ids(WEB_STOCK_KIND))
        for gone in queued.keys() - waiting:
            del queued[gone]
        if unread := waiting - queued.keys():
            for delivery in await uow.outbox.undelivered(WEB_STOCK_KIND, ids=sorted(unread)):
                message = delivery.message
                queued[delivery.id] = message.items if isinstance(message, SetWebStock) else ()
        wanted, pushing = set(skus), set()
        for items in queued.values():
            for item in items:
                if item.sku in wanted:
                    pushing.add(item.sku)
                    flight[item.sku] += abs((item.quantity or 0) - (item.seen_quantity or 0))
        return dict(flight), pushing

    def _evaluate(
        self,
        read: PageRead,
        records: Mapping[DiscrepancyKey, Discrepancy],
        suspects: set[DiscrepancyKey],
        in_flight: Mapping[str, int],
        barcodes: dict[str, str],
    ) -> Evaluation:
        policy = self._policy
        parts: list[Evaluation] = []
        for item in read.items:
            listing = read.listings.get(item.sku)
            online = read.online.get(item.sku, NOTHING_ONLINE)
            # Seen before: at the previous read (a suspect), or open in the queue.
            seen_before = frozenset(
                kind
                for kind in STOCK_KINDS
                if (key := DiscrepancyKey(kind, item.sku, "", WEB)) in suspects
                or (key in records and records[key].status.is_open)
            )
            truth = WebStockTruth(
                item.sku,
                online.available,
                online.as_of,
                _price(listing, item),
                item.category,
                kit=item.sku in read.kits,
                in_flight=in_flight.get(item.sku, 0),
                seen_before=seen_before,
            )
            parts.append(rules.web_stock(truth, listing, policy))
            parts.append(
                rules.catalogue(
                    item,
                    listing,
                    read.variations.get(item.sku),
                    stock_item=item.is_stock_item and item.sku not in read.kits,
                    policy=policy,
                )
            )
            parts.append(rules.item_master(item, listing, policy))
        parts.append(rules.barcodes(read.items, read.variations, {}, barcodes, policy))
        total = rules.every(parts)
        for item in read.items:
            for code in item.barcodes:
                barcodes.setdefault(code, item.sku)
        return total

    def _changes(
        self, read: PageRead, last: Mapping[tuple[SourceSystem, str, str, str], str], now: datetime
    ) -> tuple[Changes, list[Observation]]:
        """What moved since the last read (``last``: the values last seen, as
        ``observations.last_values`` gives them): audit entries, price jumps to flag, and the
        new last-seen values."""
        changes = Changes()
        seen: list[Observation] = []

        def look(
            system: SourceSystem, item: ItemMaster, name: str, value: str | None, kind: AuditKind
        ) -> None:
            if value is None:
                return
            before = last.get((system, item.sku, "", name))
            if before == value:
                return  # nothing moved: the kept value stands (and is not written again)
            seen.append(Observation(system, item.sku, name, value, now))
            if before is None:
                return  # the first read is the baseline
            entry = AuditEntry(
                now, kind, system, _actor(system), item.sku, name, before, value,
                reference="reconcile",
            )  # fmt: skip
            changes.entries.append(entry)
            if kind is AuditKind.PRICE_CHANGED:
                before_price = Money(Decimal(before), self._policy.currency)
                after_price = Money(Decimal(value), self._policy.currency)
                jump = rules.price_jump(
                    item.sku, system, before_price, after_price, now, self._policy, item.category
                )
                changes.findings.extend(jump.findings)

        for item in read.items:
            listing = read.listings.get(item.sku)
            variation = read.variations.get(item.sku)
            online = read.online.get(item.sku, NOTHING_ONLINE)
            if listing is not None:
                look(WEB, item, "price", _amount(listing.price), AuditKind.PRICE_CHANGED)
                if listing.manage_stock and listing.stock_quantity is not None:
                    quantity = str(listing.stock_quantity)
                    look(WEB, item, "stock_quantity", quantity, AuditKind.STOCK_CHANGED)
            if variation is not None:
                look(POS, item, "price", _amount(variation.price), AuditKind.PRICE_CHANGED)
            look(ERP, item, "name", item.name, AuditKind.ITEM_CHANGED)
            look(ERP, item, "list_price", _amount(item.list_price), AuditKind.PRICE_CHANGED)
            if item.sku not in read.kits:
                for system in (ERP, POS):
                    on_hand = str(online.on_hand.get(system, 0))
                    look(system, item, "on_hand", on_hand, AuditKind.STOCK_CHANGED)
        return changes, seen

    def _pushes(
        self,
        read: PageRead,
        findings: Sequence[Finding],
        records: Mapping[DiscrepancyKey, Discrepancy],
        pushing: set[str],
        now: datetime,
    ) -> tuple[list[SetWebStock], dict[str, Discrepancy]]:
        """The storefront owed the truth for every enforced finding, one item per listing
        (none for a SKU whose last push is still on its way); and the records that say so."""
        policy = self._policy
        enforced_kinds = {k for k, e in policy.enforcement.items() if e is Enforcement.ENFORCE}
        by_sku: dict[str, list[Finding]] = {}
        for finding in findings:
            if (
                finding.key.kind in enforced_kinds
                and finding.key.system is WEB
                and finding.key.sku not in pushing
            ):
                by_sku.setdefault(finding.key.sku, []).append(finding)
        items: list[WebStockItem] = []
        enforced: dict[str, Discrepancy] = {}
        for sku, found in by_sku.items():
            listing = read.listings.get(sku)
            if listing is None:
                continue
            available = read.online.get(sku, NOTHING_ONLINE).available
            expected = rules.expected_web_quantity(available, policy.web_stock_buffer)
            managed = listing.manage_stock and sku not in read.kits
            ids = tuple(records[f.key].id for f in found if f.key in records)
            items.append(
                WebStockItem(
                    sku=sku,
                    product_id=listing.product_id,
                    variation_id=listing.variation_id,
                    quantity=expected if managed else None,
                    stock_status=None if managed else ("instock" if expected else "outofstock"),
                    backorders=None
                    if policy.web_backorders_allowed or listing.backorders == "no"
                    else "no",
                    seen_quantity=listing.stock_quantity,
                    seen_status=listing.stock_status,
                    seen_backorders=listing.backorders,
                    discrepancy_ids=ids,
                )
            )
            for f in found:
                record = records.get(f.key)
                if record is not None:
                    enforced[record.id] = queue.enforced(
                        record, now, f"the storefront is owed {expected} (push queued)"
                    )
        messages = []
        for start in range(0, len(items), PUSH_ITEMS):
            reference = f"web-stock:{secrets.token_hex(8)}"
            messages.append(
                SetWebStock(
                    ordering_key=reference,
                    reference=reference,
                    reason="enforce",
                    items=tuple(items[start : start + PUSH_ITEMS]),
                )
            )
        return messages, enforced


@dataclass
class Changes:
    entries: list[AuditEntry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _price(listing: WebListing | None, item: ItemMaster) -> Money | None:
    if listing is not None and listing.price is not None:
        return listing.price
    return item.list_price


def _amount(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)


def _actor(system: SourceSystem) -> str:
    return {WEB: "woocommerce", POS: "square", ERP: "erpnext"}.get(system, system.value.lower())
