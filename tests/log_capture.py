"""The process's logging as ``serve`` sets it up (gateway.observability.logs), written to a
string for the test to read, and put back as it was afterwards."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.observability.logs import LogFormat, configure_logging
from gateway.observability.repeats import RepeatLimitedHandler


@dataclass
class CapturedLogs:
    stream: io.StringIO
    handler: RepeatLimitedHandler

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every line, each parsed as JSON (a line that is not JSON fails the test)."""
        return [json.loads(line) for line in self.text.splitlines()]

    def close(self) -> None:
        """What the handler writes at shutdown: the repeat counts still owed."""
        self.handler.close()


@contextmanager
def captured_logs(
    log_format: LogFormat = "json", level: str = "INFO", **options: Any
) -> Iterator[CapturedLogs]:
    root = logging.getLogger()
    level_before = root.level
    quiet_before = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    stream = io.StringIO()
    handler = configure_logging(log_format, level, stream=stream, **options)
    try:
        yield CapturedLogs(stream, handler)
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level_before)
        for name, quiet in quiet_before.items():
            logging.getLogger(name).setLevel(quiet)
        logging.captureWarnings(False)
        structlog.reset_defaults()
