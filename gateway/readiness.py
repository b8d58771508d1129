"""``/healthz`` (the process is alive) and ``/readyz`` (it can serve: its database and cache
answer). A backend that is down does not make the gateway unready, since it answers from
last good copies and says so; ``/readyz`` shows each backend's breaker and last success
for operators all the same."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

_PROBE_SECONDS = 2.0


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readiness(request: Request) -> JSONResponse:
    state = request.app.state
    checks = {
        "database": await _probe(_database(state.db)),
        "cache": await _probe(state.cache.generation()),
    }
    ready = all(check == "ok" for check in checks.values())
    backends = [
        {
            "name": h.name,
            "state": h.state.value,
            "lastSuccessAt": None if h.last_success_at is None else h.last_success_at.isoformat(),
            "lastFailure": h.last_failure,
        }
        for h in state.services.backend_health()
    ]
    body = {"status": "ready" if ready else "unready", "checks": checks, "backends": backends}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _database(db: Any) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _probe(check: Any) -> str:
    try:
        await asyncio.wait_for(check, _PROBE_SECONDS)
    except Exception as failure:
        return f"failing: {type(failure).__name__}: {failure}"[:300]
    return "ok"
