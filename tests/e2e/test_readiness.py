"""/healthz says the process is alive; /readyz says whether it can serve: its database and
cache answer (a backend that is down does not make it unready; its breaker is shown)."""

from __future__ import annotations

import asyncpg

from tests.e2e.support import gateway
from tests.pg import HOST, PORT


async def test_ready_while_its_database_answers_and_unready_once_it_is_gone(
    dataset, tmp_path, pg_url
):
    async with gateway(dataset, tmp_path, database_url=pg_url) as stack:
        await readiness_walk(stack.gql, pg_url)


async def readiness_walk(gql, pg_url: str) -> None:
    assert gql.http is not None
    alive = await gql.http.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})

    ready = await gql.http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["checks"] == {"database": "ok", "cache": "ok"}
    assert {b["name"] for b in body["backends"]} == {"erpnext", "woocommerce", "square", "shopify"}
    assert all(b["state"] in ("UP", "DEGRADED", "OPEN", "HALF_OPEN") for b in body["backends"])

    # The database goes away under the running gateway.
    name = pg_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(host=HOST, port=PORT, user="postgres", database="test")
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()

    gone = await gql.http.get("/readyz")
    assert gone.status_code == 503
    assert gone.json()["status"] == "unready"
    assert gone.json()["checks"]["database"].startswith("failing")
    assert gone.json()["checks"]["cache"] == "ok"
    assert (await gql.http.get("/healthz")).status_code == 200  # alive, just not ready
