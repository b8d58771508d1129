"""Changes between gateway processes over Redis pub/sub (when REDIS_URL is set)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import redis.asyncio as redis

from gateway.events.bus import BETWEEN_PROCESSES_LINGER_SECONDS, REDIS_PAYLOAD_BYTES

log = logging.getLogger(__name__)

CHANNEL = "cg:changes"


def changes_channel(database_url: str) -> str:
    """The channel of the deployment whose shared state is at ``database_url``."""
    return f"{CHANNEL}:{hashlib.sha256(database_url.encode()).hexdigest()[:12]}"


_RESUBSCRIBE_SECONDS = 1.0


class RedisTransport:
    max_bytes = REDIS_PAYLOAD_BYTES
    linger_seconds = BETWEEN_PROCESSES_LINGER_SECONDS

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self._client: redis.Redis = redis.from_url(url)
        self._channel = channel
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, received: Callable[[str], None]) -> None:
        self._reader = asyncio.ensure_future(self._read(received))
        # Subscribed before the first change is published, or this process would miss it.
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def _read(self, received: Callable[[str], None]) -> None:
        while True:
            pubsub: Any = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        data = message["data"]
                        received(data.decode() if isinstance(data, bytes) else str(data))
            except asyncio.CancelledError:
                raise
            except Exception:
                # Changes published while the connection is down are missed here; the
                # subscribers' next change (and the pollers) bring them up to date.
                log.exception("Redis change channel lost; subscribing again")
                await asyncio.sleep(_RESUBSCRIBE_SECONDS)
            finally:
                await pubsub.aclose()

    async def send(self, message: str) -> None:
        await self._client.publish(self._channel, message)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._client.aclose()
