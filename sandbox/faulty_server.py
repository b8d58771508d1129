"""A simulator's HTTP server, able to fail below HTTP as its fault plan says (sandbox.faults).

``garbage_rate``: a request is answered with bytes that are not HTTP, and the connection
closed, before the app sees it. ``refuse_seconds``: the server stops listening (a connect is
refused, ECONNREFUSED, as when the backend is down) and drops the connections it has, then
listens again on the same port when the window ends. Both are read from the app's
``state.faults`` as each connection and request arrives, so a plan changed at run time
(in-process, or over /_sandbox/faults) takes effect at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Literal

import uvicorn

try:  # the protocol uvicorn's "auto" picks, and serves fastest with
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as BaseHttp
except ImportError:  # pragma: no cover - httptools ships with uvicorn[standard]
    from uvicorn.protocols.http.h11_impl import H11Protocol as BaseHttp  # type: ignore[assignment]

from sandbox.faults import GARBAGE, Faults

WATCH_SECONDS = 0.02


def _protocol_for(faults: Faults[Any]) -> type[BaseHttp]:
    class FaultyHttp(BaseHttp):
        def data_received(self, data: bytes) -> None:
            if faults.garbage_now():
                self.transport.write(GARBAGE)
                self.transport.close()
                return
            super().data_received(data)

    return FaultyHttp


class FaultyServer(uvicorn.Server):
    """uvicorn's server, with the wire faults of one simulator's plan."""

    def __init__(self, config: uvicorn.Config, faults: Faults[Any]) -> None:
        super().__init__(config)
        self.faults = faults
        self._watch: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        self._watch = asyncio.create_task(self._follow_refusals())

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await super().shutdown(sockets)

    async def _follow_refusals(self) -> None:
        listening = True
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            refusing = self.faults.refusing()
            if refusing and listening:
                await self._stop_listening()
                listening = False
            elif not refusing and not listening:
                await self._listen()
                listening = True

    async def _stop_listening(self) -> None:
        for server in self.servers:
            server.close()
        self.servers = []
        # Pooled connections would still be answered: a stopped backend drops them too.
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()

    async def _listen(self) -> None:
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            # As uvicorn's own startup makes them.
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            create_protocol, host=config.host, port=config.port, backlog=config.backlog
        )
        self.servers = [server]


def simulator_server(
    app: Any,
    *,
    host: str,
    port: int,
    lifespan: Literal["auto", "on", "off"] = "auto",
    log_level: str = "warning",
) -> uvicorn.Server:
    """A server for one simulator app; with the wire faults of its plan when it has one."""
    faults = getattr(getattr(app, "state", None), "faults", None)
    if not isinstance(faults, Faults):
        return uvicorn.Server(
            uvicorn.Config(
                app, host=host, port=port, lifespan=lifespan, log_level=log_level, access_log=False
            )
        )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan=lifespan,
        log_level=log_level,
        access_log=False,
        http=_protocol_for(faults),
    )
    return FaultyServer(config, faults)
