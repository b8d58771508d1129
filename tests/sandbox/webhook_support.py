"""A receiver for the simulators' webhooks, reached in-process: it records every request
and answers with the statuses a test scripts (200 once the script is used up)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.webhooks import WebhookSender


@dataclass(frozen=True)
class Received:
    method: str
    url: str
    headers: dict[str, str]  # lower-cased names, as received
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()
        self.app = Starlette(
            routes=[Route("/{path:path}", self._receive, methods=["POST", "PUT", "DELETE"])]
        )

    def answer(self, *statuses: int) -> None:
        self.statuses.extend(statuses)

    def attach(self, sender: WebhookSender, *, retry_scale: float = 0.001) -> None:
        """Route ``sender``'s deliveries here; retries wait a thousandth of their time."""
        sender.transport = httpx.ASGITransport(app=self.app)
        sender.retry_scale = retry_scale

    def signed(self, header: str) -> list[Received]:
        """What arrived carrying ``header`` (the ping of a WooCommerce webhook does not)."""
        return [r for r in self.received if r.header(header) is not None]

    async def _receive(self, request: Request) -> Response:
        self.received.append(
            Received(
                request.method,
                str(request.url),
                {k.lower(): v for k, v in request.headers.items()},
                await request.body(),
            )
        )
        return Response("ok", self.statuses.popleft() if self.statuses else 200)
