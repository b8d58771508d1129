"""gateway.eager.gather_eagerly: asyncio.gather's answers, without a task for a coroutine
that need not wait."""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.eager import gather_eagerly

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="caller")


async def behave(index: int, waits: int, fails: bool) -> int:
    """Sets its own mark, waits ``waits`` turns of the loop, then answers or fails."""
    seen.set(f"coroutine {index}")
    for _ in range(waits):
        await asyncio.sleep(0)
        assert seen.get() == f"coroutine {index}"  # its own context throughout
    if fails:
        raise ValueError(index)
    return index * 10


behaviours = st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=6)


def outcome(values: list[object]) -> list[object]:
    return [repr(v) if isinstance(v, BaseException) else v for v in values]


@settings(max_examples=60, deadline=None)
@given(behaviours)
def test_with_return_exceptions_it_answers_as_gather_does(plan):
    async def both() -> tuple[list[object], list[object]]:
        eager = await gather_eagerly(
            *(behave(i, w, f) for i, (w, f) in enumerate(plan)), return_exceptions=True
        )
        assert seen.get() == "caller"  # nothing it ran set the caller's context
        plain = await asyncio.gather(
            *(behave(i, w, f) for i, (w, f) in enumerate(plan)), return_exceptions=True
        )
        return outcome(list(eager)), outcome(plain)

    eager, plain = asyncio.run(both())
    assert eager == plain


@settings(max_examples=60, deadline=None)
@given(behaviours)
def test_without_it_the_first_failure_is_raised_and_the_others_run_on_as_under_gather(plan):
    async def run() -> None:
        finished: list[int] = []

        async def recorded(index: int, waits: int, fails: bool) -> int:
            try:
                return await behave(index, waits, fails)
            finally:
                finished.append(index)

        coroutines = [recorded(i, w, f) for i, (w, f) in enumerate(plan)]
        first_failing = next((i for i, (_, f) in enumerate(plan) if f), None)
        if first_failing is None:
            assert list(await gather_eagerly(*coroutines)) == [i * 10 for i in range(len(plan))]
        else:
            with pytest.raises(ValueError):
                await gather_eagerly(*coroutines)
        for _ in range(5):  # the longest waits 3 turns
            await asyncio.sleep(0)
        assert sorted(finished) == list(range(len(plan)))  # every one ran to its end

    asyncio.run(run())


async def test_coroutines_that_need_not_wait_make_no_task():
    made: Counter[str] = Counter()
    loop = asyncio.get_running_loop()

    def counting(loop_, coroutine, **kwargs):
        made[coroutine.__qualname__] += 1
        return asyncio.Task(coroutine, loop=loop_, **kwargs)

    loop.set_task_factory(counting)
    try:
        assert await gather_eagerly(behave(1, 0, False), behave(2, 0, False)) == (10, 20)
        assert sum(made.values()) == 0
        assert await gather_eagerly(behave(1, 0, False), behave(2, 2, False)) == (10, 20)
        assert sum(made.values()) == 1  # only the one that waited
    finally:
        loop.set_task_factory(None)


async def test_cancelled_while_waiting_it_cancels_what_it_waits_for():
    stopped: list[str] = []

    async def slow(name: str) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            stopped.append(name)
            raise

    call = asyncio.ensure_future(gather_eagerly(slow("a"), slow("b")))
    await asyncio.sleep(0.01)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert sorted(stopped) == ["a", "b"]


async def test_cancelled_before_its_tasks_first_step_the_waiting_coroutine_still_sees_it():
    """A cancellation that lands in the same turn as the call (a deadline's timer, say)
    reaches the task before its first step; the coroutine it continues is told all the
    same, and its handlers run."""
    stopped: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            stopped.append("slow")
            raise

    call = asyncio.ensure_future(gather_eagerly(slow()))
    asyncio.get_running_loop().call_soon(call.cancel)  # before the inner task's first step
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0)
    assert stopped == ["slow"]
