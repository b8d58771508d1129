"""gateway.gathering.gather gives what asyncio.gather gives, takes no turn of the event loop
when nothing waits, and leaves every timeout in the task that entered it."""

from __future__ import annotations

import asyncio
import contextvars

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import gathering

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="caller")

# What a coroutine does before it ends (returns or raises): give the loop a turn, wait for a
# future another callback resolves, set a context variable, or run under a timeout.
STEP = st.sampled_from(["turn", "wait", "set", "timed"])
PROGRAM = st.tuples(st.lists(STEP, max_size=3), st.sampled_from(["return", "raise"]))


class Refused(Exception):
    pass


async def run(program: tuple[list[str], str], n: int, log: list[str]) -> str:
    steps, end = program
    for step in steps:
        if step == "turn":
            await asyncio.sleep(0)
        elif step == "wait":
            future = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(future.set_result, None)
            await future
        elif step == "timed":
            async with asyncio.timeout(5):
                await asyncio.sleep(0)
        else:
            seen.set(f"coroutine {n}")
        log.append(f"{n}:{step}:{seen.get()}")
    if end == "raise":
        raise Refused(n)
    return f"{n}:{seen.get()}"


async def outcome(gather, programs, return_exceptions: bool) -> tuple[object, list[str]]:
    log: list[str] = []
    try:
        got = await gather(
            *(run(p, n, log) for n, p in enumerate(programs)), return_exceptions=return_exceptions
        )
        result: object = [repr(r) if isinstance(r, Exception) else r for r in got]
    except Refused:
        result = "raised"
    await asyncio.sleep(0.01)  # what a failure left running ends
    return result, sorted(log)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs=st.lists(PROGRAM, max_size=4), return_exceptions=st.booleans())
def test_it_answers_as_asyncio_gather_and_keeps_each_coroutines_context_its_own(
    programs, return_exceptions
) -> None:
    async def both():
        theirs = await outcome(asyncio.gather, programs, return_exceptions)
        ours = await outcome(gathering.gather, programs, return_exceptions)
        return theirs, ours, seen.get()

    theirs, ours, after = asyncio.run(both())
    assert ours[0] == theirs[0]  # the same results, or both raised
    if theirs[0] != "raised":
        assert ours[1] == theirs[1]  # every coroutine did all it does
    assert after == "caller"  # no coroutine's setting reached the caller


async def test_coroutines_that_finish_at_once_take_no_turn_of_the_loop() -> None:
    turns = 0

    async def count() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    async def cached(value: int) -> int:
        return value

    counter = asyncio.ensure_future(count())
    await asyncio.sleep(0)
    before = turns
    assert await gathering.gather(cached(1), cached(2), cached(3)) == (1, 2, 3)
    assert turns == before
    await asyncio.gather(cached(1), cached(2))
    assert turns > before  # asyncio's gather waits a turn for its tasks
    counter.cancel()


async def test_the_coroutines_after_one_that_waits_run_beside_it() -> None:
    async def slow(value: int) -> int:
        await asyncio.sleep(0.2)
        return value

    started = asyncio.get_running_loop().time()
    assert await gathering.gather(slow(1), slow(2), slow(3)) == (1, 2, 3)
    assert asyncio.get_running_loop().time() - started < 0.35  # not 0.6: side by side


async def test_a_timeout_entered_by_a_coroutine_that_waits_stays_in_its_task() -> None:
    # Given coroutines that enter an asyncio timeout and an anyio cancel scope (httpx's)
    # before they wait, one of them waiting past its timeout
    async def timed(seconds: float) -> str:
        try:
            async with asyncio.timeout(0.05):
                await asyncio.sleep(seconds)
        except TimeoutError:
            return "timed out"
        return "in time"

    async def scoped() -> str:
        with anyio.fail_after(1):
            await asyncio.sleep(0.01)
        return "scoped"

    # When they are gathered, then each timeout ends its own wait, and the caller's task
    # was never cancelled
    assert await gathering.gather(timed(1), scoped(), timed(0)) == (
        "timed out",
        "scoped",
        "in time",
    )
    assert asyncio.current_task().cancelling() == 0


@pytest.mark.parametrize("turns", [0, 3])
async def test_cancelling_the_caller_cancels_every_coroutine_still_running(turns: int) -> None:
    cancelled: list[int] = []

    async def slow(n: int) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise

    async def quick() -> int:
        return 1

    task = asyncio.ensure_future(gathering.gather(quick(), slow(1), slow(2)))
    for _ in range(turns + 1):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    # The one waiting in the caller's task, and the one in a task of its own once started.
    assert 1 in cancelled
    if turns:
        assert sorted(cancelled) == [1, 2]
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_a_failure_before_any_wait_is_raised_and_the_rest_never_run() -> None:
    ran: list[str] = []

    async def fails() -> None:
        raise Refused("at once")

    async def later() -> None:
        ran.append("later")

    with pytest.raises(Refused):
        await gathering.gather(fails(), later())
    await asyncio.sleep(0)
    assert ran == []
