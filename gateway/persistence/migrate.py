"""Bring a database to the newest schema: ``commerce-gateway migrate``; the demo and the
gateway's startup call ``upgrade`` too."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from gateway.persistence.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(database: Database, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with database.transaction() as connection:
        if connection.dialect.name == "postgresql":
            # Two gateway processes starting together must not both run the migrations.
            await connection.execute(text("SELECT pg_advisory_xact_lock(7310001)"))
        await connection.run_sync(run)


def revision(message: str, url: str) -> None:
    """Autogenerate a new revision from the tables (a developer tool)."""
    import os

    os.environ["DATABASE_URL"] = url
    command.revision(alembic_config(), message=message, autogenerate=True)
