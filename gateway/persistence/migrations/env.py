"""Alembic environment. ``gateway.persistence.migrate`` hands it an open connection; run
from the ``alembic`` command line it opens one from ``DATABASE_URL`` instead."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from gateway.persistence.database import create_engine
from gateway.persistence.tables import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run_on)
        await connection.commit()
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    from gateway.config import Settings

    asyncio.run(run_from_url(os.environ.get("DATABASE_URL") or Settings().database_url))
