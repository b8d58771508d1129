"""The loops a gateway process runs beside serving requests: the outbox worker, the hold
and no-show sweeper, and the web-order import. Each survives its own errors (logged) and
stops when the app shuts down. Every loop is safe to run in several processes at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from gateway.errors import GatewayError

log = logging.getLogger(__name__)


async def every(
    seconds: float, job: Callable[[], Awaitable[object]], name: str, *, first_after: float = 0.0
) -> None:
    """Run ``job`` every ``seconds`` (the first time after ``first_after``)."""
    await asyncio.sleep(first_after)
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except GatewayError as failed:
            # Expected (a backend down, say): its message says it all, and a traceback
            # every round would bury the log. Repeats are summed up (observability.repeats).
            log.warning(
                "%s failed; trying again in %.0f s: %s",
                name,
                seconds,
                failed,
                extra={"repeat_key": name},
            )
        except Exception:
            log.exception(
                "%s failed; trying again in %.0f s", name, seconds, extra={"repeat_key": name}
            )
        await asyncio.sleep(seconds)


def start(tasks: dict[str, Coroutine[Any, Any, None]]) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(coro, name=name) for name, coro in tasks.items()]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
