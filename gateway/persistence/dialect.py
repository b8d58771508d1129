"""INSERT ... ON CONFLICT, which PostgreSQL and SQLite spell with different constructs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def upsert_insert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT, for this connection's database."""
    return upsert_insert_for(conn.dialect.name, table)


def upsert_insert_for(dialect: str, table: Table) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)
