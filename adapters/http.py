"""The one HTTP policy every adapter shares: client construction, retries, error mapping.

Each backend has a guard (adapters.resilience.policy): a circuit breaker, a retry budget, a
bulkhead and a health record; every attempt ends by the request's deadline
(gateway.deadline). Transport failures are named as they happened (refused is not "timed
out"; adapters.resilience.failures), and a 2xx body that is not JSON is a failure like a 5xx.
Every attempt's end (its endpoint, outcome and time) is told to the guard's observer: the
backend-call metrics are counted here, once, for every adapter.

Retries only what is safe to retry: connection errors, timeouts, 429 and 5xx, with capped
exponential backoff and jitter, or the backend's Retry-After when longer (tenacity;
``backoff``, which adapters.look_then_create waits with too). A create a backend cannot
de-duplicate is sent with ``max_retries=0`` and retried by look_then_create instead. Each
adapter passes its own function that turns the backend's error body into the project's typed
error; this module decides only *whether* a response is an error and whether to try again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import WaitBaseT, wait_base

from adapters.endpoints import last_endpoint, note_sent, sending
from adapters.resilience.breaker import BreakerRules
from adapters.resilience.budget import BudgetRules
from adapters.resilience.failures import name_wire_failure
from adapters.resilience.policy import BackendPolicy, CallObserver
from gateway.config import Settings
from gateway.deadline import time_left
from gateway.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable

log = logging.getLogger(__name__)
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
WAIT_INITIAL_SECONDS = 0.05
WAIT_MAX_SECONDS = 1.0

ErrorParser = Callable[[httpx.Response], BackendError]
T = TypeVar("T")


def build_client(
    settings: Settings,
    base_url: str,
    *,
    backend: str | None = None,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """One AsyncClient per backend, opened in the app lifespan, with explicit timeouts: the
    backend's own (RESILIENCE__BACKENDS) where set, else the shared HTTP_* ones."""
    guard = settings.resilience.guard(backend) if backend else None
    connect = (guard and guard.connect_timeout_seconds) or settings.http_connect_timeout_seconds
    read = (guard and guard.read_timeout_seconds) or settings.http_read_timeout_seconds
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
        timeout=httpx.Timeout(read, connect=connect),
        # Which endpoint each attempt went to, for the metrics (adapters.endpoints).
        event_hooks={"request": [note_sent]},
    )


def build_policy(
    settings: Settings, backend: str, *, observe: CallObserver | None = None
) -> BackendPolicy:
    """The guard of one backend, from Settings.resilience; ``observe`` is told of every
    attempt (the metrics)."""
    rules = settings.resilience
    policy = BackendPolicy.with_rules(
        backend,
        BreakerRules(
            consecutive_failures=rules.breaker_failures_in_a_row,
            failure_rate=rules.breaker_failure_rate,
            window=rules.breaker_window,
            min_calls=rules.breaker_min_calls,
            open_seconds=rules.breaker_open_seconds,
            probes=rules.breaker_probes,
        ),
        BudgetRules(
            ratio=rules.retry_budget_ratio,
            floor=rules.retry_budget_floor,
            window_seconds=rules.retry_budget_window_seconds,
        ),
        max_concurrent=rules.guard(backend).max_concurrent,
        slow_call_seconds=rules.slow_call_seconds,
    )
    policy.attempt_share = rules.attempt_share_of_deadline
    policy.observe = observe
    return policy


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
    policy: BackendPolicy,
    call: Callable[[], Awaitable[httpx.Response]],
    parse_error: ErrorParser,
    *,
    max_retries: int,
    wait_initial: float = WAIT_INITIAL_SECONDS,
    wait_max: float = WAIT_MAX_SECONDS,
) -> httpx.Response:
    """Run ``call`` under the backend's policy; return a 2xx response whose body looks like
    JSON, or raise a typed error. Every attempt, backoff and wait for a connection slot ends
    by the request's deadline (gateway.deadline); an open breaker fails at once; a retry is
    made only while the backend's retry budget allows it."""
    backend = policy.name

    async def attempt() -> httpx.Response:
        left = time_left()
        if left is not None and left <= 0:
            _tell(policy, sent, "deadline", None)
            raise _deadline_passed(backend)
        if not policy.breaker.admit(policy.monotonic()):
            policy.health.fast_failures += 1
            _tell(policy, sent, "breaker_open", None)
            raise BackendUnavailable(
                f"{backend} is failing: its circuit breaker is open", backend=backend
            )
        started = policy.monotonic()
        outcome: BackendError | None = None
        try:
            # One attempt takes at most its share of what is left: a hanging backend must
            # leave time for what the request does next (a page reads stock after kits).
            bound = None if left is None else left * policy.attempt_share
            response = await _guarded(policy, call, bound)
        except _DeadlinePassed:
            outcome = _deadline_passed(backend)
            _tell(policy, sent, "deadline", started)
            if policy.monotonic() - started >= policy.slow_call_seconds:
                # A backend this slow is failing its callers: the breaker counts it.
                _record(policy, started, outcome)
            else:
                policy.breaker.release()  # the request had little time left: not its fault
            raise outcome from None
        except Exception as exc:
            failure = name_wire_failure(exc)
            if failure is None:
                policy.breaker.release()
                _tell(policy, sent, "error", started)
                raise
            _tell(policy, sent, failure.name.lower(), started)
            outcome = BackendUnavailable(f"{backend} {failure}", backend=backend)
            _record(policy, started, outcome)
            raise Retryable(outcome) from exc
        if response.is_success:
            if not _looks_like_json(response.content):
                _tell(policy, sent, "not_json", started, response)
                outcome = BackendUnavailable(
                    f"{backend} answered HTTP {response.status_code} with a body that is not "
                    f"JSON ({_opening(response.content)})",
                    backend=backend,
                    status=response.status_code,
                )
                _record(policy, started, outcome)
                raise Retryable(outcome)
            _record(policy, started, None)
            _tell(policy, sent, "ok", started, response)
            return response
        _tell(policy, sent, _status_class(response.status_code), started, response)
        error = parse_error(response)
        transient = response.status_code in RETRYABLE_STATUSES or response.status_code >= 500
        # A 4xx is the backend working as meant: the breaker counts it a success.
        _record(policy, started, error if transient else None)
        if not transient:
            raise error
        retry_after = retry_after_seconds(response)
        if retry_after is not None:
            error.details["retry_after_seconds"] = retry_after
            left = time_left()
            if retry_after > wait_max or (left is not None and retry_after >= left):
                # The backend asked for longer than a caller can wait: say so now.
                raise error
        raise Retryable(error)

    policy.budget.first_attempt(policy.monotonic())
    policy.health.calls += 1

    def may_retry() -> bool:
        granted = policy.budget.try_spend(policy.monotonic())
        policy.health.retries += granted
        return granted

    with sending() as sent:
        try:
            return await with_retries(
                attempt,
                max_retries=max_retries,
                wait=_honouring_retry_after(backoff(wait_initial, wait_max)),
                may_retry=may_retry,
            )
        except (BackendUnavailable, BackendAuthError) as failed:
            _log_failure(failed)
            raise


