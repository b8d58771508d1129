"""Plumbing for bench/realtime.py: a fresh PostgreSQL database (or SQLite file), the four
simulators in a process of their own, gateway processes started with environment variables
as a deployment would, a Square till driven through Square's own API, a cheap keep-alive
HTTP client, and graphql-transport-ws subscribers that note when each message arrived.

Every child process writes to a log file in the run's work directory; when one dies or does
not get ready, the end of its log is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import websockets
from websockets.typing import Subprotocol

from bench.harness import bench_identity
from gateway.config import Settings
from sandbox.demo_webhooks import WebhookSecrets, register_gateway_webhooks
from sandbox.retailer import Dataset
from sandbox.sample_data import generate

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident set size of a process (Linux), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a process (Linux) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- child processes ---------------------------------------------------------------------------


class Child:
    """A Python child process whose output goes to a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self._args = args
        self._env = env
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *self._args,
                cwd=ROOT,
                env={**os.environ, **self._env},
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await asyncio.wait_for(self.proc.wait(), 5)


async def wait_ready(url: str, child: Child, timeout: float = 90.0) -> None:
    """Poll ``url`` until it answers below 500 (the child must stay alive meanwhile)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            child.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code < 500:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{child.name} not ready at {url} after {timeout:.0f} s:\n"
                                   f"{child.tail()}")  # fmt: skip
            await asyncio.sleep(0.1)


# --- the stack ---------------------------------------------------------------------------------


class Stack:
    """A fresh database, the simulators, and the gateway processes started on it.

    ``database``: "postgresql" (a fresh database on ``admin_url``'s server, dropped at the
    end) or "sqlite" (a file in the work directory). ``redis_url``: given, that Redis
    database is flushed before and after and every gateway uses it (cache and change bus).
    Every gateway accepts the JWTs of an identity provider of the stack's own;
    ``auth_headers`` are a caller's credentials (every role, ``pii:read``): send them on
    every request to ``/graphql`` and give them to ``subscribe``.
    """

    def __init__(
        self,
        label: str,
        *,
        seed: int = 42,
        skus: int = 500,
        stores: int = 12,
        database: str = "postgresql",
        admin_url: str = ADMIN_URL,
        redis_url: str | None = None,
    ) -> None:
        self.label = label
        self.seed, self.skus, self.stores = seed, skus, stores
        self._database = database
        self._admin_url = admin_url
        self.redis_url = redis_url
        # Only what the node file and the SKU picks need; the simulators stamp their own
        # copy with the time they start (node ids and counts do not depend on it).
        self.dataset: Dataset = generate(seed=seed, skus=skus, stores=stores)
        self.sim_ports = [free_port() for _ in range(4)]
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench-realtime-{label}-"))
        self.auth_env, self.auth_headers = bench_identity(self.workdir)
        self.database_url = ""
        self._db_name: str | None = None
        self._stack = AsyncExitStack()
        self.gateways: list[Child] = []

    # simulators' addresses, as the gateway's Settings names them
    @property
    def backends(self) -> Settings:
        erp, woo, square, oms = (f"http://127.0.0.1:{p}" for p in self.sim_ports)
        return Settings(
            erp_base_url=erp, woo_base_url=woo, square_base_url=square, oms_base_url=oms
        )

    async def __aenter__(self) -> Stack:
        try:
            await self._open()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _open(self) -> None:
        if self.redis_url:
            await _flush_redis(self.redis_url)
        if self._database == "postgresql":
            self._db_name = f"bench_rt_{secrets.token_hex(4)}"
            conn = await asyncpg.connect(self._admin_url)
            try:
                await conn.execute(f'CREATE DATABASE "{self._db_name}"')
            finally:
                await conn.close()
            base = self._admin_url.rsplit("/", 1)[0]
            self.database_url = f"{base}/{self._db_name}".replace(
                "postgresql://", "postgresql+asyncpg://"
            )
        else:
            self.database_url = f"sqlite+aiosqlite:///{self.workdir / 'gateway.db'}"
        (self.workdir / "nodes.json").write_text(json.dumps(self.dataset.nodes_config()))
        sims = Child(
            "simulators",
            ["-m", "sandbox.servers", "--seed", str(self.seed), "--skus", str(self.skus),
             "--stores", str(self.stores), "--ports", ",".join(map(str, self.sim_ports))],
            {},
            self.workdir / "simulators.log",
        )  # fmt: skip
        await sims.start()
        self._stack.push_async_callback(sims.stop)
        self.simulators = sims
        for port in self.sim_ports:
            await wait_ready(f"http://127.0.0.1:{port}/", sims)
        migrate = Child("migrate", ["-m", "gateway.cli", "migrate"], self.env(),
                        self.workdir / "migrate.log")  # fmt: skip
        await migrate.start()
        assert migrate.proc is not None
        if await asyncio.wait_for(migrate.proc.wait(), 120) != 0:
            raise RuntimeError(f"migration failed:\n{migrate.tail()}")

    def env(self, **extra: str) -> dict[str, str]:
        """A gateway's environment on this stack (Settings fields in upper case)."""
        backends = self.backends
        env = {
            "DATABASE_URL": self.database_url,
            "ERP_BASE_URL": backends.erp_base_url,
            "WOO_BASE_URL": backends.woo_base_url,
            "SQUARE_BASE_URL": backends.square_base_url,
            "OMS_BASE_URL": backends.oms_base_url,
            "NODES_FILE": str(self.workdir / "nodes.json"),
            "GRAPHIQL": "false",
            "MIGRATE_ON_START": "false",
            "REDIS_URL": self.redis_url or "",
            "PYTHONUNBUFFERED": "1",
            **self.auth_env,
        }
        return {**env, **extra}

    async def register_webhooks(self, gateway_base_url: str) -> WebhookSecrets:
        """The gateway's four webhook endpoints registered with the simulators, through
        their own APIs (sandbox.demo_webhooks); the secrets to configure the gateway with."""
        return await register_gateway_webhooks(self.backends, gateway_base_url)

    async def gateway(self, name: str, port: int, **env: str) -> Child:
        """A gateway process on ``port`` (uvicorn, one worker, no access log), ready."""
        args = ["-m", "uvicorn", "gateway.app:create_app", "--factory", "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
        child = Child(name, args, self.env(**env), self.workdir / f"{name}.log")
        await child.start()
        self._stack.push_async_callback(child.stop)
        self.gateways.append(child)
        await wait_ready(f"http://127.0.0.1:{port}/healthz", child)
        return child

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._stack.aclose()  # gateways first (last in), then the simulators
        finally:
            try:
                if self._db_name is not None:
                    conn = await asyncpg.connect(self._admin_url)
                    try:
                        await conn.execute(
                            f'DROP DATABASE IF EXISTS "{self._db_name}" WITH (FORCE)'
                        )
                    finally:
                        await conn.close()
                if self.redis_url:
                    await _flush_redis(self.redis_url)
            finally:
                if exc[0] is None:
                    shutil.rmtree(self.workdir, ignore_errors=True)
                else:
                    print(f"  (logs kept in {self.workdir})", file=sys.stderr)

    async def processed_webhooks(self) -> tuple[int, int]:
        """(events recorded, events processed) in the inbox."""
        if self._db_name is None:
            import sqlite3

            with sqlite3.connect(self.workdir / "gateway.db") as db:
                row = db.execute(
                    "SELECT count(*), count(processed_at) FROM webhook_event"
                ).fetchone()
            return int(row[0]), int(row[1])
        base = self._admin_url.rsplit("/", 1)[0]
        conn = await asyncpg.connect(f"{base}/{self._db_name}")
        try:
            row = await conn.fetchrow("SELECT count(*), count(processed_at) FROM webhook_event")
        finally:
            await conn.close()
        assert row is not None
        return int(row[0]), int(row[1])

    async def last_event_id(self) -> int:
        rows = await self.inbox_since(0, limit_last=True)
        return rows[-1][0] if rows else 0

    async def inbox_since(
        self, after_id: int, *, system: str = "POS", limit_last: bool = False
    ) -> list[tuple[int, datetime, datetime | None]]:
        """(id, received_at, processed_at) of ``system``'s events recorded after
        ``after_id``, oldest first (PostgreSQL only)."""
        assert self._db_name is not None, "PostgreSQL only"
        base = self._admin_url.rsplit("/", 1)[0]
        conn = await asyncpg.connect(f"{base}/{self._db_name}")
        try:
            query = (
                "SELECT id, received_at, processed_at FROM webhook_event "
                "WHERE system = $1 AND id > $2 ORDER BY id"
            )
            if limit_last:
                query = query.replace("ORDER BY id", "ORDER BY id DESC LIMIT 1")
            rows = await conn.fetch(query, system, after_id)
        finally:
            await conn.close()
        return [(int(r["id"]), r["received_at"], r["processed_at"]) for r in rows]


async def _flush_redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


# --- Square's till -----------------------------------------------------------------------------


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SquareTill:
    """Inventory changes made through Square's own API, as a POS would make them."""

    def __init__(self, base_url: str, token: str) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )

    async def variation(self, sku: str) -> str:
        found = await self._http.post(
            "/v2/catalog/search",
            json={
                "object_types": ["ITEM_VARIATION"],
                "query": {"set_query": {"attribute_name": "sku", "attribute_values": [sku]}},
            },
        )
        found.raise_for_status()
        return str(found.json()["objects"][0]["id"])

    async def adjust(
        self, variation: str, location: str, from_state: str, to_state: str, quantity: int
    ) -> None:
        change = {
            "type": "ADJUSTMENT",
            "adjustment": {
                "catalog_object_id": variation,
                "location_id": location,
                "from_state": from_state,
                "to_state": to_state,
                "quantity": str(quantity),
                "occurred_at": rfc3339(datetime.now(UTC)),
            },
        }
        answer = await self._http.post(
            "/v2/inventory/changes/batch-create",
            json={"idempotency_key": uuid.uuid4().hex, "changes": [change]},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"Square refused the change: {answer.text[:300]}")

    async def sell(self, variation: str, location: str) -> None:
        await self.adjust(variation, location, "IN_STOCK", "SOLD", 1)

    async def aclose(self) -> None:
        await self._http.aclose()


