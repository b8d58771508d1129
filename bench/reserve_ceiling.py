"""The ceiling for ``reserve`` on this machine: the same mutation through the same stack
(uvicorn, Starlette, the compiled path as ``bench/reservations.py --compile all`` runs it;
two processes; the same load generator), with the service answering a fixed reservation:
no cache, no database. Whatever a real reservation costs comes on top of this, so it bounds
the ratio bench/reservations.py can ever show against pgbench here.

    .venv/bin/python bench/reserve_ceiling.py [--clients 32 --seconds 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, bench_identity, free_port, process
from bench.pgbench_baseline import PgServer, pgbench_single_row_update_tps
from bench.reservations import drive_reservations


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    baseline = pgbench_single_row_update_tps(PgServer.from_url(args.admin_url), 16, args.seconds)
    print(baseline)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ceiling-"))
    auth_env, auth = bench_identity(workdir)  # the gateways' env; every request's credentials
    env = {
        **auth_env,
        "PYTHONPATH": f"{ROOT / 'bench'}{os.pathsep}{ROOT}",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/unused.db",
        "PERSISTED__COMPILE": "all",
        "RUN_WORKERS": "false",
        "WEB_ORDER_SYNC_SECONDS": "0",
        "GRAPHIQL": "false",
    }
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            stack.enter_context(
                process(
                    [
                        "-m", "uvicorn", "stub_reserve_app:app", "--factory",
                        "--port", str(port), "--log-level", "warning", "--no-access-log",
                    ],
                    env=env,
                    ports=[port],
                )
            )  # fmt: skip
        urls = [f"http://127.0.0.1:{port}/graphql" for port in ports]
        result = await drive_reservations(
            urls,
            {("A", "WH", "ONLINE"): 1},
            clients=args.clients,
            seconds=args.seconds,
            warmup=2,
            headers=auth,
        )
    rate = result["requests"] / result["seconds"]
    print(
        f"reserve with no service work: {rate:,.0f} req/s (2 processes, {args.clients} clients; "
        f"p50 {result['p50_ms']:.1f} ms; outcomes {dict(result['outcomes'])})"
    )
    print(f"ceiling ratio against pgbench: {rate / baseline.tps:.3f}")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
