"""The long-running commands, run as real processes, stop cleanly when their container is
stopped (SIGTERM): the worker lets its rounds finish or leaves what it claimed to its lease,
closes what it opened, says so in one line and exits 0; so does ``serve``."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gateway.domain.outbox import UpdateWebOrder
from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade
from gateway.persistence.outbox import SqlOutbox
from tests.live_server import free_port

COMMAND = str(Path(sys.executable).with_name("commerce-gateway"))


def closed_port() -> str:
    return f"http://127.0.0.1:{free_port()}"


def environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    nobody = closed_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/gateway.db",
        "ERP_BASE_URL": nobody,
        "WOO_BASE_URL": nobody,
        "SQUARE_BASE_URL": nobody,
        "OMS_BASE_URL": nobody,
        # Only the outbox and the webhook inbox run; no periodic job calls a backend.
        "WEB_ORDER_SYNC_SECONDS": "0",
        "DELTA_POLL_SECONDS": "0",
        "ORDER_WATCH_SECONDS": "0",
        "TRUTH__RECONCILE_SECONDS": "0",
        **overrides,
    }
    env.pop("REDIS_URL", None)
    return env


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.05)


def start(args: list[str], tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "process.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [COMMAND, *args], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return process, log


def stopped(process: subprocess.Popen, seconds: float) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"still running {seconds} s after SIGTERM") from None


def test_an_idle_worker_exits_0_on_sigterm_and_says_so(tmp_path):
    heartbeat = tmp_path / "alive"
    worker, log = start(
        ["worker", "--heartbeat-file", str(heartbeat)], tmp_path, environment(tmp_path)
    )
    try:
        wait_for(lambda: "worker running" in log.read_text(), 60, "the worker started")
        wait_for(heartbeat.exists, 5, "the worker's heartbeat file appeared")
        assert stopped(worker, 5) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    said = log.read_text()
    assert "worker stopped on SIGTERM; every claimed write and event was finished" in said
    assert "Traceback" not in said


def test_a_write_cut_off_by_sigterm_while_its_backend_hangs_stays_owed(tmp_path):
    # Given a storefront that takes connections and never answers,
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)  # connections queue in the backlog; nothing ever reads them
    storefront = f"http://127.0.0.1:{hung.getsockname()[1]}"
    env = environment(tmp_path, WOO_BASE_URL=storefront, HTTP_READ_TIMEOUT_SECONDS="60")
    # and a note owed to a web order.
    asyncio.run(owe_a_web_order_note(env["DATABASE_URL"]))
    worker, log = start(["worker", "--stop-grace-seconds", "1"], tmp_path, env)
    try:
        wait_for(lambda: outbox_row(tmp_path)[0] == "IN_FLIGHT", 60, "the worker claimed it")
        # When the worker is stopped while the storefront still has not answered
        assert stopped(worker, 5) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        hung.close()
    # Then the write is still owed, leased to nobody alive: when the lease runs out the next
    # worker sends it again (the storefront recognises it by its reference).
    status, attempts, lease_until = outbox_row(tmp_path)
    assert (status, attempts) == ("IN_FLIGHT", 1) and lease_until is not None
    said = log.read_text()
    assert "worker stopped on SIGTERM; outbox cut off after 1 s" in said
    assert "taken again when its lease runs out" in said
    assert "webhooks cut off" not in said  # the inbox had nothing in hand and stopped at once


async def owe_a_web_order_note(url: str) -> None:
    db = Database(create_engine(url))
    try:
        await upgrade(db)
        note = UpdateWebOrder(
            ordering_key="web_4711",
            reference="web_4711:ready",
            web_order_id=4711,
            status=None,
            note="Your order is ready for pickup",
        )
        async with db.transaction() as conn:
            await SqlOutbox(conn).add([note], datetime.now(UTC))
    finally:
        await db.close()


def outbox_row(tmp_path: Path) -> tuple[str, int, str | None]:
    with sqlite3.connect(tmp_path / "gateway.db") as conn:
        row = conn.execute("SELECT status, attempts, lease_until FROM outbox").fetchone()
    return row[0], row[1], row[2]


def test_serve_exits_0_on_sigterm(tmp_path):
    port = free_port()
    server, log = start(
        ["serve", "--port", str(port), "--sandbox"],
        tmp_path,
        environment(tmp_path, RUN_WORKERS="false"),
    )

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, 60, "the gateway answered /healthz")
        assert stopped(server, 10) == 0
    finally:
        if server.poll() is None:
            server.kill()
    assert "Traceback" not in log.read_text()


def test_serve_will_not_start_on_the_sandbox_credentials_unless_told_it_is_a_sandbox(tmp_path):
    refused = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(free_port())],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "ERP_API_SECRET" in refused.stderr and "--sandbox" in refused.stderr
