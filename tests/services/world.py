"""The world a service test runs in: the app's services over a real database and the
in-memory backends, on a clock the test moves (built by the ``make_world`` fixture)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from gateway.cache import Cache
from gateway.domain import NodeAvailability
from gateway.domain.outbox import Delivery
from gateway.persistence.database import Database
from gateway.persistence.pg_holds import PostgresHoldTaker
from gateway.persistence.sqlite_holds import SqliteHoldTaker
from gateway.persistence.unit_of_work import SqlStorage, SqlUnitOfWork
from gateway.services.container import Services
from tests.fakes import FakeErp, FakeOms, FakePos, FakeStorefront


class FakeClock:
    """Starts at the wall clock's present (PostgreSQL's own now() is never consulted, but a
    realistic start keeps the timestamps readable)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


@dataclass
class World:
    services: Services
    erp: FakeErp
    web: FakeStorefront
    pos: FakePos
    oms: FakeOms
    clock: FakeClock
    db: Database
    cache: Cache  # the services' cache of backend figures

    async def node(self, sku: str, location_id: str) -> NodeAvailability:
        return (await self.services.availability.by_node([sku]))[sku][location_id]

    async def atp(self, sku: str, location_id: str) -> int:
        return (await self.node(sku, location_id)).available_to_promise

    def uow(self, *, read_only: bool = False) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        """A unit of work on the world's database, as the services open them."""
        taker = PostgresHoldTaker if self.db.dialect == "postgresql" else SqliteHoldTaker
        storage = SqlStorage(self.db, partial(taker, horizon=timedelta(minutes=5)))
        return storage.unit_of_work(read_only=read_only)

    async def deliveries(self, ordering_key: str) -> list[Delivery]:
        async with self.uow() as uow:
            return await uow.outbox.for_key(ordering_key)
