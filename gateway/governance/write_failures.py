"""A dead-lettered write as its order's exception (WRITE_FAILED), kept in step with it.

When a write an order owes is dead-lettered, the order's WRITE_FAILED exception for that
system opens (or reopens) with the backend's refusal and how many writes wait behind it,
and the order's timeline says so. It closes by itself once no write of the order to that
system is dead (a retry got through), or is resolved by whoever skipped the write.
A write that belongs to no order (a standalone reservation) is left to deliveryFailures.
"""

from __future__ import annotations

from datetime import datetime

from gateway.config import TruthSettings
from gateway.domain import SourceSystem
from gateway.domain.orders import OrderEvent
from gateway.domain.outbox import Delivery, DeliveryStatus
from gateway.domain.truth import (
    Discrepancy,
    DiscrepancyKey,
    DiscrepancyKind,
    Figure,
    Resolution,
)
from gateway.governance.exceptions import order_exception
from gateway.ports import UnitOfWork
from gateway.services.outbox.blocking import as_seen
from gateway.truth import queue
from gateway.truth.reconciler import new_discrepancy_id

KIND = DiscrepancyKind.WRITE_FAILED


class WriteFailures:
    def __init__(self, policy: TruthSettings) -> None:
        self._policy = policy

    async def dead(self, uow: UnitOfWork, delivery: Delivery, error: str, now: datetime) -> None:
        """``delivery`` was dead-lettered with ``error``."""
        message = delivery.message
        order_id = message.ordering_key
        if not await uow.orders.exists(order_id):
            return
        waiting = [
            d
            for d in as_seen(await uow.outbox.for_key(order_id))
            if d.status is DeliveryStatus.BLOCKED and d.id > delivery.id
        ]
        finding = order_exception(
            KIND,
            order_id,
            system=message.target,
            expected=Figure(
                SourceSystem.GATEWAY, f"{message.kind} {message.reference}", delivery.created_at
            ),
            found=Figure(message.target, f"refused: {error}", now),
            rule="a write an order owes must reach its system; the writes behind it wait",
            policy=self._policy,
            delta=len(waiting),
        )
        record = (await uow.discrepancies.of_orders([order_id])).get(finding.key)
        if record is None:
            await uow.discrepancies.add(
                [queue.opened(finding, new_discrepancy_id(), now, self._policy)]
            )
        else:
            updated = queue.seen_again(record, finding, now, self._policy)
            if updated is not None:
                await uow.discrepancies.save([updated])
        behind = f"; {len(waiting)} write(s) wait behind it" if waiting else ""
        await uow.orders.add_event(
            order_id,
            OrderEvent(
                now,
                "WRITE_FAILED",
                message.target,
                detail=f"{message.kind} dead-lettered (delivery {delivery.id}): {error}{behind}",
            ),
        )

    async def delivered(self, uow: UnitOfWork, delivery: Delivery, now: datetime) -> None:
        """``delivery`` got through after failing: its exception closes once nothing of
        the order to that system is dead."""
        record = await self._open_record(uow, delivery)
        if record is None or await self._still_dead(uow, delivery):
            return
        note = f"delivery {delivery.id} ({delivery.message.kind}) went through"
        await uow.discrepancies.save([queue.agreed(record, now, note, actor="gateway")])

    async def skipped(
        self, uow: UnitOfWork, delivery: Delivery, reason: str, now: datetime, actor: str
    ) -> None:
        """Someone decided ``delivery`` must not happen: the writes behind it go now."""
        order_id = delivery.message.ordering_key
        if not await uow.orders.exists(order_id):
            return
        await uow.orders.add_event(
            order_id,
            OrderEvent(
                now,
                "WRITE_SKIPPED",
                SourceSystem.GATEWAY,
                detail=f"{delivery.message.kind} (delivery {delivery.id}) skipped: {reason}",
            ),
        )
        record = await self._open_record(uow, delivery)
        if record is not None and not await self._still_dead(uow, delivery):
            note = f"delivery {delivery.id} skipped: {reason}"
            await uow.discrepancies.save(
                [queue.resolved(record, Resolution.ACCEPTED, now, actor, note)]
            )

    async def _open_record(self, uow: UnitOfWork, delivery: Delivery) -> Discrepancy | None:
        order_id = delivery.message.ordering_key
        key = DiscrepancyKey(KIND, "", "", delivery.message.target, order_id)
        record = (await uow.discrepancies.of_orders([order_id])).get(key)
        return record if record is not None and record.status.is_open else None

    async def _still_dead(self, uow: UnitOfWork, delivery: Delivery) -> bool:
        return any(
            d.status is DeliveryStatus.DEAD
            and d.id != delivery.id
            and d.message.target is delivery.message.target
            for d in await uow.outbox.for_key(delivery.message.ordering_key)
        )
