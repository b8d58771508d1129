"""Every test gets its own embedded database, so no test sees another's holds or orders.

Tests that need PostgreSQL ask for ``pg_url`` (a fresh database on the local server, see
tests/pg.py); background loops that poll a backend on a timer are off unless a test turns
them on, so a test decides when work happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.identity import ENVIRONMENT
from tests.pg import temporary_database


@pytest.fixture(autouse=True)
def isolated_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    monkeypatch.setenv("WEB_ORDER_SYNC_SECONDS", "0")
    # Staff JWTs signed by the suite's own throwaway key are accepted (tests/identity.py).
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with temporary_database() as url:
        yield url
