"""``/_sandbox/faults``: one simulator's fault plan (sandbox.faults), over HTTP, for a process
that does not hold the app (the demo, a benchmark, a manual test). Sandbox only: no
credentials, never failed by the plan itself, the same on all four simulators.

    GET  /_sandbox/faults   the plan in force: {"latency_ms", "error_rate", "spike_ms",
                            "spike_rate", "hang",
                            "outage_seconds" (left), "burst_429" (left), "garbage_rate",
                            "refuse_seconds" (left)}
    POST /_sandbox/faults   change it: {"error_rate": 0.3}, {"hang": true},
                            {"outage_seconds": 60}, {"reset": true}, ...; answers as GET,
                            or 400 naming the knob that is wrong.

While connections are refused this endpoint cannot be reached either: refusal is set for a
window (``refuse_seconds``) and ends by itself.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.faults import Faults

PATH = "/_sandbox/faults"


def fault_routes(faults: Faults[Any]) -> list[Route]:
    async def show(request: Request) -> Response:
        return JSONResponse(faults.state())

    async def configure(request: Request) -> Response:
        try:
            values: Any = json.loads(await request.body() or b"{}")
            if not isinstance(values, dict):
                raise ValueError("expected a JSON object")
            faults.configure(values)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(faults.state())

    return [Route(PATH, show, methods=["GET"]), Route(PATH, configure, methods=["POST"])]
