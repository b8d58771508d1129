"""Changes carried to every gateway process, then fanned out to its subscribers.

    REDIS_URL set        Redis pub/sub on one channel
    PostgreSQL, no Redis LISTEN/NOTIFY (payloads under PostgreSQL's 8,000-byte limit)
    SQLite               in process only (SQLite serves one gateway process)

A change goes out as it happens and comes back through the same channel to every process,
the one that made it included, so all processes fan out the same way. Publishing never
blocks the caller: changes are queued and sent by one task per process, several to a
message. A process that hears of another's stock change drops its own cached figures of
those SKUs first (without Redis each process caches on its own), so what its subscribers
are sent is read afresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from gateway.domain.events import Change, DiscrepancyOpened, OrderChanged, StockChanged
from gateway.events.feed import ChangeFeed

log = logging.getLogger(__name__)

CHANNEL = "gateway_changes"
POSTGRES_PAYLOAD_BYTES = 7_900  # NOTIFY refuses 8,000 bytes and more
REDIS_PAYLOAD_BYTES = 64_000


# --- the wire (pure) --------------------------------------------------------------------------


def _as_json(change: Change) -> dict[str, Any]:
    match change:
        case StockChanged(skus, at_sources):
            return _stock_part(list(skus), at_sources)
        case OrderChanged(order_id):
            return {"t": "order", "id": order_id}
        case DiscrepancyOpened(discrepancy_id, owner, kind):
            return {"t": "discrepancy", "id": discrepancy_id, "owner": owner, "kind": kind}


def _from_json(raw: dict[str, Any]) -> Change | None:
    match raw.get("t"):
        case "stock":
            # Absent (a process of an earlier release) reads as the sources having moved.
            at_sources = bool(raw.get("src", True))
            return StockChanged(tuple(str(s) for s in raw.get("skus", ())), at_sources)
        case "order":
            return OrderChanged(str(raw["id"]))
        case "discrepancy":
            return DiscrepancyOpened(str(raw["id"]), str(raw["owner"]), str(raw["kind"]))
    return None


def coalesce(changes: Sequence[Change]) -> list[Change]:
    """``changes`` with each run of stock changes of one kind (sources moved, or only the
    ledger) made one change naming each of their SKUs once, in the order first named;
    other changes as they were, in their places.

    Under reserves every hold is a stock change of its own: a message carried one part per
    hold, and every process decoded and fanned out each (3 % of a gateway's CPU); a
    subscriber watching a SKU is told once per message, not once per hold."""
    merged: list[Change] = []
    run: dict[str, None] = {}  # the run's SKUs, in order, once each
    kind: bool | None = None
    for change in changes:
        if isinstance(change, StockChanged) and kind is not None and change.at_sources == kind:
            run.update(dict.fromkeys(change.skus))
            continue
        if kind is not None:
            merged.append(StockChanged(tuple(run), kind))
            run, kind = {}, None
        if isinstance(change, StockChanged):
            run, kind = dict.fromkeys(change.skus), bool(change.at_sources)
        else:
            merged.append(change)
    if kind is not None:
        merged.append(StockChanged(tuple(run), kind))
    return merged


def encode(origin: str, changes: Sequence[Change], max_bytes: int) -> list[str]:
    """Messages of at most ``max_bytes`` UTF-8 bytes carrying ``changes`` in order; a stock
    change naming more SKUs than fit in one is split."""
    parts: list[dict[str, Any]] = []
    for change in changes:
        if isinstance(change, StockChanged):
            parts += _split(change, max_bytes - len(origin) - 64)
        else:
            parts.append(_as_json(change))
    # A message is its head, its parts joined by commas, and "]}" (what _message writes):
    # each part is written once and its bytes counted, rather than the whole message again
    # for every part added (a hold's change per reserve made that quadratic in the linger).
    head = _message(origin, [])[:-2]
    empty = len(head.encode()) + 2
    messages: list[str] = []
    batch: list[str] = []
    size = empty
    for part in parts:
        text = json.dumps(part, separators=(",", ":"))
        cost = len(text.encode()) + (1 if batch else 0)
        if batch and size + cost > max_bytes:
            messages.append(head + ",".join(batch) + "]}")
            batch, size = [text], empty + len(text.encode())
        else:
            batch.append(text)
            size += cost
    if batch:
        messages.append(head + ",".join(batch) + "]}")
    return messages


def _split(change: StockChanged, room: int) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    skus: list[str] = []
    size = 0
    for sku in change.skus:
        cost = len(json.dumps(sku).encode()) + 2
        if skus and size + cost > room:
            chunks.append(_stock_part(skus, change.at_sources))
            skus, size = [], 0
        skus.append(sku)
        size += cost
    if skus:
        chunks.append(_stock_part(skus, change.at_sources))
    return chunks


def _stock_part(skus: list[str], at_sources: bool) -> dict[str, Any]:
    return {"t": "stock", "skus": skus} if at_sources else {"t": "stock", "skus": skus, "src": 0}


def _message(origin: str, parts: list[dict[str, Any]]) -> str:
    return json.dumps({"o": origin, "c": parts}, separators=(",", ":"))


def decode(message: str | bytes) -> tuple[str, list[Change]]:
    raw = json.loads(message)
    changes = [c for c in (_from_json(part) for part in raw.get("c", ())) if c is not None]
    return str(raw.get("o", "")), changes


# --- carrying messages --------------------------------------------------------------------------


class Transport(Protocol):
    """Sends a message to every process (this one included) and hands each message that
    arrives to the ``received`` callback given to ``start``."""

    max_bytes: int
    # How long changes wait to be sent with the ones right behind them: between processes
    # a message costs a round trip to the broker and a wake-up of every listener.
    linger_seconds: float

    async def start(self, received: Callable[[str], None]) -> None: ...

    async def send(self, message: str) -> None: ...

    async def close(self) -> None: ...


# Under reserves a message left every few hundred microseconds, one per hold or so; waiting
# this long lets one message carry the holds of the next few milliseconds (subscribers and
# other processes' cached answers hear of a change this much later). Every message costs
# its sender a round trip and every process a wake-up: 20 ms sends a quarter of the messages
# 5 ms did, and is still far inside the one-second freshness the cached figures promise.
# (What the bus cost under reserves, 6-7 % of a gateway's CPU, was mostly the part each hold
# added to a message: ``coalesce`` removed that; this linger alone did not show.)
BETWEEN_PROCESSES_LINGER_SECONDS = 0.020


class InProcess:
    max_bytes = REDIS_PAYLOAD_BYTES
    linger_seconds = 0.0

    def __init__(self) -> None:
        self._received: Callable[[str], None] | None = None

    async def start(self, received: Callable[[str], None]) -> None:
        self._received = received

    async def send(self, message: str) -> None:
        if self._received is not None:
            self._received(message)

    async def close(self) -> None:
        self._received = None


class ChangeBus:
    def __init__(
        self,
        transport: Transport,
        feed: ChangeFeed,
        foreign_stock: Callable[[Sequence[str]], Awaitable[None]] | None = None,
        foreign_answers: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``foreign_stock``: drop this process's copies of SKUs whose sources another
        process saw move. ``foreign_answers``: another process committed something (every
        message says so): whole answers cached here may be stale."""
        self.origin = uuid.uuid4().hex[:12]
        self.feed = feed
        self._transport = transport
        self._foreign_stock = foreign_stock
        self._foreign_answers = foreign_answers
        self._pending: list[Change] = []
        self._announce = False
        self._sending: asyncio.Task[None] | None = None
        # Messages are handled one at a time, in the order they arrived: a newer change is
        # never fanned out before an older one.
        self._arrivals: asyncio.Queue[str] = asyncio.Queue()
        self._handler: asyncio.Task[None] | None = None
        self.sent = 0
        self.received = 0

    async def start(self) -> None:
        self._handler = asyncio.ensure_future(self._handle_arrivals())
        await self._transport.start(self._arrivals.put_nowait)

    def publish(self, changes: Sequence[Change]) -> None:
        """Queue ``changes`` for every process; returns at once."""
        if not changes:
            return
        self._pending.extend(changes)
        if self._sending is None or self._sending.done():
            self._sending = asyncio.ensure_future(self._send())

    def announce(self) -> None:
        """Something committed: tell the other processes (their cached answers) soon. It
        rides on the next message sent, one with changes or, with none pending, an empty
        one: one NOTIFY for a hold's change and its announcement, where there were two."""
        self._announce = True
        if self._sending is None or self._sending.done():
            self._sending = asyncio.ensure_future(self._send())

    async def flush(self) -> None:
        """Wait until everything published so far was sent, and everything arrived so far
        was fanned out (tests, shutdown)."""
        while self._sending is not None and not self._sending.done():
            await asyncio.gather(self._sending, return_exceptions=True)
        if self._handler is not None and not self._handler.done():
            await self._arrivals.join()

    async def _send(self) -> None:
        while self._pending or self._announce:
            if self._transport.linger_seconds:
                await asyncio.sleep(self._transport.linger_seconds)
            batch, self._pending, self._announce = self._pending, [], False
            messages = encode(self.origin, coalesce(batch), self._transport.max_bytes)
            for message in messages or [_message(self.origin, [])]:
                try:
                    await self._transport.send(message)
                    self.sent += 1
                except Exception:
                    # The changes are in the database; subscribers elsewhere miss this one
                    # announcement, and the next change or poll brings them up to date.
                    log.exception("could not announce %d changes to other processes", len(batch))

    async def _handle_arrivals(self) -> None:
        while True:
            message = await self._arrivals.get()
            try:
                await self._handle(message)
            except Exception:
                log.exception("a change message could not be handled")
            finally:
                self._arrivals.task_done()

    async def _handle(self, message: str) -> None:
        try:
            origin, changes = decode(message)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("a change message that is not one was ignored")
            return
        self.received += 1
        if origin != self.origin and self._foreign_answers is not None:
            await self._foreign_answers()
        if origin != self.origin and self._foreign_stock is not None:
            skus = [
                sku
                for c in changes
                if isinstance(c, StockChanged) and c.at_sources
                for sku in c.skus
            ]
            if skus:
                await self._foreign_stock(skus)
        self.feed.deliver(changes)

    async def close(self) -> None:
        await self.flush()
        await self._transport.close()
        if self._handler is not None:
            self._handler.cancel()
            await asyncio.gather(self._handler, return_exceptions=True)
