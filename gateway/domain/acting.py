"""For whom a change is made: the principal whose request made it.

The request edge names it once (``acting_for``); the outbox stamps it on every write the
change owes, and the worker names it again while it records a delivery, so the audit entry
a write leaves and a discrepancy's history say who asked, not only that the gateway wrote.
A change the gateway makes on its own (a reconcile, a timer) is the gateway's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

GATEWAY = "gateway"

_requested_by: ContextVar[str | None] = ContextVar("requested_by", default=None)


def requested_by() -> str | None:
    """The principal the current change is made for, if a caller asked for it."""
    return _requested_by.get()


def actor() -> str:
    """Who the audit trail names for the current change."""
    return _requested_by.get() or GATEWAY


@contextmanager
def acting_for(principal_id: str | None) -> Iterator[None]:
    token = _requested_by.set(principal_id)
    try:
        yield
    finally:
        _requested_by.reset(token)


def begin_acting_for(principal_id: str | None) -> Token[str | None]:
    """``acting_for`` without the context manager, for the request edge (every request
    passes there; a generator-based context manager costs as much as the rest of the
    step): pair it with ``end_acting``."""
    return _requested_by.set(principal_id)


def end_acting(token: Token[str | None]) -> None:
    _requested_by.reset(token)