# --- a cheap HTTP/1.1 client -------------------------------------------------------------------


class KeepAlive:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol to POST and
    read a Content-Length answer: the load generator shares the 2 cores with what it
    measures, and this costs a fraction of httpx's CPU per request."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port, self._path = parts.hostname, parts.port, parts.path
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        head = f"POST {self._path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self._writer.write(head.encode() + body)
        answer = await self._reader.readuntil(b"\r\n\r\n")
        status = int(answer.split(b" ", 2)[1])
        length = 0
        for line in answer.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self._reader.readexactly(length)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


# --- graphql-transport-ws subscribers ----------------------------------------------------------


class Subscriber:
    """One graphql-transport-ws connection with one subscription; every ``next`` message is
    noted with the moment it arrived (``time.perf_counter``)."""

    def __init__(self, socket: Any, on_message: Callable[[Subscriber], None] | None) -> None:
        self.socket = socket
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.ended: str | None = None
        self._on_message = on_message
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                at = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await self.socket.send('{"type":"pong"}')
                elif kind == "next":
                    if message["payload"].get("errors"):
                        self.ended = json.dumps(message["payload"]["errors"])[:300]
                        break
                    self.received.append((at, message["payload"]["data"]))
                    self._arrived.set()
                    if self._on_message is not None:
                        self._on_message(self)
                elif kind in ("error", "complete"):
                    self.ended = json.dumps(message)[:300]
                    break
        except websockets.ConnectionClosed as closed:
            self.ended = f"closed: {closed}"
        finally:
            self.ended = self.ended or "closed"
            self._arrived.set()

    async def wait_for(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float, start: int = 0
    ) -> tuple[int, float, dict[str, Any]]:
        """The first message from index ``start`` on that ``wanted`` accepts: (index,
        arrival time, data)."""
        deadline = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.received):
                at, data = self.received[index]
                if wanted(data):
                    return index, at, data
                index += 1
            if self.ended is not None:
                raise RuntimeError(f"subscription ended: {self.ended}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no wanted message in time")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.socket.close(), 5)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


