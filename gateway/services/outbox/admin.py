"""The dead-letter list as operators see it: what failed, why, what waits behind it, and the
two ways out: try it again, or skip it so the writes behind it go."""

from __future__ import annotations

from datetime import datetime

from gateway.domain.acting import actor
from gateway.domain.outbox import Delivery, DeliveryStatus
from gateway.errors import IllegalTransition, NotFound
from gateway.governance.write_failures import WriteFailures
from gateway.ports import UnitOfWork, UnitOfWorkFactory
from gateway.ports.storage import OutboxBacklog
from gateway.services.commands import Command, Commands
from gateway.services.outbox.blocking import as_seen

STUCK = frozenset({DeliveryStatus.DEAD, DeliveryStatus.BLOCKED})


async def load_delivery(uow: UnitOfWork, delivery_id: str) -> Delivery:
    found = await uow.outbox.get(int(delivery_id))
    if found is None:
        raise NotFound(f"No delivery {delivery_id}", field="id")
    (seen,) = [
        d for d in as_seen(await uow.outbox.for_key(found.message.ordering_key)) if d.id == found.id
    ]
    return seen


class OutboxAdmin:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        commands: Commands,
        failures: WriteFailures | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._commands = commands
        self._failures = failures

    async def failures(self, limit: int, ordering_key: str | None = None) -> list[Delivery]:
        """Dead writes, and the writes of their orders waiting behind them (BLOCKED)."""
        async with self._uow(read_only=True) as uow:
            dead = await uow.outbox.dead(limit=limit, ordering_key=ordering_key)
            keys = sorted({d.message.ordering_key for d in dead})
            related = await uow.outbox.for_keys(keys)
        return [d for d in as_seen(related) if d.status in STUCK][:limit]

    async def backlog(self) -> list[OutboxBacklog]:
        """What is owed and not yet settled, by backend and state (the metrics)."""
        async with self._uow(read_only=True) as uow:
            return await uow.outbox.backlog()

    async def for_order(self, order_id: str) -> list[Delivery]:
        async with self._uow(read_only=True) as uow:
            return as_seen(await uow.outbox.for_key(order_id))

    async def retry(self, delivery_id: int, key: str) -> Delivery:
        async def revive(uow: UnitOfWork, now: datetime) -> Delivery:
            revived = await uow.outbox.revive(delivery_id, now)
            if revived is not None:
                return revived
            found = await load_delivery(uow, str(delivery_id))
            if found.status is DeliveryStatus.DEAD:
                raise IllegalTransition(f"Delivery {delivery_id} cannot be retried")
            # A delivered or pending message: retrying it is harmless, say what it is.
            return found

        command = Command(
            "retryDelivery",
            key,
            {"id": delivery_id},
            str(delivery_id),
            load_delivery,
            skus=lambda _: (),
        )
        return await self._commands.run(command, revive)

    async def skip(self, delivery_id: int, reason: str, key: str) -> Delivery:
        """A dead write never to be sent now (the cancel of an order that shipped): the
        writes behind it go."""

        async def skip(uow: UnitOfWork, now: datetime) -> Delivery:
            skipped = await uow.outbox.skip(delivery_id, reason, now)
            if skipped is None:
                found = await load_delivery(uow, str(delivery_id))
                if found.status is DeliveryStatus.SKIPPED:
                    return found  # skipped already: nothing more to do
                raise IllegalTransition(
                    f"Delivery {delivery_id} is {found.status.value}; only a dead write "
                    "can be skipped",
                    status=found.status.value,
                    requested=DeliveryStatus.SKIPPED.value,
                )
            if self._failures is not None:
                await self._failures.skipped(uow, skipped, reason, now, actor())
            return skipped

        command = Command(
            "skipDelivery",
            key,
            {"id": delivery_id, "reason": reason},
            str(delivery_id),
            load_delivery,
            skus=lambda _: (),
        )
        return await self._commands.run(command, skip)
