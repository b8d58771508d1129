"""Every test gets its own embedded database, so no test sees another's holds or orders.

Tests that need PostgreSQL say so (tests/pg.py); background loops that poll a backend on a
timer are off unless a test turns them on, so a test decides when work happens.
"""

import pytest


@pytest.fixture(autouse=True)
def isolated_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    monkeypatch.setenv("WEB_ORDER_SYNC_SECONDS", "0")
