"""One log line per event, as JSON (or readable text at a terminal), for every logger.

``configure_logging`` runs once at process start (gateway.cli: serve, worker, the demo and
the simulators). It puts one handler on the root logger whose formatter is structlog's
``ProcessorFormatter``, so the project's plain ``logging.getLogger(__name__)`` calls, and
uvicorn's, become lines like::

    {"timestamp": "2026-12-04T09:12:01.204Z", "level": "warning", "logger":
     "adapters.http", "message": "backend call failed: erpnext refused the connection",
     "request_id": "5f0c...", "principal": "key:web-eu", "backend": "erpnext"}

Every line has ``timestamp`` (UTC), ``level``, ``logger``, ``message``, ``request_id`` and
``principal`` (null outside a request); ``trace_id`` when the request is traced; an
``exception`` (type, message, the last frames, its cause) when one is logged; and the
fields a call gave in ``extra``. Everything passes gateway.observability.redaction first,
and the handler writes a repeated warning once per window (gateway.observability.repeats).
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

import orjson
import structlog

from gateway.domain.acting import requested_by
from gateway.observability import context
from gateway.observability.redaction import MASK, is_sensitive_key, redact, scrub_text
from gateway.observability.repeats import RepeatLimitedHandler

LogFormat = Literal["json", "console"]
EventDict = MutableMapping[str, Any]

# Their INFO lines name every backend URL they fetch, query string (WooCommerce's OAuth
# signature) included; a failure reaches the log through the adapters instead. Alembic lists
# its plugins at every start.
_QUIET_LIBRARIES = ("httpx", "httpcore", "aiosqlite", "hpack", "alembic.runtime.plugins")
# Fields a record carries that say nothing to a reader (uvicorn's coloured copy of its
# message, the repeat limiter's grouping key).
_DROPPED = ("color_message", "repeat_key", "positional_args")
_KEPT_AS_IS = frozenset({"timestamp", "level", "logger", "request_id", "trace_id"})
_MAX_FRAMES = 8
_PROJECT = str(Path(__file__).resolve().parents[2]) + "/"


def default_format(serves: bool, stream: IO[str] | None = None) -> LogFormat:
    """JSON for the long-running processes (serve, worker) unless a person is watching the
    terminal; readable text for the demo and the simulators."""
    stream = stream or sys.stderr
    if serves and not stream.isatty():
        return "json"
    return "console"


def configure_logging(
    log_format: LogFormat = "json",
    level: str | int = "INFO",
    *,
    stream: IO[str] | None = None,
    repeat_window_seconds: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> RepeatLimitedHandler:
    """Route every logger to one handler on ``stream`` (stderr); returns that handler
    (closing it writes the repeat counts still owed). Calling it again replaces it."""
    stream = stream or sys.stderr
    handler = RepeatLimitedHandler(stream, window_seconds=repeat_window_seconds, clock=clock)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                _timestamp_of_record,
                structlog.stdlib.ExtraAdder(),
            ],
            processors=_final_processors(log_format, stream),
        )
    )
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, RepeatLimitedHandler)]:
        root.removeHandler(previous)
        previous.close()
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers end in the same handler, whatever an earlier uvicorn configured
    # (its default config gives them handlers of their own that stop at "uvicorn").
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    # structlog's own loggers, should a module use them, end in the same handler.
    structlog.configure(
        processors=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            _timestamp_of_record,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        # Not structlog.stdlib.LoggerFactory: it swaps in a logger class for every stdlib
        # logger made afterwards, whose caller lookup doubled the cost of each line.
        logger_factory=_stdlib_logger,
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return handler


def _stdlib_logger(*args: Any) -> logging.Logger:
    return logging.getLogger(*args[:1])


def _final_processors(log_format: LogFormat, stream: IO[str]) -> list[Any]:
    common: list[Any] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        _drop_internal_fields,
        _add_request_context,
    ]
    if log_format == "console":
        return [
            *common,
            # Text, so the traceback is scrubbed with the rest.
            structlog.processors.format_exc_info,
            _redact_fields,
            _without_empty_context,
            structlog.dev.ConsoleRenderer(
                colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
            ),
        ]
    return [
        *common,
        _compact_exception,
        structlog.processors.EventRenamer("message"),
        _redact_fields,
        _leading_fields_first,
        structlog.processors.JSONRenderer(serializer=_dumps),
    ]


def _timestamp_of_record(_logger: Any, _method: str, event: EventDict) -> EventDict:
    # When it happened, not when it was formatted (a repeat summary is written later); a
    # structlog logger's event has no record yet: now.
    record = event.get("_record")
    created = record.created if record is not None else time.time()
    stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    event["timestamp"] = stamp.replace("+00:00", "Z")
    return event


def _drop_internal_fields(_logger: Any, _method: str, event: EventDict) -> EventDict:
    for key in _DROPPED:
        event.pop(key, None)
    return event


def _add_request_context(_logger: Any, _method: str, event: EventDict) -> EventDict:
    # setdefault: a line may name its own (the access line, a repeat summary names none).
    request = context.current()
    event.setdefault("request_id", None if request is None else request.request_id)
    if request is not None and request.trace_id is not None:
        event.setdefault("trace_id", request.trace_id)
    event.setdefault("principal", requested_by())
    return event


def _without_empty_context(_logger: Any, _method: str, event: EventDict) -> EventDict:
    # A person reads these: "request_id=None principal=None" on every line says nothing.
    for key in ("request_id", "principal"):
        if event.get(key) is None:
            event.pop(key, None)
    return event


def _redact_fields(_logger: Any, _method: str, event: EventDict) -> EventDict:
    for key, value in event.items():
        if key in _KEPT_AS_IS or value is None or isinstance(value, int | float):
            continue
        if is_sensitive_key(key):
            event[key] = MASK
        elif isinstance(value, str):
            event[key] = scrub_text(value)
        else:
            event[key] = redact(value)
    return event


_LEADING = ("timestamp", "level", "logger", "message", "request_id", "principal", "trace_id")


def _leading_fields_first(_logger: Any, _method: str, event: EventDict) -> EventDict:
    # Every line starts alike, so a person reading raw lines finds their way.
    ordered = {key: event.pop(key) for key in _LEADING if key in event}
    ordered.update(event)
    return ordered


def _compact_exception(_logger: Any, _method: str, event: EventDict) -> EventDict:
    info = event.pop("exc_info", None)
    error = _exception_of(info)
    if error is not None:
        event["exception"] = exception_fields(error)
    return event


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _exception_of(info: bool | BaseException | ExcInfo | None) -> BaseException | None:
    if isinstance(info, BaseException):
        return info
    if isinstance(info, tuple):
        return info[1]
    if info:
        return sys.exc_info()[1]
    return None


def exception_fields(error: BaseException, _depth: int = 0) -> dict[str, Any]:
    """An exception in a few fields: its type, message, the last frames (where it was
    raised) and what caused it; not forty lines of traceback per failure."""
    kind = type(error)
    module = kind.__module__
    fields: dict[str, Any] = {
        "type": kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}",
        "message": str(error),
        "frames": [
            f"{_short_path(frame.filename)}:{frame.lineno} {frame.name}"
            for frame in traceback.extract_tb(error.__traceback__)[-_MAX_FRAMES:]
        ],
    }
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    if cause is not None and _depth < 3:
        fields["cause"] = exception_fields(cause, _depth + 1)
    return fields


def _short_path(filename: str) -> str:
    _, found, inside = filename.rpartition("site-packages/")
    if found:
        return inside
    if filename.startswith(_PROJECT):
        return filename[len(_PROJECT) :]
    return filename


def _dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
