"""A bare endpoint answering GET with a fixed JSON body (for the transport benchmark)."""

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
    return JSONResponse(PAYLOAD)


app = Starlette(routes=[Route("/graphql", endpoint, methods=["GET"])])
