"""Services over a real (SQLite) database and the in-memory backends, on a clock the test
moves. Built through ``gateway.app.build_services`` so the wiring is the app's own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from gateway.app import Backends, build_services
from gateway.cache import Cache, build_backend
from gateway.config import Settings
from gateway.domain import NodeAvailability
from gateway.domain.outbox import Delivery
from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade
from gateway.persistence.pg_holds import PostgresHoldTaker
from gateway.persistence.sqlite_holds import SqliteHoldTaker
from gateway.persistence.unit_of_work import SqlStorage, SqlUnitOfWork
from gateway.services.container import Services
from tests.fakes import FakeErp, FakeOms, FakePos, FakeStorefront, small_retailer
from tests.pg import temporary_database

NODES = {
    "nodes": [
        {"source": "ERP", "ref": "Central - NTR", "id": "WH-CENTRAL", "lat": 51.31, "lng": 9.48},
        {"source": "ERP", "ref": "North - NTR", "id": "WH-NORTH", "lat": 53.47, "lng": 10.01},
        {
            "source": "POS",
            "ref": "LMITTE",
            "id": "ST-MITTE",
            "capabilities": ["PICKUP", "SHIP_FROM_STORE"],
        },
        {"source": "POS", "ref": "LHAM", "id": "ST-HAMBURG", "capabilities": []},
    ]
}


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

    async def node(self, sku: str, location_id: str) -> NodeAvailability:
        return (await self.services.availability.by_node([sku]))[sku][location_id]

    async def atp(self, sku: str, location_id: str) -> int:
        return (await self.node(sku, location_id)).available_to_promise

    def uow(self) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        """A unit of work on the world's database, as the services open them."""
        taker = PostgresHoldTaker if self.db.dialect == "postgresql" else SqliteHoldTaker
        return SqlStorage(self.db, partial(taker, horizon=timedelta(minutes=5))).unit_of_work()

    async def deliveries(self, ordering_key: str) -> list[Delivery]:
        async with self.uow() as uow:
            return await uow.outbox.for_key(ordering_key)


@pytest.fixture
async def make_world(tmp_path):
    opened: list[tuple[Database, Cache]] = []

    async def make(**settings: Any) -> World:
        nodes = tmp_path / "nodes.json"
        nodes.write_text(json.dumps(NODES))
        config = Settings(nodes_file=nodes, redis_url=None, _env_file=None, **settings)
        erp, web, pos = small_retailer()
        oms = FakeOms()
        db = Database(create_engine(config.database_url))
        await upgrade(db)
        cache = Cache(build_backend(None))
        opened.append((db, cache))
        clock = FakeClock()
        services = build_services(
            config, Backends(erp=erp, storefront=web, pos=pos, oms=oms), cache, db, clock
        )
        return World(services, erp, web, pos, oms, clock, db)

    yield make
    for db, cache in opened:
        await cache.close()
        await db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def world(request, make_world) -> AsyncIterator[World]:
    """Every service test runs on the embedded database and on PostgreSQL, where holds are
    taken by the database function gw_take_holds: both must give the same answers."""
    if request.param == "sqlite":
        yield await make_world()
        return
    async with temporary_database() as url:
        yield await make_world(database_url=url)
