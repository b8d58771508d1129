"""The one sender all four simulators deliver their webhooks through.

A product notes a Delivery while it handles a request (``enqueue``, plain sync code); the
notes are rendered once that request's work is done (the products' "after commit": when the
request ends, see FlushAfterRequest, or on the event loop's next turn for changes made
outside a request), then sent one by one from a background task, so an API answer never
waits for a receiver. Sending uses httpx: real URLs by default, or the transport a test
puts in ``transport`` (``httpx.ASGITransport(gateway_app)``). A failed attempt is retried on
the product's schedule (``Delivery.retries``, multiplied by ``retry_scale`` so tests and demos
need not wait minutes), always with the same body. ``faults`` injects trouble
(sandbox.webhooks.faults); ``sent`` records every attempt; ``settle()`` waits until nothing
is left to send.

The worker task lives only while there is work, and everything tied to an event loop is made
again when the loop changes, so one app can serve a test's loop and then the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.webhooks.delivery import Delivery, Message, Retry, Sent
from sandbox.webhooks.faults import DeliveryFaults

RECORD_LIMIT = 10_000  # attempts remembered; a long demo forgets the oldest
SETTLE_POLL_SECONDS = 0.002


@dataclass(slots=True)
class _Attempt:
    delivery: Delivery
    message: Message
    number: int = 0  # 0: first try; n: n-th retry
    reason: str = ""
    first_attempt_at: datetime | None = None


class WebhookSender:
    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.transport = transport
        self.faults = DeliveryFaults()
        self.retry_scale = 1.0
        self.sent: deque[Sent] = deque(maxlen=RECORD_LIMIT)
        self._clock = clock
        self._outbox: list[Delivery] = []  # noted, not yet rendered
        self._queue: deque[_Attempt] = deque()  # rendered, due now
        self._held: list[_Attempt] = []  # kept back by the reorder fault
        self._outstanding = 0  # noted deliveries not yet delivered, lost or given up
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flush_scheduled = False
        self._worker: asyncio.Task[None] | None = None
        self._timers: set[asyncio.Task[None]] = set()
        # One client for the sender's life on a loop: making one (its SSL context above all)
        # costs 20-30 ms, which every burst of deliveries paid (bench/realtime.py).
        self._client: httpx.AsyncClient | None = None
        self._client_transport: httpx.AsyncBaseTransport | None = None

    # --- what products and tests call ------------------------------------------------------

    def enqueue(self, delivery: Delivery) -> None:
        self._outbox.append(delivery)
        self._outstanding += 1
        loop = self._bind()
        if loop is not None and not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self.flush)

    @property
    def pending(self) -> int:
        return self._outstanding

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every delivery noted so far is delivered, lost or given up (a held
        reorder batch is let go first)."""
        self._bind()
        self.flush()
        self._release_held()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._outstanding:
            self.flush()
            self._release_held()
            if loop.time() > deadline:
                raise TimeoutError(f"{self._outstanding} webhook deliveries still pending")
            await asyncio.sleep(SETTLE_POLL_SECONDS)

    drain = settle

    def reset(self) -> None:
        """Default knobs and an empty record (deliveries on their way still go)."""
        self.faults = DeliveryFaults()
        self.retry_scale = 1.0
        self.sent.clear()

    async def aclose(self) -> None:
        for task in [*self._timers, *([self._worker] if self._worker else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- rendering and queueing ------------------------------------------------------------

    def _bind(self) -> asyncio.AbstractEventLoop | None:
        """The running loop, if any; a new loop starts with fresh loop-bound state."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if loop is not self._loop:
            self._loop = loop
            self._flush_scheduled = False
            self._worker = None
            self._client = None  # its connections belong to the old loop
            # Retries that were waiting on a dead loop are given up.
            self._outstanding -= len(self._timers)
            self._timers = set()
        return loop

    def flush(self) -> None:
        """Render what was noted and queue it: at the end of each request (FlushAfterRequest),
        else on the loop's next turn, else when settling."""
        self._flush_scheduled = False
        noted, self._outbox = self._outbox, []
        seen: set[object] = set()
        for delivery in noted:
            if delivery.key is not None:
                if delivery.key in seen:
                    self._outstanding -= 1  # the same record, changed again in one request
                    continue
                seen.add(delivery.key)
            self._admit(delivery)
        if self._queue:
            self._start_worker()

    def _admit(self, delivery: Delivery) -> None:
        try:
            message = delivery.render()
        except Exception as error:  # a product that cannot render logs it and sends nothing
            self._record(delivery, Message(b"", {}), status=None, error=f"render: {error}")
            self._finish(delivery, ok=False)
            return
        if message is None:
            self._outstanding -= 1
            return
        if self.faults.should_drop():
            self._record(delivery, message, status=None, dropped=True)
            self._outstanding -= 1  # lost on the way: the product never learns
            return
        attempt = _Attempt(delivery, message)
        if self.faults.reorder > 1:
            self._held.append(attempt)
            if len(self._held) >= self.faults.reorder:
                self._release_held()
        else:
            self._queue.append(attempt)

    def _release_held(self) -> None:
        if self._held:
            held, self._held = self._held, []
            self._queue.extend(reversed(held))
            self._start_worker()

    def _start_worker(self) -> None:
        if self._bind() is None or (self._worker is not None and not self._worker.done()):
            return
        self._worker = asyncio.get_running_loop().create_task(self._work())

    # --- sending ---------------------------------------------------------------------------

    async def _work(self) -> None:
        client = self._client_for_now()
        while self._queue:
            attempt = self._queue.popleft()
            try:
                await self._send(client, attempt)
            except Exception as error:  # never let one delivery stop the others
                self._record(attempt.delivery, attempt.message, None, error=str(error))
                self._finish(attempt.delivery, ok=False)

    def _client_for_now(self) -> httpx.AsyncClient:
        """The sender's client, made again when a test put another transport in."""
        if self._client is None or self._client_transport is not self.transport:
            self._client = httpx.AsyncClient(transport=self.transport)
            self._client_transport = self.transport
        return self._client

    async def _send(self, client: httpx.AsyncClient, attempt: _Attempt) -> None:
        if self.faults.delay_ms > 0:
            await asyncio.sleep(self.faults.delay_ms / 1000)
        delivery, message = attempt.delivery, attempt.message
        if attempt.first_attempt_at is None:
            attempt.first_attempt_at = self._clock()
        forged = self.faults.forge and delivery.signer is not None
        headers = dict(message.headers)
        if delivery.signer is not None:
            headers[delivery.signer.header] = delivery.signer.sign(
                delivery.url, message.body, forged=forged
            )
        if attempt.number and delivery.retry_headers is not None:
            retry = Retry(attempt.number, attempt.reason, attempt.first_attempt_at)
            headers.update(delivery.retry_headers(retry))
        copies = 2 if self.faults.duplicate else 1
        status, reason = None, ""
        for copy in range(copies):
            answer, problem, detail = await _post(client, delivery, headers, message.body)
            self._record(
                delivery,
                message,
                answer,
                attempt=attempt.number,
                headers=headers,
                duplicate=copy > 0,
                forged=forged,
                error=detail or None,
            )
            if copy == 0:
                status, reason = answer, problem
        ok = status is not None and delivery.accepts(status)
        if ok or attempt.number >= len(delivery.retries):
            self._finish(delivery, ok=ok)
            return
        delay = delivery.retries[attempt.number] * self.retry_scale
        self._retry_later(replace(attempt, number=attempt.number + 1, reason=reason), delay)

    def _retry_later(self, attempt: _Attempt, delay: float) -> None:
        async def due() -> None:
            await asyncio.sleep(delay)
            self._queue.append(attempt)
            self._start_worker()

        task = asyncio.get_running_loop().create_task(due())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def _finish(self, delivery: Delivery, *, ok: bool) -> None:
        self._outstanding -= 1
        if delivery.on_result is not None:
            delivery.on_result(ok)

    def _record(
        self,
        delivery: Delivery,
        message: Message,
        status: int | None,
        *,
        attempt: int = 0,
        headers: dict[str, str] | None = None,
        dropped: bool = False,
        duplicate: bool = False,
        forged: bool = False,
        error: str | None = None,
    ) -> None:
        self.sent.append(
            Sent(
                topic=delivery.topic,
                url=delivery.url,
                status=status,
                attempt=attempt,
                event_id=message.event_id,
                headers=dict(message.headers if headers is None else headers),
                body=message.body,
                dropped=dropped,
                duplicate=duplicate,
                forged=forged,
                error=error,
                at=self._clock(),
            )
        )

    # --- for assertions --------------------------------------------------------------------

    def topics(self) -> list[str]:
        """The topics sent (each delivery once: retries and duplicates left out)."""
        return [s.topic for s in self.sent if s.attempt == 0 and not s.duplicate]

    def state(self) -> dict[str, Any]:
        return {
            "faults": self.faults.as_dict(),
            "retry_scale": self.retry_scale,
            "pending": self._outstanding,
            "sent": [s.summary() for s in self.sent],
        }


async def _post(
    client: httpx.AsyncClient, delivery: Delivery, headers: dict[str, str], body: bytes
) -> tuple[int | None, str, str]:
    """(status or None, why it failed: "" | http_error | timeout | connection_error, detail)."""
    try:
        response = await client.request(
            delivery.method, delivery.url, content=body, headers=headers, timeout=delivery.timeout
        )
    except httpx.TimeoutException as error:
        return None, "timeout", f"timeout: {error!r}"
    except Exception as error:  # refused, reset, or an in-process receiver that raised
        return None, "connection_error", f"connection error: {error!r}"
    if delivery.accepts(response.status_code):
        return response.status_code, "", ""
    return response.status_code, "http_error", ""


class FlushAfterRequest:
    """ASGI middleware: what a request noted is rendered as soon as it has been answered, so
    one request's changes to a record are one delivery and the next request's another."""

    def __init__(self, app: ASGIApp, sender: WebhookSender) -> None:
        self.app = app
        self.sender = sender

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.sender.flush()
