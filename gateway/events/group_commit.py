"""Webhook records written a batch at a time, each delivery acknowledged only once the
transaction holding it has committed.

Every delivery that arrives while a batch is being written waits for the next one, which
takes them all (up to ``max_batch``) in one INSERT and one commit: one delivery at a time
costs what it did alone, a burst costs one transaction per batch instead of one per
delivery. Two copies of one event in a batch are one record: the first is fresh, the other a
replay, as if they had come one after the other.
"""

from __future__ import annotations

import asyncio

from gateway.domain import SourceSystem
from gateway.domain.events import WebhookEvent
from gateway.ports import UnitOfWorkFactory

DEFAULT_MAX_BATCH = 200


class GroupCommit:
    def __init__(self, unit_of_work: UnitOfWorkFactory, max_batch: int = DEFAULT_MAX_BATCH):
        self._uow = unit_of_work
        self._max_batch = max_batch
        self._pending: list[tuple[WebhookEvent, asyncio.Future[bool]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def record(self, event: WebhookEvent) -> bool:
        """True once ``event`` is recorded for the first time; False for a replay."""
        recorded: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((event, recorded))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.ensure_future(self._write())
        return await recorded

    async def _write(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                async with self._uow() as uow:
                    inserted = await uow.webhooks.record_many([event for event, _ in batch])
                    await uow.commit()
            except Exception as error:  # each delivery's request answers it (the backend retries)
                for _, recorded in batch:
                    if not recorded.done():
                        recorded.set_exception(error)
                continue
            seen: set[tuple[SourceSystem, str]] = set()
            for event, recorded in batch:
                key = (event.system, event.key[:200])
                fresh = key in inserted and key not in seen
                seen.add(key)
                if not recorded.done():  # its request may have been cancelled meanwhile
                    recorded.set_result(fresh)
