"""Does GraphiQL render in a browser that can reach nothing but the gateway?

Starts the gateway with GraphiQL on (its backends need not run: drawing the page asks none of
them) on a free loopback port, opens ``/graphql`` in headless Chromium whose host resolver
fails every name (``--host-resolver-rules``: only 127.0.0.1 is reachable), lets the page run
for ten seconds of virtual time, then reads the DOM React drew: GraphiQL's query editor, its
run button and the explorer plugin's button must be there and "Loading..." gone. With a CDN
page the scripts never arrive and the DOM stays at "Loading...".

    .venv/bin/python scripts/graphiql_offline_check.py [--screenshot graphiql.png]

Exit status: 0 rendered, 1 did not (the DOM's text is printed), 2 no Chromium. Chromium is
Debian's (``apt-get install chromium``); CI does not install it, so the test that runs this
script (tests/e2e/test_graphiql_offline.py) is skipped there. The page's schema fetch is
refused (UNAUTHENTICATED: the request carries no credentials), so the documentation pane
stays empty: that is the gateway's door working, not the page failing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from gateway.app import create_app
from gateway.config import Settings

# What only a rendered GraphiQL has: the page's own HTML holds none of these.
RENDERED = {
    "query editor": re.compile(r'class="[^"]*\bgraphiql-query-editor\b'),
    "run button": re.compile(r'class="[^"]*\bgraphiql-execute-button\b'),
    "explorer plugin": re.compile(r'aria-label="Show GraphiQL Explorer"'),
}
CHROMIUM_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gateway(workdir: Path) -> Iterator[str]:
    """The gateway on a loopback port, GraphiQL on, an embedded database of its own."""
    settings = Settings(
        graphiql=True,
        database_url=f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
        redis_url=None,
        run_workers=False,  # nothing to reconcile or deliver: the backends are not there
        _env_file=None,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def chromium(binary: str, profile: Path, url: str, *action: str) -> str:
    command = [
        binary,
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespaces for the sandbox
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        # No network: every host name fails to resolve, except the gateway's address.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,800",
        "--virtual-time-budget=10000",
        *action,
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CHROMIUM_SECONDS, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def check(binary: str, screenshot: Path | None) -> list[str]:
    """What is missing from the rendered page (nothing when GraphiQL rendered)."""
    with tempfile.TemporaryDirectory(prefix="graphiql-offline-") as scratch:
        workdir = Path(scratch)
        with gateway(workdir) as base:
            url = f"{base}/graphql"
            dom = chromium(binary, workdir / "profile", url, "--dump-dom")
            if screenshot is not None:
                chromium(binary, workdir / "profile", url, f"--screenshot={screenshot.resolve()}")
    missing = [name for name, marker in RENDERED.items() if not marker.search(dom)]
    if ">Loading...<" in dom:
        missing.append('"Loading..." replaced')
    if missing:
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom)).strip()
        print(f"GraphiQL did not render; the page shows: {text[:600]!r}", file=sys.stderr)
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, help="also save a 1280x800 PNG here")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: apt-get install chromium", file=sys.stderr)
        return 2
    missing = check(args.chromium, args.screenshot)
    if missing:
        print("missing: " + ", ".join(missing), file=sys.stderr)
        return 1
    print("GraphiQL rendered offline: " + ", ".join(RENDERED))
    if args.screenshot is not None:
        print(f"screenshot: {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
