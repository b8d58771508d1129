"""The two statements PostgreSQL and SQLite spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def upsert_insert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT, for this connection's database."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def skip_locked(conn: AsyncConnection) -> dict[str, bool]:
    """``with_for_update`` arguments: SQLite has one writer at a time and no row locks."""
    return {"skip_locked": True} if conn.dialect.name == "postgresql" else {}