async def subscribe(
    ws_url: str,
    query: str,
    variables: dict[str, Any],
    *,
    on_message: Callable[[Subscriber], None] | None = None,
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
) -> Subscriber:
    """A subscription over graphql-transport-ws; ``headers`` (credentials, e.g. a Stack's
    ``auth_headers``) go as ``connection_init``'s payload."""
    socket = await websockets.connect(
        ws_url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        open_timeout=timeout,
        ping_interval=None,  # the benchmark's own traffic is enough; no keepalive noise
        compression=None,
    )
    try:
        init: dict[str, Any] = {"type": "connection_init"}
        if headers:
            init["payload"] = headers
        await socket.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"not acknowledged: {ack}")
        payload = {"query": query, "variables": variables}
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    except BaseException:
        await socket.close()
        raise
    return Subscriber(socket, on_message)


async def graphql(http: httpx.AsyncClient, url: str, query: str, **variables: Any) -> Any:
    answer = await http.post(url, json={"query": query, "variables": variables})
    body = answer.json()
    if body.get("errors"):
        raise RuntimeError(json.dumps(body["errors"])[:500])
    return body["data"]


async def wait_quiet(
    pid: int, *, below: float = 0.05, window: float = 0.5, timeout: float = 60.0
) -> None:
    """Wait until process ``pid`` uses less than ``below`` of a core over ``window``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(window)
        if (cpu_seconds(pid) - before) / window < below:
            return
