"""What a backend's outbox handler is (one per backend: erp, pos, oms, storefront).

``deliver`` makes the write through the backend's port, outside any transaction, and must
be safe to repeat (the adapters make each write idempotent on the message's reference). It
answers with what the backend said (a ``WriteResult``, kept with the message) and what to
record once the delivery is marked done: that record runs in the unit of work that marks it
delivered, and is where a hold learns that its source has taken over (``applied_at``) and an
order learns each system's id and status. It returns the SKUs whose cached source figures
it changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol, TypeVar

from gateway.domain import SourceSystem
from gateway.domain.orders import NO_CHANGES, OrderChanges, OrderEvent
from gateway.domain.outbox import WriteResult
from gateway.errors import BackendRejected
from gateway.ports import UnitOfWork, UnitOfWorkFactory

M_contra = TypeVar("M_contra", contravariant=True)
R = TypeVar("R", bound=WriteResult)

Record = Callable[[UnitOfWork, datetime], Awaitable[Sequence[str]]]


async def nothing_to_record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
    return ()


@dataclass(frozen=True, slots=True)
class Delivered:
    result: WriteResult
    record: Record = nothing_to_record


class EarlierResults:
    """What backends answered to earlier writes, for a write that depends on one (a cancel
    needs the id its create was given)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self._uow = unit_of_work

    async def of(self, reference: str, result: type[R]) -> R:
        async with self._uow() as uow:
            stored = await uow.outbox.result_of(reference)
        if stored is None:
            raise BackendRejected(
                f"the write {reference!r} this one depends on was never delivered",
                backend="gateway",
            )
        return result.model_validate(stored)


class BackendWrites(Protocol[M_contra]):
    target: ClassVar[SourceSystem]

    async def deliver(self, message: M_contra, earlier: EarlierResults) -> Delivered: ...


async def note_on_order(
    uow: UnitOfWork,
    order_id: str,
    now: datetime,
    source: SourceSystem,
    kind: str,
    detail: str,
    changes: OrderChanges = NO_CHANGES,
) -> None:
    """A backend's write on the order's timeline (and what it told us of the order)."""
    if not await uow.orders.exists(order_id):
        return  # a standalone reservation, not an order
    if changes != NO_CHANGES:
        await uow.orders.update(order_id, now, changes)
    await uow.orders.add_event(order_id, OrderEvent(now, kind, source, detail=detail))
