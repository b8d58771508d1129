"""The dead-letter list as operators see it: what failed, why, and a way to try again."""

from __future__ import annotations

from datetime import datetime

from gateway.domain.outbox import Delivery, DeliveryStatus
from gateway.errors import IllegalTransition, NotFound
from gateway.ports import UnitOfWork, UnitOfWorkFactory
from gateway.services.commands import Command, Commands


async def load_delivery(uow: UnitOfWork, delivery_id: str) -> Delivery:
    found = await uow.outbox.get(int(delivery_id))
    if found is None:
        raise NotFound(f"No delivery {delivery_id}", field="id")
    return found


class OutboxAdmin:
    def __init__(self, unit_of_work: UnitOfWorkFactory, commands: Commands) -> None:
        self._uow = unit_of_work
        self._commands = commands

    async def failures(self, limit: int, ordering_key: str | None = None) -> list[Delivery]:
        async with self._uow() as uow:
            return await uow.outbox.dead(limit=limit, ordering_key=ordering_key)

    async def for_order(self, order_id: str) -> list[Delivery]:
        async with self._uow() as uow:
            return await uow.outbox.for_key(order_id)

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
