"""The same failure is written once per window, then counted (gateway.observability.repeats)."""

from __future__ import annotations

import io
import itertools
import logging

from hypothesis import given
from hypothesis import strategies as st

from gateway.observability.repeats import RepeatLimitedHandler, RepeatLimiter

WINDOW = 60.0


def test_given_50_repeats_within_a_window_then_one_is_written_and_49_counted():
    limiter: RepeatLimiter[str, str] = RepeatLimiter(WINDOW)
    written = [limiter.admit("erp down", "erpnext refused", now=i * 0.1) for i in range(50)]
    assert written.count(True) == 1
    assert limiter.due(now=59.0) == []  # the window is still open
    (summary,) = limiter.due(now=60.0)
    assert (summary.key, summary.sample, summary.count) == ("erp down", "erpnext refused", 49)
    assert limiter.due(now=120.0) == []  # said once


def test_when_the_failure_goes_on_after_the_window_then_it_is_written_again_after_its_count():
    limiter: RepeatLimiter[str, str] = RepeatLimiter(WINDOW)
    assert limiter.admit("k", "first", now=0.0)
    assert not limiter.admit("k", "again", now=30.0)
    assert limiter.admit("k", "later", now=61.0)
    (summary,) = limiter.due(now=61.0)
    assert (summary.sample, summary.count) == ("first", 1)


def test_different_failures_are_each_written_once():
    limiter: RepeatLimiter[str, str] = RepeatLimiter(WINDOW)
    assert limiter.admit("erpnext", "a", now=0.0)
    assert limiter.admit("square", "b", now=0.5)
    assert not limiter.admit("erpnext", "a", now=1.0)


def test_a_failure_seen_once_owes_no_summary():
    limiter: RepeatLimiter[str, str] = RepeatLimiter(WINDOW)
    limiter.admit("k", "once", now=0.0)
    assert limiter.due(now=1000.0) == []
    assert limiter.drain() == []


def test_at_shutdown_the_counts_of_open_windows_are_owed():
    limiter: RepeatLimiter[str, str] = RepeatLimiter(WINDOW)
    for i in range(5):
        limiter.admit("k", "x", now=float(i))
    assert [s.count for s in limiter.drain()] == [4]


def test_past_its_key_limit_the_oldest_failure_is_summed_up_and_forgotten():
    limiter: RepeatLimiter[int, str] = RepeatLimiter(WINDOW, max_keys=2)
    limiter.admit(1, "one", now=0.0)
    limiter.admit(1, "one", now=0.1)
    limiter.admit(2, "two", now=0.2)
    limiter.admit(3, "three", now=0.3)  # 1 is evicted, its repeat owed
    assert [(s.key, s.count) for s in limiter.due(now=0.3)] == [(1, 1)]


events = st.lists(
    st.tuples(st.sampled_from("abc"), st.floats(min_value=0, max_value=10, allow_nan=False)),
    max_size=200,
).map(lambda items: sorted(items, key=lambda item: item[1]))


@given(events, st.floats(min_value=0.5, max_value=5))
def test_every_occurrence_is_written_or_counted_exactly_once(occurrences, window):
    """Nothing is lost and nothing is counted twice; a kind is written at most once per
    window."""
    limiter: RepeatLimiter[str, str] = RepeatLimiter(window)
    written: dict[str, list[float]] = {}
    counted = 0
    for key, now in occurrences:
        if limiter.admit(key, key, now):
            written.setdefault(key, []).append(now)
        counted += sum(s.count for s in limiter.due(now))
    counted += sum(s.count for s in limiter.drain())
    assert sum(map(len, written.values())) + counted == len(occurrences)
    for times in written.values():
        assert all(later - earlier >= window for earlier, later in itertools.pairwise(times))


def _handler(clock: list[float]) -> tuple[logging.Logger, io.StringIO, RepeatLimitedHandler]:
    stream = io.StringIO()
    handler = RepeatLimitedHandler(stream, window_seconds=WINDOW, clock=lambda: clock[0])
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger(f"tests.repeats.{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger, stream, handler


def test_given_a_handler_when_a_backend_fails_50_times_then_two_lines_say_so():
    clock = [0.0]
    logger, stream, handler = _handler(clock)
    for attempt in range(50):
        try:
            raise ConnectionRefusedError(f"attempt {attempt}")
        except ConnectionRefusedError:
            logger.exception("erpnext call %d failed", attempt)
    clock[0] = 61.0
    logger.info("next request")
    handler.close()
    lines = stream.getvalue().splitlines()
    name = f"tests.repeats.{id(handler)}"
    assert [line for line in lines if "failed" in line and "Traceback" not in line] == [
        f"ERROR {name} erpnext call 0 failed",
        f"ERROR {name} erpnext call 0 failed (repeated 49 times in the last 60 s)",
    ]
    assert lines[-1].endswith("next request")
    assert stream.getvalue().count("Traceback") == 1


def test_info_lines_are_never_held_back():
    clock = [0.0]
    logger, stream, handler = _handler(clock)
    for _ in range(10):
        logger.info("POST /graphql 200")
    assert stream.getvalue().count("POST /graphql 200") == 10
    handler.close()


def test_call_sites_may_tell_apart_failures_that_share_a_template():
    clock = [0.0]
    logger, stream, handler = _handler(clock)
    for loop in ("sweeper", "storefront sync", "sweeper"):
        logger.warning("%s failed", loop, extra={"repeat_key": loop})
    assert stream.getvalue().count("failed") == 2
    handler.close()
