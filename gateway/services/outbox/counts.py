"""What a cycle count's correction records once its source has it (Square or ERPNext): the
audit trail's SHRINK or GAIN, with the units and their value at cost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway.domain import SourceSystem
from gateway.domain.acting import actor
from gateway.domain.outbox import ReconcileStock, RecordCount
from gateway.domain.truth import AuditEntry, AuditKind
from gateway.ports import UnitOfWork
from gateway.services.outbox.handler import Record


def count_written(message: RecordCount | ReconcileStock, source: SourceSystem) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        count = await uow.counts.get(message.count_id)
        lines = () if count is None else count.lines
        line = next((line for line in lines if line.sku == message.sku), None)
        variance = None if line is None else line.reckoning.variance
        if count is not None and line is not None and variance:
            value = line.value
            worth = (
                "value unknown (no cost)"
                if value is None or line.unit_cost is None
                else f"{line.unit_cost.currency} {value:+.2f} at cost"
            )
            await uow.audit.add(
                [
                    AuditEntry(
                        now,
                        AuditKind.SHRINK if variance < 0 else AuditKind.GAIN,
                        source,
                        actor(),
                        message.sku,
                        "on_hand",
                        str(line.reckoning.book_at_count),
                        f"{line.counted} counted by {count.counted_by}: {variance:+d}, {worth}",
                        location_id=message.location_id,
                        reference=message.count_id,
                    )
                ]
            )
        return [message.sku]

    return record
