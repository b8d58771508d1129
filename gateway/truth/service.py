"""One truth for stock as the API offers it: the policy, the queue and its commands, a
reconcile on demand, and the audit trail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.config import Settings
from gateway.domain.acting import actor
from gateway.domain.truth import AuditEntry, AuditKind, Discrepancy, DiscrepancyKind, Resolution
from gateway.errors import BadUserInput, NotFound
from gateway.ports import Clock, UnitOfWork, UnitOfWorkFactory
from gateway.ports.storage import (
    AuditCursor,
    DiscrepancyFilter,
    OpenTally,
    QueueCounts,
    QueueCursor,
)
from gateway.services.commands import Command, Commands
from gateway.truth import queue
from gateway.truth.policy import SourceOfTruth, source_of_truth
from gateway.truth.reconciler import Reconciler, ReconcileReport

MAX_RECONCILE_SKUS = 500


@dataclass(frozen=True, slots=True)
class QueueSummary:
    counts: QueueCounts
    window: timedelta

    @property
    def mean_seconds_to_resolve(self) -> float | None:
        if not self.counts.resolved:
            return None
        return self.counts.resolution_seconds / self.counts.resolved


async def load_discrepancy(uow: UnitOfWork, discrepancy_id: str) -> Discrepancy:
    found = await uow.discrepancies.get(discrepancy_id)
    if found is None:
        raise NotFound(f"No discrepancy {discrepancy_id!r}", field="id")
    return found


def _skus(record: Discrepancy) -> list[str]:
    return [record.key.sku]


class TruthService:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        commands: Commands,
        reconciler: Reconciler,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._uow = unit_of_work
        self._commands = commands
        self._reconciler = reconciler
        self._clock = clock
        self._settings = settings

    def now(self) -> datetime:
        return self._clock.now()

    def source_of_truth(self) -> SourceOfTruth:
        return source_of_truth(self._settings.truth, self._settings.field_policy)

    # --- the queue -----------------------------------------------------------------------

    async def get(self, discrepancy_id: str) -> Discrepancy:
        async with self._uow(read_only=True) as uow:
            return await load_discrepancy(uow, discrepancy_id)

    async def page(
        self, where: DiscrepancyFilter, first: int, after: QueueCursor | None
    ) -> tuple[list[Discrepancy], bool]:
        async with self._uow(read_only=True) as uow:
            return await uow.discrepancies.page(where, first=first, after=after)

    async def summary(self, window: timedelta) -> QueueSummary:
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            return QueueSummary(await uow.discrepancies.counts(now, now - window), window)

    async def open_by_kind(self) -> dict[DiscrepancyKind, OpenTally]:
        """Open discrepancies and the overdue among them, per kind (the metrics)."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            return await uow.discrepancies.open_by_kind(now)

    async def open_oversell_risks(self, skus: Sequence[str]) -> Mapping[str, str]:
        async with self._uow(read_only=True) as uow:
            return await uow.discrepancies.open_oversell_risks(skus)

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, list[Discrepancy]]:
        """Each order's exceptions, in any status, oldest first."""
        async with self._uow(read_only=True) as uow:
            found = await uow.discrepancies.of_orders(order_ids)
        by_order: dict[str, list[Discrepancy]] = {}
        for record in found.values():
            by_order.setdefault(record.key.order_id, []).append(record)
        return by_order

    async def acknowledge(self, discrepancy_id: str, note: str | None, key: str) -> Discrepancy:
        async def acknowledged(uow: UnitOfWork, record: Discrepancy, now: datetime) -> Discrepancy:
            return queue.acknowledged(record, now, actor(), note)

        return await self._change(
            "acknowledgeDiscrepancy", discrepancy_id, key, {"note": note}, acknowledged
        )

    async def assign(
        self, discrepancy_id: str, owner: str, note: str | None, key: str
    ) -> Discrepancy:
        async def assigned(uow: UnitOfWork, record: Discrepancy, now: datetime) -> Discrepancy:
            return queue.assigned(record, owner, now, actor(), note)

        return await self._change(
            "assignDiscrepancy", discrepancy_id, key, {"owner": owner, "note": note}, assigned
        )

    async def resolve(
        self, discrepancy_id: str, resolution: Resolution, note: str | None, key: str
    ) -> Discrepancy:
        async def resolved(uow: UnitOfWork, record: Discrepancy, now: datetime) -> Discrepancy:
            if resolution is Resolution.COMPENSATE:
                if not record.proposal:
                    raise BadUserInput(
                        f"Discrepancy {record.id} has no compensating write to apply; resolve "
                        "it FIXED or ACCEPTED",
                        field="resolution",
                    )
                if record.status.is_open:
                    # The proposed writes go out through the outbox with the resolution.
                    await uow.outbox.add(record.proposal, now)
            return queue.resolved(record, resolution, now, actor(), note)

        return await self._change(
            "resolveDiscrepancy",
            discrepancy_id,
            key,
            {"resolution": resolution.value, "note": note},
            resolved,
        )

    async def _change(
        self,
        operation: str,
        discrepancy_id: str,
        key: str,
        arguments: Mapping[str, object],
        change: Callable[[UnitOfWork, Discrepancy, datetime], Awaitable[Discrepancy]],
    ) -> Discrepancy:
        async def changed(uow: UnitOfWork, now: datetime) -> Discrepancy:
            record = await uow.discrepancies.get(discrepancy_id, for_update=True)
            if record is None:
                raise NotFound(f"No discrepancy {discrepancy_id!r}", field="id")
            updated = await change(uow, record, now)
            if updated is not record:
                await uow.discrepancies.save([updated])
            return updated

        command = Command(
            operation,
            key,
            {"id": discrepancy_id, **arguments},
            discrepancy_id,
            load_discrepancy,
            _skus,
        )
        return await self._commands.run(command, changed)

    # --- reconciling and the trail -------------------------------------------------------

    async def reconcile(self, skus: Sequence[str]) -> ReconcileReport:
        wanted = [s.strip() for s in skus if s.strip()]
        if not wanted:
            raise BadUserInput("name at least one SKU to reconcile", field="skus")
        if len(wanted) > MAX_RECONCILE_SKUS:
            raise BadUserInput(
                f"at most {MAX_RECONCILE_SKUS} SKUs at a time; a full reconcile runs on its "
                "schedule or as `commerce-gateway reconcile`",
                field="skus",
            )
        return await self._reconciler.run(wanted)

    async def audit_trail(
        self,
        *,
        sku: str | None,
        location_id: str | None,
        start: datetime | None,
        end: datetime | None,
        kinds: Sequence[AuditKind] | None,
        first: int,
        after: AuditCursor | None,
    ) -> tuple[list[AuditEntry], bool]:
        async with self._uow(read_only=True) as uow:
            return await uow.audit.page(
                sku=sku,
                location_id=location_id,
                start=start,
                end=end,
                kinds=kinds,
                first=first,
                after=after,
            )
