"""The one HTTP policy every adapter shares: client construction, retries, error mapping.

Retries only what is safe to retry: connection errors, timeouts, 429 and 502/503/504, with
capped exponential backoff and jitter (tenacity; ``backoff``, which adapters.look_then_create
waits with too). A create a backend cannot de-duplicate is sent with ``max_retries=0`` and
retried by look_then_create instead. Each adapter passes its own function that turns the
backend's error body into the project's typed error; this module decides only *whether* a
response is an error and whether to try again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import WaitBaseT, wait_base

from gateway.config import Settings
from gateway.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
WAIT_INITIAL_SECONDS = 0.05
WAIT_MAX_SECONDS = 1.0

ErrorParser = Callable[[httpx.Response], BackendError]
T = TypeVar("T")


def build_client(
    settings: Settings,
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """One AsyncClient per backend, opened in the app lifespan, with explicit timeouts."""
    limits = httpx.Limits(
        max_connections=settings.http_max_connections,
        max_keepalive_connections=settings.http_max_connections,
    )
    if transport is None:
        transport = (
            AiohttpTransport(limits=limits)
            if settings.http_transport == "aiohttp"
            else httpx.AsyncHTTPTransport(limits=limits)
        )
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        auth=auth,
        transport=transport,
        timeout=httpx.Timeout(
            settings.http_read_timeout_seconds, connect=settings.http_connect_timeout_seconds
        ),
    )


class Retryable(Exception):
    """A failure worth another try, carrying the error to raise when the tries run out.
    Raise it ``from`` what caused that error: the cause is kept when it is unwrapped."""

    def __init__(self, error: BackendError) -> None:
        super().__init__(error.message)
        self.error = error


def default_error(backend: str, response: httpx.Response) -> BackendError:
    """Fallback mapping from status to typed error when a body says nothing useful."""
    status = response.status_code
    message = f"{backend} answered HTTP {status}"
    if status in (401, 403):
        return BackendAuthError(message, backend=backend, status=status)
    if status in RETRYABLE_STATUSES or status >= 500:
        return BackendUnavailable(message, backend=backend, status=status)
    return BackendRejected(message, backend=backend, status=status)


async def send(
    backend: str,
    call: Callable[[], Awaitable[httpx.Response]],
    parse_error: ErrorParser,
    *,
    max_retries: int,
    wait_initial: float = WAIT_INITIAL_SECONDS,
    wait_max: float = WAIT_MAX_SECONDS,
) -> httpx.Response:
    """Run ``call`` with the retry policy; return a 2xx response or raise a typed error."""

    async def attempt() -> httpx.Response:
        try:
            response = await call()
        except httpx.TimeoutException as exc:
            raise Retryable(BackendUnavailable(f"{backend} timed out", backend=backend)) from exc
        except httpx.TransportError as exc:
            raise Retryable(
                BackendUnavailable(f"{backend} unreachable: {exc!r}", backend=backend)
            ) from exc
        if response.is_success:
            return response
        error = parse_error(response)
        if response.status_code in RETRYABLE_STATUSES or response.status_code >= 500:
            retry_after = retry_after_seconds(response)
            if retry_after is not None:
                error.details["retry_after_seconds"] = retry_after
                if retry_after > wait_max:
                    # The backend asked for longer than a caller can wait: say so now.
                    raise error
            raise Retryable(error)
        raise error

    return await with_retries(
        attempt, max_retries=max_retries, wait=backoff(wait_initial, wait_max)
    )


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    wait: WaitBaseT,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """``attempt`` again, after ``wait``, while it raises Retryable, at most ``max_retries``
    times more; then the error it carries. Anything else it raises goes straight through."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(Retryable),
        stop=stop_after_attempt(max_retries + 1),
        wait=wait,
        sleep=sleep,
        reraise=True,
    )
    try:
        async for attempt_state in retrying:
            with attempt_state:
                return await attempt()
    except Retryable as exhausted:
        raise exhausted.error from exhausted.__cause__
    raise AssertionError("unreachable")  # pragma: no cover


def backoff(initial: float = WAIT_INITIAL_SECONDS, maximum: float = WAIT_MAX_SECONDS) -> wait_base:
    """The wait before try n+1: ``initial * 2**(n-1)`` plus up to ``initial``, capped at
    ``maximum``; between in-call retries here and between look_then_create's rounds."""
    # Jitter as large as the first wait spreads retries of concurrent callers without
    # turning a 50 ms backoff into a second (tenacity's default jitter is 1 s).
    return wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds (delta form; the HTTP-date form is treated as absent)."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def json_body(response: httpx.Response) -> Any:
    """The decoded body, or None when it is not JSON (a proxy's HTML error page).

    orjson decodes a page of 1,000 Square counts in a third of the time the standard library
    takes; what it refuses (an integer beyond 64 bits, NaN, a body not in UTF-8) goes to
    the standard library, which decides."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()
    except ValueError:
        return None
