"""Starlette's JSONResponse, encoded by orjson: the simulators answer a full reconcile of the
50,000-SKU retailer with millions of Square counts, and orjson encodes them several times
quicker than the standard library. The bytes are what JSONResponse writes (compact, UTF-8)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
