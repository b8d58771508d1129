"""GraphiQL served whole by the gateway: the page and every script, style and font it loads.

Strawberry's own page loads React and GraphiQL from a public CDN, so the explorer is blank
where the gateway runs without internet access. ``page.html`` is that page pointing at the
builds vendored under ``assets/`` (byte-identical, versions and licences in
``assets/README.md``), which ``GraphiQLAssets`` serves under ``ASSETS_PATH``.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Any

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

ASSETS_PATH = "/graphiql/assets"
HERE = Path(__file__).parent
ASSETS_DIR = HERE / "assets"
# Every file lives in a folder named for its version, so a URL never changes content: a
# browser may keep it for a year and never ask again.
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def _template() -> str:
    return (HERE / "page.html").read_text(encoding="utf-8")


def graphiql_page(root_path: str = "") -> str:
    """The page, its asset URLs under ``root_path`` (where a proxy mounts the gateway)."""
    return _template().replace("{{assets}}", html.escape(root_path + ASSETS_PATH))


class _ImmutableFiles(StaticFiles):
    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = IMMUTABLE
        return response


def graphiql_assets() -> ASGIApp:
    # graphiql.min.js is 3.5 MB; gzipped it is about a quarter of that.
    return GZipMiddleware(_ImmutableFiles(directory=ASSETS_DIR), minimum_size=1024)
