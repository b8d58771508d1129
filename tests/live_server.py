"""Run an ASGI app on a real loopback port for tests that need a real socket
(a third-party client library, the demo, two processes)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.faulty_server import simulator_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` in a background thread; yield its base URL; stop it on exit."""
    port = port or free_port()
    # A simulator's server fails on the wire as its fault plan says (sandbox.faulty_server).
    server = simulator_server(app, host="127.0.0.1", port=port, lifespan="on")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
