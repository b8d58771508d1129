"""The ledger read every availability answer makes, through the database driver itself.

Through SQLAlchemy's async layer this one small read cost about 0.9 ms of CPU on SQLite
(a connection checked out, BEGIN, a cursor, the statement, the rows, ROLLBACK: each a hop to
aiosqlite's thread) and 0.5 ms on PostgreSQL; one driver call costs 0.08 ms and 0.1 ms.
So the statement (gateway.persistence.reservations.ledger_query, the very one the unit of
work runs) is compiled once per dialect, with the SKU list bound as one value, and run on
a connection of its own:

* SQLite: one read-only aiosqlite connection to the same file (WAL: it reads the last
  committed state while a writer works, and never takes the write lock);
* PostgreSQL: an asyncpg pool of its own, as large as the unit of work's
  (DATABASE_POOL_SIZE), without the reset query asyncpg sends when a connection is returned
  (the reads leave no session state behind). Every request in flight reads the ledger, and
  a connection stays taken until the busy event loop gets round to its answer: with a pool
  of 2, sixteen concurrent product pages queued for the pair (p50 20 ms, p99 140 ms,
  bench/executed.py); with 10, p99 was 1.7x p50. Reads arriving together share a query
  (CoalescedLedgerReads, below).

An in-memory SQLite database cannot be opened twice: it keeps the unit of work's path.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg
from opentelemetry.trace import SpanKind, Tracer
from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement

from gateway.domain.reservations import LedgerEntry, LedgerKind
from gateway.persistence.columns import UtcDateTime
from gateway.persistence.database import PG_SESSION
from gateway.persistence.reservations import ledger_query

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LedgerReads(Protocol):
    tracer: Tracer | None

    async def entries(
        self, skus: Sequence[str], *, now: datetime, applied_after: datetime
    ) -> list[LedgerEntry]: ...

    async def close(self) -> None: ...


def _json_listed(sku: ColumnElement[str]) -> ColumnElement[bool]:
    # SQLite: the list as one JSON array, unpacked by json_each.
    values = func.json_each(bindparam("skus", type_=String())).table_valued("value")
    return sku.in_(select(values.c.value))


def _array_listed(sku: ColumnElement[str]) -> ColumnElement[bool]:
    # PostgreSQL: the list as one text[].
    return sku == any_(bindparam("skus", type_=ARRAY(String())))


class _Statement:
    """The ledger statement compiled for ``dialect``: its SQL, and how to turn (skus, now,
    applied_after) into its positional parameters and a row into a LedgerEntry."""

    def __init__(
        self,
        dialect: Dialect,
        sku_among: Callable[[ColumnElement[str]], ColumnElement[bool]],
        skus_value: Callable[[Sequence[str]], Any],
    ) -> None:
        # Placeholders for the values each read binds, so the constant lists in the
        # statement can be rendered into its SQL once.
        placeholders = {"skus": skus_value([]), "now": _EPOCH, "applied_after": _EPOCH}
        compiled = ledger_query(False, sku_among).compile(dialect=dialect)
        expanded = compiled.construct_expanded_state(placeholders)
        self.sql = expanded.statement
        moment = UtcDateTime().dialect_impl(dialect)
        to_driver = moment.bind_processor(dialect) or (lambda value: value)
        self._from_driver = moment.result_processor(dialect, None) or (lambda value: value)
        fixed = expanded.parameters
        self._order = list(expanded.positiontup or ())
        self._fixed = {name: fixed[name] for name in self._order if name not in placeholders}
        self._to_driver = to_driver
        self._skus_value = skus_value

    def parameters(self, skus: Sequence[str], now: datetime, applied_after: datetime) -> list[Any]:
        given = {
            "skus": self._skus_value(skus),
            "now": self._to_driver(now),
            "applied_after": self._to_driver(applied_after),
        }
        return [given[name] if name in given else self._fixed[name] for name in self._order]

    def entries(self, rows: Sequence[Sequence[Any]]) -> list[LedgerEntry]:
        from_driver = self._from_driver
        return [
            LedgerEntry(sku, location_id, LedgerKind(kind), quantity, from_driver(applied_at))
            for sku, location_id, kind, quantity, applied_at in rows
        ]


class _DriverReads:
    """Runs the statement with one driver call (``_fetch``), in a span of its own when
    traces are on (``tracer``, set by gateway.observability.tracing)."""

    system = ""

    def __init__(self, statement: _Statement) -> None:
        self._statement = statement
        self.tracer: Tracer | None = None
        # The first reads arrive together: one of them opens the connection (or pool), the
        # others wait for it rather than each opening one of their own.
        self._opening = asyncio.Lock()

    async def _open_once(self) -> None:
        async with self._opening:
            if not self._is_open():
                await self._open()

    def _is_open(self) -> bool:
        raise NotImplementedError

    async def _open(self) -> None:
        raise NotImplementedError

    async def entries(
        self, skus: Sequence[str], *, now: datetime, applied_after: datetime
    ) -> list[LedgerEntry]:
        parameters = self._statement.parameters(skus, now, applied_after)
        if self.tracer is None:
            return self._statement.entries(await self._fetch(parameters))
        attributes = {"db.system": self.system, "db.statement": self._statement.sql}
        with self.tracer.start_as_current_span(
            "SELECT ledger", kind=SpanKind.CLIENT, attributes=attributes
        ):
            return self._statement.entries(await self._fetch(parameters))

    async def _fetch(self, parameters: list[Any]) -> Sequence[Sequence[Any]]:
        raise NotImplementedError


class SqliteLedgerReads(_DriverReads):
    """Read on the event loop's own thread, with a thread's connection behind it.

    The statement finds a few rows by index in pages the OS already holds: about 10 us.
    Handing it to aiosqlite's thread costs far more than that: the GIL passed back and
    forth, a future resolved across threads (measured: about 0.2 ms of CPU per product
    page, an eighth of the request). So it runs here, on a read-only connection that never
    waits: in WAL mode a reader is not blocked by a writer, and whatever would make it wait
    (a busy file, a WAL index being rebuilt) raises at once, and that read goes through
    aiosqlite's thread instead, which waits as long as the unit of work would.
    """

    system = "sqlite"

    def __init__(self, path: str, dialect: Dialect) -> None:
        super().__init__(_Statement(dialect, _json_listed, lambda skus: json.dumps(list(skus))))
        self._path = path
        self._direct: sqlite3.Connection | None = None
        self._connection: aiosqlite.Connection | None = None

    async def _fetch(self, parameters: list[Any]) -> Sequence[Sequence[Any]]:
        if self._direct is None:
            # Read-only by its URI; autocommit: each read sees the last commit.
            self._direct = sqlite3.connect(
                f"file:{self._path}?mode=ro", uri=True, timeout=0, isolation_level=None
            )
        try:
            return self._direct.execute(self._statement.sql, parameters).fetchall()
        except sqlite3.OperationalError:  # it would have had to wait: let a thread wait
            if self._connection is None:
                await self._open_once()
            assert self._connection is not None
            return list(await self._connection.execute_fetchall(self._statement.sql, parameters))

    async def _open(self) -> None:
        # Opened on first use, on the loop that serves requests.
        self._connection = await aiosqlite.connect(f"file:{self._path}?mode=ro", uri=True)

    def _is_open(self) -> bool:
        return self._connection is not None

    async def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
            self._direct = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


class _NoReset(asyncpg.Connection):
    def get_reset_query(self) -> str:
        return ""  # these connections only read: nothing to reset on the way back


class PostgresLedgerReads(_DriverReads):
    system = "postgresql"

    def __init__(self, dsn: str, dialect: Dialect, *, size: int) -> None:
        super().__init__(_Statement(dialect, _array_listed, list))
        self._dsn = dsn
        self._size = size
        self._pool: asyncpg.Pool | None = None

    async def _fetch(self, parameters: list[Any]) -> Sequence[Sequence[Any]]:
        if self._pool is None:
            await self._open_once()
        assert self._pool is not None
        return await self._pool.fetch(self._statement.sql, *parameters)

    async def _open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=1,
            max_size=self._size,
            connection_class=_NoReset,
            # As the unit of work's connections: a plan per execution (database.py).
            server_settings=PG_SESSION,
        )

    def _is_open(self) -> bool:
        return self._pool is not None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


class _Waiting:
    __slots__ = ("answer", "applied_after", "now", "skus")

    def __init__(
        self, skus: Sequence[str], now: datetime, applied_after: datetime, answer: Any
    ) -> None:
        self.skus = skus
        self.now = now
        self.applied_after = applied_after
        self.answer: asyncio.Future[list[LedgerEntry]] = answer


class CoalescedLedgerReads:
    """Reads that arrive while one is under way wait for it and then share one query.

    On PostgreSQL each read is a round trip through the pool, the protocol and the event
    loop's socket handling, whatever it asks: with sixteen product pages in flight that
    was about a tenth of a page's CPU. So one query runs at a time; the reads arriving
    meanwhile are asked together next, for all their SKUs, as of the latest of their
    moments (each read then sees the ledger as of when it was read, as it would alone),
    and each is answered with its own SKUs' entries. A read with none under way is asked
    at once. A
    failed query fails the reads that shared it; a caller that stops waiting leaves the
    others theirs. With traces on, every read is its own query (and its own span).
    """

    def __init__(self, reads: LedgerReads) -> None:
        self.reads = reads
        self._waiting: list[_Waiting] = []
        self._asking: asyncio.Task[None] | None = None

    @property
    def tracer(self) -> Tracer | None:
        return self.reads.tracer

    @tracer.setter
    def tracer(self, tracer: Tracer | None) -> None:
        self.reads.tracer = tracer

    async def entries(
        self, skus: Sequence[str], *, now: datetime, applied_after: datetime
    ) -> list[LedgerEntry]:
        if self.reads.tracer is not None:
            return await self.reads.entries(skus, now=now, applied_after=applied_after)
        loop = asyncio.get_running_loop()
        waiting = _Waiting(skus, now, applied_after, loop.create_future())
        self._waiting.append(waiting)
        if self._asking is None or self._asking.done():
            # In a context of its own: the queries serve many requests, none in particular.
            self._asking = loop.create_task(self._ask(), context=contextvars.Context())
        return await waiting.answer

    async def _ask(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            batch = [w for w in batch if not w.answer.done()]  # gone: no longer asked for
            if not batch:
                continue
            skus = list(dict.fromkeys(sku for w in batch for sku in w.skus))
            try:
                found = await self.reads.entries(
                    skus,
                    now=max(w.now for w in batch),
                    applied_after=max(w.applied_after for w in batch),
                )
            except Exception as failure:
                for w in batch:
                    if not w.answer.done():
                        w.answer.set_exception(failure)
                continue
            by_sku: dict[str, list[LedgerEntry]] = {}
            for entry in found:
                by_sku.setdefault(entry.sku, []).append(entry)
            for w in batch:
                if not w.answer.done():
                    w.answer.set_result(
                        [e for sku in dict.fromkeys(w.skus) for e in by_sku.get(sku, ())]
                    )

    async def close(self) -> None:
        if self._asking is not None:
            await asyncio.gather(self._asking, return_exceptions=True)
        await self.reads.close()


def ledger_reads_for(url: str, dialect: Dialect, *, pool_size: int = 10) -> LedgerReads | None:
    """The driver-level reader for the database at ``url`` (a SQLAlchemy URL), or None
    where it cannot have one (an in-memory SQLite database); on PostgreSQL with up to
    ``pool_size`` connections."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or parsed.query.get("mode") == "memory":
            return None
        return SqliteLedgerReads(path, dialect)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return CoalescedLedgerReads(PostgresLedgerReads(dsn, dialect, size=pool_size))
