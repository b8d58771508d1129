"""A fresh PostgreSQL database per test, on the local server (127.0.0.1:5432, trust auth).

Tests that prove concurrency run here, on the real thing. If the server is not reachable
they fail with the reason: CI always has one, and a silent skip would hide a regression.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

HOST = os.environ.get("PGHOST", "127.0.0.1")
PORT = int(os.environ.get("PGPORT", "5432"))
USERS = ("postgres", "root")


async def _admin() -> tuple[asyncpg.Connection, str]:
    errors = []
    for user in USERS:
        try:
            return await asyncpg.connect(host=HOST, port=PORT, user=user, database="test"), user
        except Exception as exc:  # try the next user before giving up
            errors.append(f"{user}: {exc}")
    pytest.fail(f"PostgreSQL at {HOST}:{PORT} is needed for this test: {'; '.join(errors)}")


@asynccontextmanager
async def temporary_database() -> AsyncIterator[str]:
    """``postgresql+asyncpg://…`` of a database that exists inside the block only."""
    admin, user = await _admin()
    name = f"gw_test_{secrets.token_hex(6)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://{user}@{HOST}:{PORT}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
