"""``gather``: asyncio.gather for coroutines that usually finish without waiting.

The read path gathers reference data and readings (the node list, kits, stock) that are
almost always in the in-process cache. ``asyncio.gather`` wraps every coroutine in a task
and suspends the caller for a turn of the event loop, whether or not any of them has
anything to wait for: measured on ``reserve`` (five gathers of cached data), awaiting them
in turn instead used 13-20 % less of the gateway's CPU.

So the coroutines are run in the caller's own task, one after the other, as ``await``
would run them, until one has to wait: that one goes on waiting in the caller's task, and
every coroutine after it is started at once in a task of its own, as asyncio.gather would
start it. Nothing runs in a task other than the one it started in, so a timeout or a cancel
scope entered by a coroutine (httpx's, redis-py's, asyncpg's) is left in the task that
entered it. (Running a coroutine's first step eagerly and handing the rest to a new task, as
Python 3.12's eager tasks do, breaks exactly that on 3.11: the README's Benchmarks section.)

As with asyncio.gather: results in the order given; each coroutine in a copy of the
caller's context, so what one sets is its own; cancelling the caller cancels every
coroutine still running; ``return_exceptions`` puts each failure in its place, otherwise the
first failure is raised. Unlike it, a failure before any coroutine had to wait is raised
before the coroutines after it are started (they are closed, never run): the callers here
only read.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import Any, Literal, TypeVar, overload

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")


@types.coroutine
def _drive(
    coro: Coroutine[Any, Any, Any], context: contextvars.Context, yielded: Any
) -> Generator[Any, Any, Any]:
    """Go on running ``coro`` (which yielded ``yielded``) in the task running this, in
    ``context``: what it waits on is handed to the task, what the task sends or throws back
    is handed to it."""
    while True:
        try:
            sent = yield yielded
        except BaseException as thrown:  # the task's cancellation, passed on
            try:
                yielded = context.run(coro.throw, thrown)
            except StopIteration as done:
                return done.value
        else:
            try:
                yielded = context.run(coro.send, sent)
            except StopIteration as done:
                return done.value


@overload
async def gather(
    a: Coroutine[Any, Any, A],
    b: Coroutine[Any, Any, B],
    /,
    *,
    return_exceptions: Literal[False] = ...,
) -> tuple[A, B]: ...


@overload
async def gather(
    a: Coroutine[Any, Any, A],
    b: Coroutine[Any, Any, B],
    c: Coroutine[Any, Any, C],
    /,
    *,
    return_exceptions: Literal[False] = ...,
) -> tuple[A, B, C]: ...


@overload
async def gather(
    *coros: Coroutine[Any, Any, Any], return_exceptions: bool = ...
) -> tuple[Any, ...]: ...


async def gather(
    *coros: Coroutine[Any, Any, Any], return_exceptions: bool = False
) -> tuple[Any, ...]:
    results: list[Any] = [None] * len(coros)
    for index, coro in enumerate(coros):
        context = contextvars.copy_context()
        try:
            yielded = context.run(coro.send, None)
        except StopIteration as done:
            results[index] = done.value
            continue
        except Exception as error:
            if not return_exceptions:
                _close(coros[index + 1 :])
                raise
            results[index] = error
            continue
        except BaseException:
            _close(coros[index + 1 :])
            raise
        # It waits: the rest start now, each in its own task, while it goes on here.
        rest = asyncio.gather(*coros[index + 1 :], return_exceptions=return_exceptions)
        try:
            results[index] = await _drive(coro, context, yielded)
        except Exception as error:
            if not return_exceptions:
                _orphan(rest)
                raise
            results[index] = error
        except BaseException:
            rest.cancel()
            _orphan(rest)
            raise
        results[index + 1 :] = await rest
        break
    return tuple(results)


def _close(unstarted: tuple[Coroutine[Any, Any, Any], ...]) -> None:
    for coro in unstarted:
        coro.close()


# Gathers left running when a coroutine before them failed, kept until they end (the event
# loop keeps only weak references to tasks), their outcome marked as seen.
_running: set[asyncio.Future[Any]] = set()


def _orphan(rest: asyncio.Future[Any]) -> None:
    _running.add(rest)
    rest.add_done_callback(_seen)


def _seen(rest: asyncio.Future[Any]) -> None:
    _running.discard(rest)
    if not rest.cancelled():
        rest.exception()
