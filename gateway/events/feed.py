"""Changes fanned out to the subscribers of one process.

Every subscriber has its own bounded queue. A subscriber that does not keep up (its client
reads slower than changes come, so its socket's buffers are full and the queue fills
behind them) is dropped when the queue is full: its queue is let go at once, it is told
through ``on_drop`` (the GraphQL layer closes its socket with a clear code), and its next
read raises ``SlowSubscriber``. Memory per subscriber is bounded by ``limit`` changes.

Subscribers often ask the same question of one change (a thousand product pages watching
one SKU): ``shared`` lets them compute an answer once per change and share it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.domain.events import Change

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 256  # changes a subscriber may leave unread before it is dropped
_SHARED_ANSWERS = 1024

T = TypeVar("T")


class SlowSubscriber(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"subscriber dropped: more than {limit} changes left unread")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Delivered:
    seq: int  # this process's number for the change: what shared answers are keyed by
    change: Change


class Subscription:
    def __init__(
        self,
        feed: ChangeFeed,
        wants: Callable[[Change], bool],
        limit: int,
        on_drop: Callable[[SlowSubscriber], None] | None,
    ) -> None:
        self._feed = feed
        self._wants = wants
        self._limit = limit
        self._on_drop = on_drop
        self._queue: deque[Delivered] = deque()
        self._ready = asyncio.Event()
        self.dropped: SlowSubscriber | None = None

    def offer(self, delivered: Delivered) -> None:
        if self.dropped is not None or not self._wants(delivered.change):
            return
        if len(self._queue) >= self._limit:
            self._drop()
            return
        self._queue.append(delivered)
        self._ready.set()

    def _drop(self) -> None:
        self.dropped = SlowSubscriber(self._limit)
        self._queue.clear()
        self._feed.remove(self)
        self._ready.set()
        if self._on_drop is not None:
            self._on_drop(self.dropped)

    async def next(self) -> Delivered:
        while True:
            if self.dropped is not None:
                raise self.dropped
            if self._queue:
                return self._queue.popleft()
            self._ready.clear()
            await self._ready.wait()

    def __aiter__(self) -> AsyncIterator[Delivered]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Delivered]:
        while True:
            yield await self.next()

    def close(self) -> None:
        self._feed.remove(self)

    @property
    def unread(self) -> int:
        return len(self._queue)


class ChangeFeed:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._subscribers: dict[int, Subscription] = {}
        self._seq = 0
        self._shared: OrderedDict[tuple[int, Hashable], asyncio.Future[Any]] = OrderedDict()
        self.dropped = 0

    def subscribe(
        self,
        wants: Callable[[Change], bool],
        on_drop: Callable[[SlowSubscriber], None] | None = None,
    ) -> Subscription:
        subscription = Subscription(self, wants, self._limit, on_drop)
        self._subscribers[id(subscription)] = subscription
        return subscription

    def remove(self, subscription: Subscription) -> None:
        if self._subscribers.pop(id(subscription), None) is not None and subscription.dropped:
            self.dropped += 1
            log.warning("%s", subscription.dropped)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def deliver(self, changes: Sequence[Change]) -> None:
        for change in changes:
            self._seq += 1
            delivered = Delivered(self._seq, change)
            for subscription in list(self._subscribers.values()):
                subscription.offer(delivered)

    async def shared(
        self, delivered: Delivered, key: Hashable, compute: Callable[[], Awaitable[T]]
    ) -> T:
        """``compute``'s answer for this change and ``key``, computed once for every
        subscriber that asks (the first asker's failure is every asker's)."""
        slot = (delivered.seq, key)
        future = self._shared.get(slot)
        if future is None:
            future = asyncio.ensure_future(compute())
            self._shared[slot] = future
            while len(self._shared) > _SHARED_ANSWERS:
                self._shared.popitem(last=False)
        return await asyncio.shield(future)
