"""Services over a real (SQLite) database and the in-memory backends, on a clock the test
moves. Built through ``gateway.app.build_services`` so the wiring is the app's own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.app import Backends, build_services
from gateway.cache import Cache, build_backend
from gateway.config import Settings
from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade
from tests.fakes import FakeOms, small_retailer
from tests.pg import temporary_database
from tests.services.world import FakeClock, World

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
        return World(services, erp, web, pos, oms, clock, db, cache)

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