class _DeadlinePassed(Exception):
    """The request's deadline passed during an attempt (not the backend's own timeout)."""


def _deadline_passed(backend: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"{backend} did not answer within its share of the request's deadline", backend=backend
    )


async def _guarded(
    policy: BackendPolicy, call: Callable[[], Awaitable[httpx.Response]], left: float | None
) -> httpx.Response:
    """One attempt inside the bulkhead, bounded by the deadline (the client's timeouts bound
    it further)."""
    bounded = asyncio.timeout(left)
    try:
        async with bounded, policy.bulkhead:
            return await call()
    except TimeoutError as exc:
        if bounded.expired():
            raise _DeadlinePassed from exc
        raise httpx.ReadTimeout(str(exc) or "timed out") from exc


def _record(policy: BackendPolicy, started: float, error: BackendError | None) -> None:
    now = policy.monotonic()
    policy.breaker.record(failed=error is not None, now=now)
    if error is None:
        policy.health.succeeded(now - started, policy.utc_now())
    else:
        policy.health.failed(error.message, now - started, policy.utc_now())
        # Each attempt at debug only, without a traceback: the call's end says it once.
        log.debug("%s attempt failed: %s", policy.name, error.message)


def _log_failure(error: BackendError) -> None:
    """A call that failed for good, once, as a warning without traceback (a refused 4xx
    is an answer, not an incident). While a backend is down every call says the same:
    gateway.observability.repeats writes it once a minute with a count, per backend and
    status (the backend's own words differ from call to call)."""
    log.warning(
        "backend call failed: %s",
        error.message,
        extra={"backend": error.backend, "repeat_key": (error.backend, error.status)},
    )


def _tell(
    policy: BackendPolicy,
    sent: list[httpx.Request],
    outcome: str,
    started: float | None,
    response: httpx.Response | None = None,
) -> None:
    """One attempt's end, to the policy's observer: ``started`` None when nothing was sent."""
    if policy.observe is None:
        return
    seconds = None if started is None else policy.monotonic() - started
    policy.observe(policy.name, last_endpoint(sent, response), outcome, seconds)


def _status_class(status: int) -> str:
    # 429 apart: a backend asking the gateway to slow down is not a backend failing.
    return "http_429" if status == 429 else f"http_{status // 100}xx"


def _looks_like_json(content: bytes) -> bool:
    """A cheap look at both ends of the body (a full decode is the adapter's, once): an HTML
    page, a cut-off body or stray bytes fail it; an empty body passes (a 204, say)."""
    body = content.strip()
    if not body:
        return True
    return (body[:1], body[-1:]) in ((b"{", b"}"), (b"[", b"]"))


def _opening(content: bytes) -> str:
    return repr(content[:40]) if content else "empty"


def _honouring_retry_after(wait: wait_base) -> WaitBaseT:
    """The backoff, or the backend's Retry-After when that is longer."""

    def waiting(state: RetryCallState) -> float:
        seconds = wait(state)
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, Retryable):
            asked = failure.error.details.get("retry_after_seconds")
            if isinstance(asked, int | float):
                seconds = max(seconds, float(asked))
        return seconds

    return waiting


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    wait: WaitBaseT,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    may_retry: Callable[[], bool] | None = None,
) -> T:
    """``attempt`` again, after ``wait``, while it raises Retryable, at most ``max_retries``
    times more, never past the request's deadline, and only while ``may_retry`` (the retry
    budget) allows; then the error it carries. Anything else goes straight through."""

    tries = stop_after_attempt(max_retries + 1)

    def stop(state: RetryCallState) -> bool:
        if tries(state):
            return True
        left = time_left()
        if left is not None and left <= state.upcoming_sleep:
            return True  # no time for another try
        # Last: the budget is spent only on a retry that will be made.
        return may_retry is not None and not may_retry()

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(Retryable),
        stop=stop,
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
