"""``/_sandbox/webhooks``: the delivery knobs and record of one simulator, over HTTP, for a
process that does not hold the app (a demo, a manual test). Sandbox only: no credentials,
no injected request faults, the same on all four simulators.

    GET  /_sandbox/webhooks          {"faults": {...}, "retry_scale", "pending", "sent": [...]}
    POST /_sandbox/webhooks          set knobs: {"drop_next": 2, "forge": true, ...};
                                     "retry_scale": 0.01; "reset": true first restores the
                                     defaults and forgets the record. Answers as GET.
    POST /_sandbox/webhooks/settle   waits until nothing is left to send; answers as GET.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.webhooks.sender import WebhookSender

PATH = "/_sandbox/webhooks"


def control_routes(sender: WebhookSender) -> list[Route]:
    async def show(request: Request) -> Response:
        return JSONResponse(sender.state())

    async def configure(request: Request) -> Response:
        try:
            values: Any = json.loads(await request.body() or b"{}")
            if not isinstance(values, dict):
                raise ValueError("expected a JSON object")
            if values.pop("reset", False):
                sender.reset()
            if "retry_scale" in values:
                scale = values.pop("retry_scale")
                if isinstance(scale, bool) or not isinstance(scale, int | float) or scale < 0:
                    raise ValueError("retry_scale is a number, 0 or more")
                sender.retry_scale = float(scale)
            sender.faults.configure(values)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(sender.state())

    async def settle(request: Request) -> Response:
        await sender.settle()
        return JSONResponse(sender.state())

    return [
        Route(PATH, show, methods=["GET"]),
        Route(PATH, configure, methods=["POST"]),
        Route(f"{PATH}/settle", settle, methods=["POST"]),
    ]
