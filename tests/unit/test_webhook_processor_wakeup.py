"""The webhook processor never sleeps through an event: a delivery recorded while a round's
claim is running wakes the next round at once (found by bench/realtime.py: a sale waited the
processor's full idle time, p99 over the 1 s target)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from gateway.events.processor import WebhookProcessor


class SlowInbox:
    """Its first claim finds nothing, but only after a while; later ones count."""

    def __init__(self) -> None:
        self.claims = 0
        self.first_claim_running = asyncio.Event()
        self.let_first_claim_end = asyncio.Event()

    async def claim_due(self, **_: Any) -> list[Any]:
        self.claims += 1
        if self.claims == 1:
            self.first_claim_running.set()
            await self.let_first_claim_end.wait()
        return []


class Clock:
    def now(self) -> datetime:
        return datetime(2026, 12, 4, tzinfo=UTC)


async def test_a_wake_during_a_claim_that_found_nothing_is_not_lost():
    inbox = SlowInbox()

    class Uow:
        webhooks = inbox

        async def commit(self) -> None:
            return None

    @asynccontextmanager
    async def unit_of_work(**_: Any) -> AsyncIterator[Uow]:
        yield Uow()

    none: Any = None
    processor = WebhookProcessor(unit_of_work, none, none, none, none, none, Clock())
    running = asyncio.create_task(processor.run_forever(idle_seconds=30))
    try:
        await asyncio.wait_for(inbox.first_claim_running.wait(), 5)
        processor.wake()  # a delivery was recorded while the claim ran
        inbox.let_first_claim_end.set()
        for _ in range(100):  # the next round comes at once, not after the idle 30 s
            if inbox.claims >= 2:
                break
            await asyncio.sleep(0.01)
        assert inbox.claims >= 2
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
