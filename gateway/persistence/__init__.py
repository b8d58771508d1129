"""Persistence: SQLModel tables, the engine, and one repository module per aggregate.

PostgreSQL through asyncpg in production and CI; SQLite through aiosqlite as the embedded
default. Repositories speak SQLAlchemy Core on an ``AsyncConnection`` the caller's
transaction owns, so one business change and its outbox messages commit together.
"""
