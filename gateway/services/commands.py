"""The one path every mutation takes.

    claim the idempotency key ─┬─ first use: run the change, commit ──┐
                               └─ used before: same request? ─ yes: load what it made
                                                              └ no: IDEMPOTENCY_KEY_REUSED
    announce what changed (cached answers, the outbox worker) <───────┘

The claim, the change and the outbox messages the change owes commit in one unit of work,
so a request that fails records nothing, not even its key, and a retry with the same key
gets the first result back as it is now. Writing a mutation means writing its change (and
how to load what it returns); nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from gateway.domain.idempotency import Claim, FirstUse, fingerprint, replayed_resource, validate_key
from gateway.ports import Clock, UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")

# Called with the SKUs whose figures a change touched (often none): drops cached answers.
OnChange = Callable[[Sequence[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Command(Generic[T]):
    """One mutation request.

    ``operation`` is the GraphQL mutation's name; ``arguments`` what makes two requests the
    same request; ``resource_id`` what the key will point at (the id of what the request
    makes, or of what it changes). ``load`` reads that resource back (for a retry), and
    ``skus`` says which SKUs' figures it touches.
    """

    operation: str
    key: str
    arguments: Mapping[str, object]
    resource_id: str
    load: Callable[[UnitOfWork, str], Awaitable[T]]
    skus: Callable[[T], Iterable[str]]

    def claim(self) -> Claim:
        validate_key(self.key)
        return Claim(
            self.key,
            self.operation,
            fingerprint(self.operation, self.arguments),
            self.resource_id,
        )


Change = Callable[[UnitOfWork, datetime], Awaitable[T]]
# Claims the key and writes, committed together, outside a unit of work of ours (the
# PostgreSQL hold batcher): None once written, else the key's first use.
ClaimingWrite = Callable[[Claim], Awaitable[FirstUse | None]]


class Commands:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        on_change: OnChange,
        wake_worker: Callable[[], None],
    ) -> None:
        self._uow = unit_of_work
        self._clock = clock
        self._on_change = on_change
        self._wake_worker = wake_worker

    async def run(self, command: Command[T], change: Change[T]) -> T:
        """Claim, then ``change`` (returning what the mutation answers), in one unit of
        work; or the first result when this is a retry."""
        claim = command.claim()
        now = self._clock.now()
        async with self._uow() as uow:
            first = await uow.idempotency.claim(claim, now)
            if first is None:
                result = await change(uow, now)
                await uow.commit()
                owed = uow.outbox.owed
            else:
                result = await command.load(uow, replayed_resource(first, claim))
                owed = 0
        await self._announce(command, result, owed)
        return result

    async def run_claimed(
        self, command: Command[T], write: ClaimingWrite, written: Callable[[], T]
    ) -> T:
        """The same for a write that claims the key itself; ``written`` is its result."""
        claim = command.claim()
        first = await write(claim)
        if first is None:
            result = written()
        else:
            resource_id = replayed_resource(first, claim)
            async with self._uow() as uow:
                result = await command.load(uow, resource_id)
        await self._announce(command, result, owed=0)
        return result

    async def replayed(self, command: Command[T]) -> T | None:
        """What an earlier request with this key made, before any expensive work; None on a
        first use (which is claimed later, by ``run``)."""
        claim = command.claim()
        async with self._uow() as uow:
            first = await uow.idempotency.first_use(claim.key)
            if first is None:
                return None
            return await command.load(uow, replayed_resource(first, claim))

    async def _announce(self, command: Command[T], result: T, owed: int) -> None:
        await self._on_change(list(command.skus(result)))
        if owed:
            self._wake_worker()
