"""PostgreSQL sessions the gateway opens plan each execution for its own parameters: a
statement first run while its table was nearly empty is not held to that plan as the table
grows. A first reconcile fills the observation table from nothing, a page at a time, and
looks each page's SKUs up before recording them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain.truth import Observation
from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade
from gateway.persistence.truth import SqlObservations
from gateway.truth.reconciler import OBSERVED
from tests.pg import temporary_database

PAGE = 100
PAGES = 300  # 210,000 rows: past the size where a scan of the table costs more than the key


def _page(number: int) -> tuple[list[str], list[Observation]]:
    now = datetime.now(UTC)
    skus = [f"SKU-{number:05d}-{n:03d}" for n in range(PAGE)]
    seen = [
        Observation(system, sku, name, "1", now)
        for sku in skus
        for system, names in OBSERVED.items()
        for name in names
    ]
    return skus, seen


async def _plans_seen(conn: AsyncConnection) -> list[str]:
    """The plans of the statements run after this, as auto_explain reports them."""
    raw = await conn.get_raw_connection()
    plans: list[str] = []
    raw.driver_connection.add_log_listener(  # type: ignore[union-attr]
        lambda _conn, message: plans.append(str(getattr(message, "message", message)))
    )
    for setting in (
        "LOAD 'auto_explain'",
        "SET auto_explain.log_min_duration = 0",
        "SET auto_explain.log_level = notice",
    ):
        await conn.exec_driver_sql(setting)
    return plans


async def test_a_page_of_last_values_is_looked_up_by_sku_however_the_table_grew() -> None:
    async with temporary_database() as url:
        db = Database(create_engine(url, pool_size=1))
        try:
            await upgrade(db)
            async with db.engine.connect() as conn:
                observations = SqlObservations(conn)
                for number in range(PAGES):
                    skus, seen = _page(number)
                    assert await observations.last_values(skus, OBSERVED) == {}
                    await observations.record(seen)
                plans = await _plans_seen(conn)
                skus, seen = _page(7)
                found = await observations.last_values(skus, OBSERVED)
        finally:
            await db.engine.dispose()
    assert len(found) == len(seen)
    lookup = next(plan for plan in plans if "FROM observation" in plan)
    assert "SKU-00007-000" in lookup, lookup  # planned for its own SKUs, not a generic plan
    assert "Seq Scan" not in lookup, lookup
    assert "Index Cond: (((sku)" in lookup, lookup
