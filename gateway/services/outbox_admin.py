"""The dead-letter list as operators see it: what failed, why, and a way to try again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from gateway.domain.outbox import Delivery, DeliveryStatus
from gateway.errors import IllegalTransition, NotFound
from gateway.persistence import idempotency, outbox
from gateway.persistence.database import Database
from gateway.ports import Clock

OnChange = Callable[[Sequence[str]], Awaitable[None]]


class OutboxAdmin:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        wake_worker: Callable[[], None],
        on_change: OnChange | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._wake = wake_worker
        # Drops whole answers cached in front of the database (deliveryFailures) once a
        # dead delivery is revived.
        self._on_change = on_change

    async def failures(self, limit: int, ordering_key: str | None = None) -> list[Delivery]:
        async with self._db.transaction() as conn:
            return await outbox.list_by_status(
                conn, [DeliveryStatus.DEAD], limit=limit, ordering_key=ordering_key
            )

    async def for_order(self, order_id: str) -> list[Delivery]:
        async with self._db.transaction() as conn:
            return await outbox.for_key(conn, order_id)

    async def retry(self, delivery_id: int, key: str) -> Delivery:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            replay = await idempotency.claim(
                conn,
                key=key,
                operation="retryDelivery",
                fingerprint=idempotency.request_hash("retryDelivery", {"id": delivery_id}),
                resource_id=str(delivery_id),
                now=now,
            )
            revived = None if replay else await outbox.retry(conn, delivery_id, now)
            if revived is None:
                found = await outbox.get(conn, delivery_id)
                if found is None:
                    raise NotFound(f"No delivery {delivery_id}", field="id")
                if replay or found.status is not DeliveryStatus.DEAD:
                    # Retrying twice (or a delivered message) is harmless: say what it is.
                    return found
                raise IllegalTransition(f"Delivery {delivery_id} cannot be retried")
        if self._on_change is not None:
            await self._on_change([])
        self._wake()
        return revived
