"""The same failure logged once per window, then counted (a pure core and its handler).

One unreachable backend wrote 1,038 lines of tracebacks in a few seconds: every retry,
every loop round and every request said the same thing. A warning or error is let
through the first time its kind is seen (its logger, level, message template, exception
type and, where a call site gives one, ``extra={"repeat_key": ...}``); repeats within
``window`` seconds are counted, not written, and when the window has passed one line says
"<the first message> (repeated N times in the last 60 s)". The window restarts with the
next occurrence after that, so a failure that goes on for an hour costs two lines a
minute, and one that stops is summed up once.

``RepeatLimiter`` decides (no clock of its own, no I/O); ``RepeatLimitedHandler`` is the
stream handler that asks it for every record at or above its threshold. A summary is
written when the next record of any kind passes the handler after the window (a gateway
logs often enough), or when the handler closes (logging.shutdown at exit).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import IO, Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Repeats(Generic[K, S]):
    """``count`` more occurrences of ``key`` than the one written, within ``seconds``."""

    key: K
    sample: S  # what the first occurrence said
    count: int
    seconds: float


@dataclass(slots=True)
class _Window(Generic[S]):
    started: float
    sample: S
    suppressed: int = 0


class RepeatLimiter(Generic[K, S]):
    def __init__(self, window_seconds: float = 60.0, *, max_keys: int = 1024) -> None:
        self.window = window_seconds
        self._max_keys = max_keys
        self._windows: dict[K, _Window[S]] = {}
        self._next_end = float("inf")  # when the earliest open window ends
        self._ended: list[Repeats[K, S]] = []  # summaries owed by windows closed early

    def admit(self, key: K, sample: S, now: float) -> bool:
        """Whether this occurrence is written (False: it was counted)."""
        window = self._windows.get(key)
        if window is not None and now - window.started < self.window:
            window.suppressed += 1
            return False
        if window is not None:  # its window has passed: what it counted is owed first
            self._close(key, window)
        elif len(self._windows) >= self._max_keys:
            oldest = next(iter(self._windows))
            self._close(oldest, self._windows[oldest])
        self._windows[key] = _Window(now, sample)
        self._next_end = min(self._next_end, now + self.window)
        return True

    def due(self, now: float) -> list[Repeats[K, S]]:
        """The summaries of every window that has ended (each once), oldest first."""
        if now < self._next_end and not self._ended:
            return []
        for key, window in list(self._windows.items()):
            if now - window.started >= self.window:
                self._close(key, window)
        self._next_end = min(
            (w.started + self.window for w in self._windows.values()), default=float("inf")
        )
        return self._take_ended()

    def drain(self) -> list[Repeats[K, S]]:
        """Every summary owed now, windows still open included (at shutdown)."""
        for key, window in list(self._windows.items()):
            self._close(key, window)
        self._next_end = float("inf")
        return self._take_ended()

    def _close(self, key: K, window: _Window[S]) -> None:
        del self._windows[key]
        if window.suppressed:
            self._ended.append(Repeats(key, window.sample, window.suppressed, self.window))

    def _take_ended(self) -> list[Repeats[K, S]]:
        ended, self._ended = self._ended, []
        return ended


RecordKey = tuple[str, int, str, str | None, object]
# What a summary repeats of the first occurrence: its message and the fields it was given.
Sample = tuple[str, dict[str, Any]]
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "repeat_key",
}


def record_key(record: logging.LogRecord) -> RecordKey:
    """What makes two records the same failure: not their arguments (ids, counts, the
    backend's words), which differ every time."""
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    error = record.exc_info[0] if record.exc_info else None
    return (
        record.name,
        record.levelno,
        template,
        None if error is None else error.__qualname__,
        getattr(record, "repeat_key", None),
    )


class RepeatLimitedHandler(logging.StreamHandler[IO[str]]):
    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        window_seconds: float = 60.0,
        threshold: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(sys.stderr if stream is None else stream)
        self._limiter: RepeatLimiter[RecordKey, Sample] = RepeatLimiter(window_seconds)
        self._threshold = threshold
        self._clock = clock
        self._decide = threading.Lock()  # records come from threads too (drivers, executors)

    def handle(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        with self._decide:
            admitted = record.levelno < self._threshold or self._limiter.admit(
                record_key(record), _sample(record), now
            )
            # After admit: a window this very record ended is summed up before it.
            owed = self._limiter.due(now)
        for repeats in owed:
            super().handle(summary_record(repeats))
        if not admitted:
            return False
        return bool(super().handle(record))

    def close(self) -> None:
        with self._decide:
            owed = self._limiter.drain()
        for repeats in owed:
            super().handle(summary_record(repeats))
        super().close()


def summary_record(repeats: Repeats[RecordKey, Sample]) -> logging.LogRecord:
    name, level, _template, _error, _extra = repeats.key
    message, fields = repeats.sample
    record = logging.LogRecord(
        name,
        level,
        pathname="",
        lineno=0,
        msg="%s (repeated %d times in the last %.0f s)",
        args=(message, repeats.count, repeats.seconds),
        exc_info=None,
    )
    # The first one's fields (its backend, say), so a search that found it finds this.
    record.__dict__.update(fields)
    # Written from whatever request happens to be current, so it says it belongs to none.
    record.repeated = repeats.count
    record.window_seconds = repeats.seconds
    record.request_id = None
    record.principal = None
    return record


def _sample(record: logging.LogRecord) -> Sample:
    try:
        message = record.getMessage()
    except Exception:  # a call with the wrong arguments: its template still says what
        message = str(record.msg)
    fields = {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}
    return message, fields
