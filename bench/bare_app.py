"""The baseline: a bare Starlette endpoint returning the same JSON the gateway returns."""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PAYLOAD = json.loads(Path(os.environ["BARE_PAYLOAD_FILE"]).read_text())


async def endpoint(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse(PAYLOAD)


app = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
