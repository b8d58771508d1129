"""Shared benchmark plumbing: start servers as subprocesses, drive load, summarise.

Every server runs in its own process (uvicorn, one worker, no access log) so the gateway and
the baseline are served the same way; the load generator is aiohttp in this process.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


@contextmanager
def process(
    args: list[str], env: dict[str, str] | None = None, ports: Sequence[int] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for port in ports:
            try:
                wait_for_port(port)
            except RuntimeError:
                proc.kill()
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "") from None
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def bench_identity(workdir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Credentials for a benchmark's gateway: the environment that makes a gateway process
    accept staff JWTs from a throwaway identity provider (its JWKS written into
    ``workdir``), and the request headers of a caller holding every role and ``pii:read``.
    Send the headers on every request to ``/graphql``; a subscriber puts them in
    ``connection_init``'s payload."""
    from gateway.domain.principal import Role
    from sandbox.demo_identity import IdentityProvider

    provider = IdentityProvider(workdir)
    settings = provider.settings()
    env = {
        "AUTH__JWT_ISSUER": settings.jwt_issuer or "",
        "AUTH__JWT_AUDIENCE": settings.jwt_audience or "",
        "AUTH__JWT_JWKS_FILE": settings.jwt_jwks_file or "",
        # Limits far above any load here: the limiter's cost is measured, never a refusal.
        "RATE_LIMIT__PER_SECOND": "1000000",
        "RATE_LIMIT__BURST": "1000000",
        "RATE_LIMIT__ROLES": "{}",
    }
    token = provider.token("bench", [role.value for role in Role], "pii:read", hours=24)
    return env, {"Authorization": f"Bearer {token}"}


def backend_urls(ports: list[int]) -> dict[str, str]:
    """A gateway's environment naming the simulators on ``ports`` (ERPNext, WooCommerce,
    Square and, when a fourth is given, Shopify)."""
    names = ("ERP_BASE_URL", "WOO_BASE_URL", "SQUARE_BASE_URL", "OMS_BASE_URL")
    return {name: f"http://127.0.0.1:{port}" for name, port in zip(names, ports, strict=False)}


def uvicorn_args(app: str, port: int, *, factory: bool = False) -> list[str]:
    args = ["-m", "uvicorn", app, "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return [*args, "--factory"] if factory else args


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    method: str,
    url: str,
    body: bytes | None,
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """Closed-loop load: ``concurrency`` clients, each sending its next request on reply;
    ``headers`` go on every request besides the content type (a gateway's credentials)."""
    sent = {"content-type": "application/json", **(headers or {})}
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            nonlocal errors
            start = time.perf_counter()
            async with session.request(method, url, data=body, headers=sent) as response:
                payload = await response.read()
                if response.status != 200 or b'"errors"' in payload:
                    errors += 1
            latencies.append(time.perf_counter() - start)

        async def client(until: float) -> None:
            while time.perf_counter() < until:
                await one()

        await asyncio.gather(*(client(time.perf_counter() + warmup) for _ in range(concurrency)))
        latencies.clear()
        errors = 0
        start = time.perf_counter()
        await asyncio.gather(*(client(start + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return LoadResult(
        len(latencies),
        elapsed,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        errors,
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a process (Linux) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class KeepAliveConnection:
    """One HTTP/1.1 keep-alive connection speaking just enough of the protocol to POST JSON
    (with ``headers`` besides, e.g. credentials) and read a Content-Length answer. The load
    generator shares the machine with what it measures; this costs a fraction of a full
    client's CPU (pgbench's own is C)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self._host, self._port, self._path = parts.hostname, parts.port, parts.path
        self._extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> bytes:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        head = (
            f"POST {self._path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: application/json\r\n{self._extra}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self._writer.write(head.encode() + body)
        headers = await self._reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in headers.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return await self._reader.readexactly(length)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
