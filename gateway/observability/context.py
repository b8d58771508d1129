"""Which request a log line belongs to: its id, and its trace's id when traced.

``RequestContext`` (gateway.observability.requests) binds one ``RequestLog`` per HTTP
request or WebSocket for as long as the request runs; every log line written meanwhile,
in tasks started from it too (asyncio copies the context into each task), names it. The
principal is not kept here: the request edge already names it for the audit trail
(gateway.domain.acting), and the log lines read it from there.

A request id a caller sends in ``X-Request-Id`` is kept when it is short and plain (so a
proxy's or client's id joins its own logs to the gateway's); anything else gets a new one,
since a header copied into every log line must not carry newlines, quotes or megabytes.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from contextvars import ContextVar, Token

# Letters, digits and . _ : - ; UUIDs, ULIDs, hex and the ids of common proxies fit.
_ACCEPTED_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


class RequestLog:
    """Mutable on purpose: the tracing middleware, inside, fills in ``trace_id`` once its
    span is open, and the access line written on the way out still sees it."""

    __slots__ = ("request_id", "trace_id")

    def __init__(self, request_id: str, trace_id: str | None = None) -> None:
        self.request_id = request_id
        self.trace_id = trace_id


_current: ContextVar[RequestLog | None] = ContextVar("request_log", default=None)


def current() -> RequestLog | None:
    """The request being answered, or None (a background loop, a command)."""
    return _current.get()


def bind(request: RequestLog) -> Token[RequestLog | None]:
    return _current.set(request)


def unbind(token: Token[RequestLog | None]) -> None:
    _current.reset(token)


def request_id_from(given: bytes | None) -> str:
    """The caller's id when acceptable (at most 128 plain characters), else a new one."""
    if given is not None and _ACCEPTED_ID.fullmatch(given):
        return given.decode("ascii")
    return new_request_id()


def new_request_id() -> str:
    # 128 bits in hex, the shape of a W3C trace id, unique without coordination: 64 random
    # bits drawn per process (again in a forked child) and a 64-bit count. A random draw per
    # request was a system call on every answer, a micro-cache replay's too.
    return f"{_process_prefix}{next(_issued):016x}"


def _new_process_prefix() -> None:
    global _process_prefix, _issued
    _process_prefix = secrets.token_hex(8)
    _issued = itertools.count()


_process_prefix = ""
_issued = itertools.count()
_new_process_prefix()
os.register_at_fork(after_in_child=_new_process_prefix)
