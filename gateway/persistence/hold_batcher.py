"""Reserves that arrive while this process's previous database call is in flight go to
PostgreSQL together: one ``gw_take_holds_batch`` call (migrations 0004, 0006, 0024), one
commit.
It is the PostgreSQL ``Reserver`` (gateway.ports.storage).

No timer: a lone request goes at once, and under load the batches grow by themselves.
Every item is decided as if it were alone, in arrival order. Two requests with one
idempotency key are never in one batch, so the second sees the first's outcome.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain import Location
from gateway.domain.idempotency import Claim, FirstUse
from gateway.domain.reservations import HoldRequest
from gateway.persistence.pg_holds import TAKE_HOLDS, hold_item, outcome
from gateway.ports import Clock


@dataclass
class _Waiting:
    item: dict[str, Any]
    location: Location
    done: asyncio.Future[FirstUse | None]


class HoldBatcher:
    def __init__(
        self, engine: AsyncEngine, clock: Clock, horizon: timedelta, *, max_batch: int
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._horizon = horizon
        self._max = max_batch
        self._queue: list[_Waiting] = []
        self._running: asyncio.Task[None] | None = None

    async def reserve(self, claim: Claim, hold: HoldRequest) -> FirstUse | None:
        """Hold and write the reservation (None), or its key's first use; or raise
        InsufficientStock."""
        waiting = _Waiting(
            hold_item(hold, claim),
            hold.location,
            asyncio.get_running_loop().create_future(),
        )
        self._queue.append(waiting)
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._drain())
        return await waiting.done

    async def _drain(self) -> None:
        while self._queue:
            batch: list[_Waiting] = []
            keys: set[str] = set()
            later: list[_Waiting] = []
            for waiting in self._queue:
                if len(batch) < self._max and waiting.item["key"] not in keys:
                    batch.append(waiting)
                    keys.add(waiting.item["key"])
                else:
                    later.append(waiting)
            self._queue = later
            await self._call(batch)

    async def _call(self, batch: list[_Waiting]) -> None:
        now = self._clock.now()
        try:
            async with self._engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                result = await conn.execute(
                    TAKE_HOLDS,
                    {
                        "items": json.dumps([w.item for w in batch]),
                        "now": now,
                        "applied_after": now - self._horizon,
                    },
                )
                answers = result.scalar_one()
        except Exception as exc:  # the whole call failed: every request in it hears why
            for waiting in batch:
                _settle(waiting.done, error=exc)
            return
        if isinstance(answers, str):
            answers = json.loads(answers)
        for waiting, answer in zip(batch, answers, strict=True):
            try:
                _settle(waiting.done, result=outcome(answer, waiting.location))
            except Exception as refused:  # InsufficientStock: this request alone is refused
                _settle(waiting.done, error=refused)


def _settle(
    done: asyncio.Future[FirstUse | None],
    *,
    result: FirstUse | None = None,
    error: BaseException | None = None,
) -> None:
    # A client that went away cancelled its wait; the others in the batch still get theirs.
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)
