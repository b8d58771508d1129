"""Database errors say what failed, never with the values bound to the statement: those
carry customers' e-mail addresses and names into the logs."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gateway.persistence.database import Database, create_engine
from tests.pg import temporary_database


async def failing_statement(url: str) -> str:
    db = Database(create_engine(url))
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("CREATE TABLE customers (email VARCHAR(20) UNIQUE)"))
            insert = text("INSERT INTO customers (email) VALUES (:email)")
            await conn.execute(insert, {"email": "ann@example.org"})
            with pytest.raises(DBAPIError) as failed:
                await conn.execute(insert, {"email": "ann@example.org"})
        return str(failed.value)
    finally:
        await db.close()


async def test_sqlite_errors_are_logged_without_their_values(tmp_path):
    said = await failing_statement(f"sqlite+aiosqlite:///{tmp_path}/errors.db")
    assert "UNIQUE" in said and "ann@example.org" not in said


async def test_postgresql_errors_are_logged_without_their_values():
    async with temporary_database() as url:
        said = await failing_statement(url)
    assert "unique" in said.lower() and "ann@example.org" not in said
