"""What went wrong on the wire, named as it happened (pure).

The aiohttp transport reports a refused connection as ``httpx.ConnectTimeout`` and lets a
response that is not HTTP through as ``aiohttp.ClientResponseError``; the standard httpx
transport names them differently again. An operator reading "square timed out" looks for a
slow backend, not a stopped one, so the cause chain is read for what really happened.
"""

from __future__ import annotations

import errno
from enum import StrEnum

import httpx


class WireFailure(StrEnum):
    REFUSED = "refused the connection"
    UNREACHABLE = "could not be reached"
    CONNECT_TIMEOUT = "did not accept the connection in time"
    READ_TIMEOUT = "did not answer in time"
    CLOSED = "closed the connection without answering"
    NOT_HTTP = "answered with bytes that are not HTTP"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def name_wire_failure(exc: BaseException) -> WireFailure | None:
    """The failure ``exc`` stands for, or None when it is not a failure on the wire."""
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiohttp ships with the aiohttp transport
        aiohttp = None  # type: ignore[assignment]
    chain = _chain(exc)
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError) or (
            isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED
        ):
            return WireFailure.REFUSED
        if aiohttp is not None and isinstance(cause, aiohttp.ClientConnectorError):
            os_error = cause.os_error
            if isinstance(os_error, ConnectionRefusedError) or os_error.errno in (
                errno.ECONNREFUSED,
                None,  # asyncio's "Connect call failed" from every address: refused
            ):
                return WireFailure.REFUSED
            return WireFailure.UNREACHABLE
        if aiohttp is not None and isinstance(cause, aiohttp.ServerDisconnectedError):
            return WireFailure.CLOSED
        if aiohttp is not None and isinstance(
            cause, aiohttp.ClientResponseError | aiohttp.ClientPayloadError
        ):
            return WireFailure.NOT_HTTP
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return WireFailure.CONNECT_TIMEOUT
    if isinstance(exc, httpx.TimeoutException):
        return WireFailure.READ_TIMEOUT
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc).lower()
        if "disconnect" in text or "without sending" in text:
            return WireFailure.CLOSED
        return WireFailure.NOT_HTTP
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return WireFailure.CLOSED
    if isinstance(exc, httpx.ConnectError):
        return WireFailure.UNREACHABLE
    if isinstance(exc, httpx.TransportError):
        return WireFailure.UNREACHABLE
    if aiohttp is not None and isinstance(exc, aiohttp.ClientError):
        return WireFailure.UNREACHABLE
    return None
