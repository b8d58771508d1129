"""Delivers the outbox: at least once to the backend, exactly once in effect.

Each backend has a handler (gateway.services.outbox.handler): it makes the write through the
backend's port with the message's ``reference`` as the idempotency key, and what came back
is recorded in the same unit of work that marks the message delivered (the Sales Order's
name, the moment the source took over a hold). A worker killed between the backend's
answer and that commit leaves the message leased; when the lease runs out it is delivered
again, the backend recognises the reference, and the same answer is recorded.

Failures: a backend that is down or slow is retried with capped exponential backoff and
jitter; a backend that refuses the write (validation, unknown id) will refuse it again, so
the message goes straight to the dead-letter list, where ``deliveryFailures`` shows it with
the writes of its order waiting behind it (BLOCKED), the order's WRITE_FAILED exception
opens (gateway.governance.write_failures), and ``retryDelivery`` re-queues it once someone
has fixed the cause, or ``skipDelivery`` lets the writes behind it go without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gateway.domain.acting import acting_for
from gateway.domain.outbox import Delivery, UnreadableMessage
from gateway.errors import BackendRejected, BadUserInput, GatewayError, NotFound
from gateway.governance.write_failures import WriteFailures
from gateway.ports import Clock, UnitOfWorkFactory
from gateway.services.commands import OnChange
from gateway.services.outbox.handler import BackendWrites, EarlierResults

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(seconds=60)

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        base = min(self.max_delay, self.first_delay * (2 ** max(0, attempts - 1)))
        return base * (0.5 + rng.random() / 2)  # jitter keeps a crowd of retries apart


PERMANENT = (BackendRejected, NotFound, BadUserInput)


class OutboxWorker:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        handlers: Sequence[BackendWrites[Any]],
        clock: Clock,
        policy: RetryPolicy,
        on_change: OnChange,
        *,
        failures: WriteFailures | None = None,
        batch_size: int = 20,
        rng: random.Random | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._handlers = {handler.target: handler for handler in handlers}
        self._earlier = EarlierResults(unit_of_work)
        self._clock = clock
        self._policy = policy
        # Called after every state change of a delivery with the SKUs whose source figures
        # it changed (often none): it drops those cached figures and every cached answer.
        self._on_change = on_change
        # Dead letters as their orders' exceptions (None: deliveryFailures alone).
        self._failures = failures
        self._batch = batch_size
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Something was enqueued: deliver now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more: ``run_forever`` returns once the round in flight has recorded
        what its backends answered (``commerce-gateway worker`` on SIGTERM)."""
        self._stopping = True
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many messages were attempted."""
        async with self._uow() as uow:
            claimed = await uow.outbox.claim_due(
                now=self._clock.now(), lease=self._policy.lease, limit=self._batch
            )
            await uow.commit()
        # Messages of one ordering key must go in order; different keys may go together.
        by_key: dict[str, list[Delivery]] = {}
        for delivery in claimed:
            by_key.setdefault(delivery.message.ordering_key, []).append(delivery)
        await asyncio.gather(*(self._deliver_in_order(group) for group in by_key.values()))
        return len(claimed)

    async def run_forever(self, idle_seconds: float = 0.5) -> None:
        while not self._stopping:
            # Cleared before the round, not after: a write owed while the round runs wakes
            # the next one at once instead of waiting out the idle time.
            self._wake.clear()
            try:
                attempted = await self.run_once()
            except Exception:
                log.exception("outbox worker round failed; retrying")
                attempted = 0
            if attempted == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle_seconds)

    async def drain(self, max_rounds: int = 100) -> None:
        """Deliver until nothing is due (tests and the demo use it)."""
        for _ in range(max_rounds):
            if await self.run_once() == 0:
                return

    async def _deliver_in_order(self, group: list[Delivery]) -> None:
        for delivery in group:
            if not await self._deliver(delivery):
                return  # later messages of this key wait for this one

    async def _deliver(self, delivery: Delivery) -> bool:
        message = delivery.message
        try:
            if isinstance(message, UnreadableMessage):
                raise BadUserInput(f"the outbox row reads as no message: {message.error}")
            handler = self._handlers.get(message.target)
            if handler is None:
                raise BadUserInput(f"no handler for {message.target} writes")
            delivered = await handler.deliver(message, self._earlier)
        except Exception as exc:  # every failure is recorded on the message, none is lost
            await self._failed(delivery, exc)
            return False
        now = self._clock.now()
        async with self._uow() as uow:
            with acting_for(delivery.requested_by):  # its audit entries name who asked
                changed = await delivered.record(uow, now)
            await uow.outbox.mark_delivered(delivery.id, delivered.result, now)
            # Only a write that failed before can have an exception to close.
            if self._failures is not None and delivery.last_error is not None:
                await self._failures.delivered(uow, delivery, now)
            await uow.commit()
        # Even with no stock figure changed, the delivery's own state did: answers cached
        # in front of the database (deliveryFailures, orderDeliveries, the order's
        # timeline) must not be served from before it.
        await self._on_change(list(changed))
        return True

    async def _failed(self, delivery: Delivery, exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, GatewayError) and not isinstance(exc, PERMANENT):
            permanent = False
        elif isinstance(exc, PERMANENT):
            permanent = True
        else:
            log.exception("outbox delivery %s failed unexpectedly", delivery.id, exc_info=exc)
            permanent = False
        retry_at = None
        if not permanent and delivery.attempts < self._policy.max_attempts:
            retry_at = self._clock.now() + self._policy.delay(delivery.attempts, self._rng)
        async with self._uow() as uow:
            await uow.outbox.mark_failed(delivery.id, message, retry_at=retry_at)
            if retry_at is None and self._failures is not None:
                await self._failures.dead(uow, delivery, message, self._clock.now())
            await uow.commit()
        await self._on_change([])  # the dead-letter list and attempt counts changed
        if retry_at is None:
            log.warning("outbox delivery %s is dead: %s", delivery.id, message)
