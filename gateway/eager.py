"""Awaiting several coroutines at once, without a task for each one that need not wait.

``asyncio.gather`` wraps every coroutine in a Task (about 4.4 us each on uvloop), and its
caller waits a turn of the event loop even when every value is already in the data cache,
as most of what an answer gathers is: a product page made 19 tasks. ``gather_eagerly``
runs each coroutine at once, in a copy of the caller's context as a task would, up to its
first wait. One that finishes there costs no task; only one that has to wait goes on in a
task of its own, in that same copy. This is what Python 3.12's eager tasks
(``asyncio.eager_task_factory``) do, for 3.11.

Otherwise it behaves as ``asyncio.gather``: the answers in order; with
``return_exceptions`` failures among them; without, the first failure raised while the
others run on (their own failures observed, never logged as unretrieved); the caller
cancelled cancels those still waiting.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator
from functools import partial
from typing import Any, Literal, TypeVar, overload

T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")


@overload
async def gather_eagerly(
    first: Coroutine[Any, Any, T1],
    second: Coroutine[Any, Any, T2],
    /,
    *,
    return_exceptions: Literal[False] = False,
) -> tuple[T1, T2]: ...


@overload
async def gather_eagerly(
    first: Coroutine[Any, Any, T1],
    second: Coroutine[Any, Any, T2],
    third: Coroutine[Any, Any, T3],
    /,
    *,
    return_exceptions: Literal[False] = False,
) -> tuple[T1, T2, T3]: ...


@overload
async def gather_eagerly(
    *coroutines: Coroutine[Any, Any, Any], return_exceptions: bool = False
) -> tuple[Any, ...]: ...


async def gather_eagerly(
    *coroutines: Coroutine[Any, Any, Any], return_exceptions: bool = False
) -> tuple[Any, ...]:
    results: list[Any] = [None] * len(coroutines)
    waiting: dict[int, asyncio.Task[Any]] = {}
    loop = asyncio.get_running_loop()
    failure: Exception | None = None
    for index, coroutine in enumerate(coroutines):
        context = contextvars.copy_context()
        try:
            awaited = context.run(coroutine.send, None)
        except StopIteration as finished:
            results[index] = finished.value
        except Exception as error:
            if return_exceptions:
                results[index] = error
            elif failure is None:
                failure = error
        except BaseException:  # an exit or an interrupt: no more starts
            for unstarted in coroutines[index + 1 :]:
                unstarted.close()
            for task in waiting.values():
                task.cancel()
            raise
        else:
            task = loop.create_task(_resumed(coroutine, awaited), context=context)
            task.add_done_callback(partial(_cut_short, coroutine, context))
            waiting[index] = task
    if failure is not None:
        for task in waiting.values():  # running on, as gather's would
            task.add_done_callback(_observed)
        raise failure
    if waiting:
        done = await asyncio.gather(*waiting.values(), return_exceptions=return_exceptions)
        for index, value in zip(waiting, done, strict=True):
            results[index] = value
    return tuple(results)


async def _resumed(coroutine: Coroutine[Any, Any, Any], awaited: Any) -> Any:
    """The rest of a coroutine that, on its first step, yielded ``awaited`` (the future it
    waits on): handed up to the task that now drives it, then the coroutine itself."""
    return await _rest(coroutine, awaited)


@types.coroutine
def _rest(coroutine: Coroutine[Any, Any, Any], awaited: Any) -> Generator[Any, None, Any]:
    while True:
        try:
            yield awaited
        except BaseException as thrown:  # cancelled while waiting: thrown where it waits
            try:
                awaited = coroutine.throw(thrown)
            except StopIteration as finished:
                return finished.value
            continue
        break
    # Resumed (a task resumes with None): the coroutine goes on from where it waited.
    return (yield from coroutine)


def _cut_short(
    coroutine: Coroutine[Any, Any, Any], context: contextvars.Context, task: asyncio.Task[Any]
) -> None:
    """A task cancelled before its first step never reached the coroutine it continues
    (an unstarted coroutine cannot take what is thrown into it): the cancellation is
    thrown where that coroutine waits, so its handlers run as under any task."""
    if not task.cancelled() or getattr(coroutine, "cr_frame", None) is None:
        return
    try:
        context.run(coroutine.throw, asyncio.CancelledError())
    except BaseException:  # it ended, as cancelled coroutines do
        return
    coroutine.close()  # it waited again, cancelled: nothing will resume it


def _observed(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
