"""Recording a cycle count (gateway.domain.cycle_counts decides what it means).

A count says what was on the shelf when it was taken, which may be a while before it is
recorded. Its variance is against the node's source as it was then: the source's figure
now, less what it recorded moving since (read from the source itself, not the cache). The
correction goes to that source through the outbox as a count at the count's own time
(Square PHYSICAL_COUNT, ERPNext Stock Reconciliation), and each source keeps what it
recorded after that moment on top, so a sale rung up after the count is never lost. A count
the source recorded later stands, and this one changes nothing (SUPERSEDED).

At a store the count is of the units on sale (Square's IN_STOCK; what Square holds
RESERVED_FOR_SALE is its own orders' business); at a warehouse, of the units in it
(ERPNext's actual quantity). A variance above CYCLE_COUNTS__DISCREPANCY_UNITS or worth more
than __DISCREPANCY_VALUE at cost opens (or updates) a COUNT_VARIANCE for the node's owner;
the audit trail says SHRINK or GAIN, with the value, once the source has the correction.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway.config import CycleCountSettings, TruthSettings
from gateway.domain import Location, Money, SourceSystem
from gateway.domain.cycle_counts import (
    CountedLine,
    CountOutcome,
    RecordedCount,
    StockMovement,
    needs_owner,
    reckon,
)
from gateway.domain.truth import (
    DiscrepancyKey,
    DiscrepancyKind,
    Figure,
    Finding,
    Severity,
)
from gateway.errors import BadUserInput, NotFound
from gateway.ports import Clock, ErpPort, PosPort, UnitOfWork
from gateway.services.availability import AvailabilityService
from gateway.services.commands import Command, Commands
from gateway.services.source_writes import count_at_source
from gateway.truth import queue
from gateway.truth.reconciler import new_discrepancy_id
from gateway.truth.rules import severity_of

KIND = DiscrepancyKind.COUNT_VARIANCE
MAX_LINES = 200
FUTURE_SKEW = timedelta(minutes=1)  # a handheld's clock a little ahead is not refused
READ_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class CountLine:
    sku: str
    counted: int


class CountRecorder:
    def __init__(
        self,
        commands: Commands,
        availability: AvailabilityService,
        erp: ErpPort,
        pos: PosPort,
        clock: Clock,
        settings: CycleCountSettings,
        policy: TruthSettings,
    ) -> None:
        """``erp`` and ``pos``: the adapters, not the cache: a count is reckoned against
        what the source says now."""
        self._commands = commands
        self._availability = availability
        self._erp = erp
        self._pos = pos
        self._clock = clock
        self._settings = settings
        self._policy = policy

    async def record(
        self,
        location_id: str,
        lines: Sequence[CountLine],
        counted_at: datetime,
        counted_by: str,
        key: str,
    ) -> RecordedCount:
        self._validate(lines, counted_at, counted_by, self._clock.now())
        node = await self._availability.location(location_id)
        if node.source not in (SourceSystem.POS, SourceSystem.ERP):
            raise BadUserInput(f"{node.id}'s stock is not counted here", field="locationId")
        skus = [line.sku for line in lines]
        command = Command(
            "recordCount",
            key,
            {
                "locationId": location_id,
                "lines": [(line.sku, line.counted) for line in lines],
                "countedAt": counted_at.isoformat(),
                "countedBy": counted_by,
            },
            f"cnt_{secrets.token_hex(10)}",
            _load,
            skus=lambda _: (),  # nothing moves until the source has the correction
        )
        replayed = await self._commands.replayed(command)
        if replayed is not None:
            return replayed
        items = await self._erp.items_by_sku(skus)
        unknown = [sku for sku in skus if sku not in items]
        if unknown:
            raise NotFound(f"No product with SKU {unknown[0]!r}", sku=unknown[0])
        kits = await self._availability.kits(skus)
        if kits:
            kit = next(iter(kits))
            raise BadUserInput(f"{kit} is a kit: count its components", field="lines")
        current, since = await self._source_figures(node, skus, counted_at)
        counted = [
            CountedLine(
                line.sku,
                line.counted,
                reckon(line.counted, current.get(line.sku, 0), since.get(line.sku, ())),
                items[line.sku].cost,
            )
            for line in lines
        ]

        async def change(uow: UnitOfWork, now: datetime) -> RecordedCount:
            noted = await self._queue_variances(uow, node, counted, counted_at, counted_by, now)
            count = RecordedCount(
                command.resource_id, node.id, counted_at, counted_by, now, tuple(noted)
            )
            await uow.counts.add(count)
            await uow.outbox.add(
                [
                    count_at_source(count.id, node, line.sku, line.counted, variance, counted_at)
                    for line in count.lines
                    if (variance := line.reckoning.variance)
                    and line.reckoning.outcome is CountOutcome.CORRECTED
                ],
                now,
            )
            return count

        return await self._commands.run(command, change)

    def _validate(
        self,
        lines: Sequence[CountLine],
        counted_at: datetime,
        counted_by: str,
        now: datetime,
    ) -> None:
        if counted_at.tzinfo is None or counted_at.utcoffset() is None:
            raise BadUserInput("countedAt needs a time zone", field="countedAt")
        oldest = now - timedelta(hours=self._settings.max_age_hours)
        if counted_at > now + FUTURE_SKEW:
            raise BadUserInput("countedAt is in the future", field="countedAt")
        if counted_at < oldest:
            raise BadUserInput(
                f"countedAt is more than {self._settings.max_age_hours} hours ago: a count is "
                "recorded the day it is taken (Square takes counts of the last 24 hours only)",
                field="countedAt",
            )
        if not counted_by.strip() or len(counted_by) > 120:
            raise BadUserInput(
                "countedBy names who counted (1 to 120 characters)", field="countedBy"
            )
        if not 1 <= len(lines) <= MAX_LINES:
            raise BadUserInput(f"a count has 1 to {MAX_LINES} lines", field="lines")
        seen: set[str] = set()
        for line in lines:
            if line.sku in seen:
                raise BadUserInput(f"{line.sku} is counted twice in one count", field="lines")
            seen.add(line.sku)
            if line.counted < 0:
                raise BadUserInput(f"{line.sku}: a count is not negative", field="lines")

    async def _source_figures(
        self, node: Location, skus: list[str], counted_at: datetime
    ) -> tuple[dict[str, int], dict[str, list[StockMovement]]]:
        """The source's figure of each SKU now, and what it recorded moving since the count.
        Read movements, figures, movements: a sale between the reads would count twice or
        not at all, so the three are read again until the movements hold still."""
        source: ErpPort | PosPort = self._pos if node.source is SourceSystem.POS else self._erp
        refs = [node.source_ref]
        for _ in range(READ_ATTEMPTS):
            before = await source.stock_movements(skus, refs, counted_at)
            if node.source is SourceSystem.POS:
                readings = await self._pos.stock(skus, refs)
            else:
                readings = await self._erp.stock(skus)
            after = await source.stock_movements(skus, refs, counted_at)
            if before == after:
                break
        current = {
            r.sku: r.on_hand - r.reserved if node.source is SourceSystem.POS else r.on_hand
            for r in readings
            if r.location_ref.casefold() == node.source_ref.casefold()
        }
        since: dict[str, list[StockMovement]] = {}
        for movement in after:
            since.setdefault(movement.sku, []).append(movement)
        return current, since

    async def _queue_variances(
        self,
        uow: UnitOfWork,
        node: Location,
        lines: list[CountedLine],
        counted_at: datetime,
        counted_by: str,
        now: datetime,
    ) -> list[CountedLine]:
        """Open or update a COUNT_VARIANCE for each line over the thresholds; the lines,
        each with the record it opened or updated."""
        units = self._settings.discrepancy_units
        value_over = self._settings.discrepancy_value
        findings: list[Finding] = []
        for line in lines:
            variance, book = line.reckoning.variance, line.reckoning.book_at_count
            if variance is None or book is None:
                continue
            if not needs_owner(variance, line.value, units, value_over):
                continue
            findings.append(self._finding(node, line, variance, book, counted_at, counted_by))
        if not findings:
            return lines
        stored = await uow.discrepancies.of_skus([f.key.sku for f in findings])
        records = {key: record for key, record in stored.items() if key.kind is KIND}
        settled = queue.settle(
            findings,
            (),  # a count within bounds closes nothing: the loss found before stays to explain
            records,
            now,
            self._policy,
            new_discrepancy_id,
        )
        await uow.discrepancies.add(settled.new)
        await uow.discrepancies.save(settled.changed)
        records |= {record.key: record for record in (*settled.new, *settled.changed)}
        ids = {f.key.sku: records[f.key].id for f in findings}
        return [replace(line, discrepancy_id=ids.get(line.sku)) for line in lines]

    def _finding(
        self,
        node: Location,
        line: CountedLine,
        variance: int,
        book: int,
        counted_at: datetime,
        counted_by: str,
    ) -> Finding:
        value = line.value
        at_stake = (
            None
            if value is None or line.unit_cost is None
            else Money(abs(value), line.unit_cost.currency)
        )
        found = "shrink" if variance < 0 else "gain"
        return Finding(
            key=DiscrepancyKey(KIND, line.sku, node.id, node.source),
            truth=Figure(
                SourceSystem.GATEWAY, f"{line.counted} counted by {counted_by}", counted_at
            ),
            copy=Figure(node.source, f"{book} on the book", counted_at),
            severity=max(severity_of(at_stake, self._policy), Severity.MEDIUM, key=_rank),
            rule=(
                f"a cycle count's {found} of {abs(variance)} units is more than "
                f"{self._settings.discrepancy_units} units or "
                f"{self._settings.discrepancy_value} at cost (CYCLE_COUNTS__DISCREPANCY_*)"
            ),
            delta=book - line.counted,
            at_stake=at_stake,
            location_type=node.type.value,
        )


def _rank(severity: Severity) -> int:
    return severity.rank


async def _load(uow: UnitOfWork, count_id: str) -> RecordedCount:
    count = await uow.counts.get(count_id)
    if count is None:
        raise NotFound(f"No count {count_id!r}")
    return count
