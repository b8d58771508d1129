"""Full-reconcile benchmark (one truth for stock) on the 50,000-SKU x 200-store retailer.

The four simulators run in a process of their own; the reconcile runs in this process, as
``commerce-gateway reconcile`` does, over a fresh database. Printed: the time, the pages
read from each backend, the discrepancies found by kind, and this process's peak memory
(resident set) above what it held before the run, for a first run (everything new: the
seeded drift is opened and pushed) and a second one (the pushes delivered, nothing left).
Target: a full reconcile in at most 60 s with memory bounded.

    .venv/bin/python bench/reconcile.py [--skus 50000 --stores 200 --concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import free_port, process
from gateway.config import Settings, TruthSettings
from gateway.worker import opened
from sandbox.sample_data import generate


def peak_rss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulators(args: argparse.Namespace, ports: list[int]):
    return process(
        ["-m", "sandbox.servers", "--skus", str(args.skus), "--stores", str(args.stores),
         "--ports", ",".join(map(str, ports))],
        ports=ports,
    )  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    dataset = generate(skus=args.skus, stores=args.stores)
    workdir = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    nodes = workdir / "nodes.json"
    nodes.write_text(json.dumps(dataset.nodes_config()))
    ports = [free_port() for _ in range(4)]
    print(
        f"Sample retailer: {len(dataset.sellable_skus)} SKUs ({len(dataset.web_products)} "
        f"WooCommerce products and variations), {len(dataset.stores)} stores, "
        f"{sum(s.ship_from_store for s in dataset.stores)} of them shipping online; "
        f"seeded drift: {len(dataset.drift_skus)} SKUs"
    )
    database = args.database_url or f"sqlite+aiosqlite:///{workdir / 'gateway.db'}"
    with simulators(args, ports):
        settings = Settings(
            _env_file=None,
            erp_base_url=f"http://127.0.0.1:{ports[0]}",
            woo_base_url=f"http://127.0.0.1:{ports[1]}",
            square_base_url=f"http://127.0.0.1:{ports[2]}",
            oms_base_url=f"http://127.0.0.1:{ports[3]}",
            nodes_file=nodes,
            redis_url=None,
            database_url=database,
            truth=TruthSettings(concurrency=args.concurrency, reconcile_seconds=0),
        )
        async with opened(settings) as (services, _):
            await services.availability.all_locations()  # the node directory, as in serving
            for label in ("first run (drift opened and pushed)", "second run (nothing left)"):
                before = peak_rss_mb()
                started, cpu = time.perf_counter(), time.process_time()
                report = await services.reconciler.run()
                seconds = time.perf_counter() - started
                cpu = time.process_time() - cpu
                peak = peak_rss_mb()
                found = dict(sorted((k.value, n) for k, n in report.findings.items()))
                print(f"\n{label}")
                print(f"  {report.skus} SKUs in {report.pages} pages of {settings.truth.page_size} "
                      f"({settings.truth.concurrency} at a time): {seconds:.1f} s, "
                      f"{report.skus / seconds:,.0f} SKUs/s")  # fmt: skip
                print(f"  found {sum(found.values())}: {found}")
                print(f"  opened {report.opened}, closed {report.auto_resolved}, "
                      f"storefront listings owed the truth {report.pushed}, "
                      f"changes seen since the last read {report.changes_seen}")  # fmt: skip
                print(f"  this process's CPU: {cpu:.1f} s ({cpu / seconds:.0%} of the wall time; "
                      "the simulators run in another process)")  # fmt: skip
                print(f"  peak RSS {peak:.0f} MB ({peak - before:+.0f} MB during the run)")
                target = "MET" if seconds <= 60 else "NOT MET"
                print(f"  target: a full reconcile in at most 60 s: {target}")
                delivered = time.perf_counter()
                await services.worker.drain(max_rounds=10_000)
                print(f"  outbox delivered in {time.perf_counter() - delivered:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4, help="TRUTH__CONCURRENCY")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
