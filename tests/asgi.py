"""Drive the real ASGI app (lifespan included) in-process, as a client would over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.identity import STAFF


class GraphQLClient:
    """Asks as ``headers`` say: a staff member holding every role unless told otherwise."""

    def __init__(self, app: Any, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = STAFF if headers is None else headers
        self._lifespan: Any = None
        self.http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> GraphQLClient:
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://gateway",
            headers=self.headers,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.http is not None
        await self.http.aclose()
        await self._lifespan.__aexit__(*exc)

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        assert self.http is not None
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return response.json()
