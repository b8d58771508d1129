"""pgbench baseline: how many single-row UPDATE transactions per second the local PostgreSQL
commits, as the ceiling a reservation benchmark is compared against.

What is measured. Each transaction is ``BEGIN; UPDATE one row by primary key; END;`` on a
scratch table of ``rows`` counters (1,000 by default), the row picked at random, by
``clients`` connections for ``seconds``. That is exactly the database work a reservation
must do at the least: take one row lock, write one row, commit (one WAL flush, as
``synchronous_commit`` is on by default). Whatever the gateway adds on top (HTTP, GraphQL,
the ORM, reading before writing) shows up as the distance from this figure, so a gateway
reserving at N/s can be judged as a share of what the same server can commit at all.
Random rows over 1,000 keep lock contention low, as reservations spread over many SKUs are.

The table is created before and dropped after the run, so nothing of the project's schema
is touched. ``pgbench`` and ``psql`` are the ones shipped with Debian's postgresql package.

    .venv/bin/python bench/pgbench_baseline.py [--clients 16 --seconds 10]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

TABLE = "bench_pgbench_counter"
DEFAULT_ROWS = 1000
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCRIPT = f"""\\set id random(1, :rows)
BEGIN;
UPDATE {TABLE} SET n = n + 1 WHERE id = :id;
END;
"""
# pgbench 14+ says "without initial connection time"; 13 and older print two tps lines and
# "excluding connections establishing" is the one that leaves connection set-up out.
_TPS = re.compile(
    r"^tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)",
    re.MULTILINE,
)
_PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([\d.]+) ms", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)


@dataclass(frozen=True)
class PgServer:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    dbname: str = "test"
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> PgServer:
        """``postgresql[+driver]://user[:password]@host[:port]/dbname``, as DATABASE_URL."""
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres"):
            raise ValueError(f"not a PostgreSQL URL: {url!r}")
        return cls(
            host=parts.hostname or cls.host,
            port=parts.port or cls.port,
            user=unquote(parts.username) if parts.username else cls.user,
            dbname=unquote(parts.path.lstrip("/")) or cls.dbname,
            password=unquote(parts.password) if parts.password else None,
        )

    def env(self) -> dict[str, str]:
        """libpq's environment variables, read alike by psql and pgbench."""
        env = {
            **os.environ,
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.dbname,
        }
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


@dataclass(frozen=True)
class PgbenchResult:
    tps: float  # committed transactions/s, connection set-up excluded
    clients: int
    threads: int
    seconds: int
    rows: int
    transactions: int
    latency_avg_ms: float | None
    failed: int

    def __str__(self) -> str:
        latency = f"{self.latency_avg_ms:.3f} ms" if self.latency_avg_ms is not None else "n/a"
        return (
            f"pgbench single-row UPDATE: {self.tps:,.0f} tps "
            f"({self.clients} clients, {self.threads} threads, {self.seconds} s, "
            f"{self.rows} rows; {self.transactions:,} transactions, {self.failed} failed, "
            f"latency avg {latency})"
        )


def pgbench_single_row_update_tps(
    server: PgServer,
    clients: int,
    seconds: float,
    *,
    rows: int = DEFAULT_ROWS,
    protocol: str = "simple",
) -> PgbenchResult:
    """Create the scratch table, run pgbench on it, drop it; the parsed result."""
    if clients < 1 or seconds <= 0 or rows < 1:
        raise ValueError("clients, seconds and rows must be positive")
    # pgbench's -T takes whole seconds; never run shorter than asked.
    whole_seconds = max(1, math.ceil(seconds))
    threads = min(clients, os.cpu_count() or 1)
    env = server.env()
    _psql(
        env,
        f"DROP TABLE IF EXISTS {TABLE}",
        f"CREATE TABLE {TABLE} (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)",
        f"INSERT INTO {TABLE} (id) SELECT generate_series(1, {rows})",
        # Start from a settled table (visibility map, statistics), as a long-lived one is.
        f"VACUUM ANALYZE {TABLE}",
    )
    try:
        with tempfile.TemporaryDirectory() as scratch:
            script = Path(scratch) / "single_row_update.sql"
            script.write_text(SCRIPT)
            command = [
                _binary("pgbench"),
                "-n",  # no vacuum of pgbench's own tables: they do not exist here
                "-c",
                str(clients),
                "-j",
                str(threads),
                "-T",
                str(whole_seconds),
                "-M",
                protocol,
                "-D",
                f"rows={rows}",
                "-f",
                str(script),
            ]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr.strip()}")
        return _parse(done.stdout, clients, threads, whole_seconds, rows)
    finally:
        _psql(env, f"DROP TABLE IF EXISTS {TABLE}")


def _parse(output: str, clients: int, threads: int, seconds: int, rows: int) -> PgbenchResult:
    tps = _TPS.search(output)
    if tps is None:
        raise RuntimeError(f"no tps line in pgbench output:\n{output}")
    processed = _PROCESSED.search(output)
    latency = _LATENCY.search(output)
    failed = _FAILED.search(output)
    return PgbenchResult(
        tps=float(tps.group(1)),
        clients=clients,
        threads=threads,
        seconds=seconds,
        rows=rows,
        transactions=int(processed.group(1)) if processed else 0,
        latency_avg_ms=float(latency.group(1)) if latency else None,
        failed=int(failed.group(1)) if failed else 0,
    )


def _psql(env: dict[str, str], *statements: str) -> None:
    """Each statement in its own -c, so each commits alone (VACUUM refuses a transaction)."""
    command = [_binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    for statement in statements:
        command += ["-c", statement]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")


def _binary(name: str) -> str:
    """On PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise FileNotFoundError(f"{name} not found on PATH or in /usr/lib/postgresql/*/bin")
    return candidates[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--protocol", choices=("simple", "extended", "prepared"), default="simple")
    parser.add_argument(
        "--database-url", default=os.environ.get("PGBENCH_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()
    result = pgbench_single_row_update_tps(
        PgServer.from_url(args.database_url),
        args.clients,
        args.seconds,
        rows=args.rows,
        protocol=args.protocol,
    )
    print(result)


if __name__ == "__main__":
    main()
