"""``commerce-gateway``: demo, serve, migrate, worker, reconcile, check-ledger, keys,
export-schema."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("commerce-gateway")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run the long-lived commands (worker, reconcile, check-ledger) on uvloop where it is
    installed, as ``serve`` does under uvicorn: the scheduled reconcile and the one from the
    command line then cost the same (uvloop took a fifth off a full reconcile's time)."""
    try:
        import uvloop
    except ImportError:  # not on Windows; the standard loop does the same, slower
        return asyncio.run(main)
    return uvloop.run(main)


def _export_schema(output: str | None) -> int:
    from resolvers.schema import build_schema

    text = build_schema().as_str() + "\n"
    if output:
        Path(output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _serve(host: str | None, port: int | None) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.config import Settings

    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )
    return 0


def _migrate() -> int:
    from gateway.config import Settings
    from gateway.persistence.database import Database, create_engine
    from gateway.persistence.migrate import upgrade

    async def run() -> None:
        db = Database(create_engine(Settings().database_url))
        try:
            await upgrade(db)
        finally:
            await db.close()

    asyncio.run(run())
    print("database is at the newest schema")
    return 0


def _worker() -> int:
    """The background loops alone (outbox delivery, sweeper, web-order import), for
    deployments that keep them out of the request-serving processes."""
    from gateway.worker import run_worker

    try:
        _run_loop(run_worker())
    except KeyboardInterrupt:
        return 0
    return 0


def _reconcile(skus: list[str] | None) -> int:
    from gateway.truth_cli import reconcile

    return _run_loop(reconcile(skus))


def _check_ledger() -> int:
    from gateway.truth_cli import check_ledger

    return _run_loop(check_ledger())


def _keys(args: argparse.Namespace) -> int:
    from rich.console import Console

    from gateway import keys_cli

    console = Console(stderr=True)
    if args.keys_command == "create":
        return asyncio.run(keys_cli.create(args.name, args.role, args.location, console))
    if args.keys_command == "revoke":
        return asyncio.run(keys_cli.revoke(args.name, console))
    return asyncio.run(keys_cli.listed(Console()))


def _demo(args: argparse.Namespace) -> int:
    # The demo is the one place that wires the simulators in; gateway code never does.
    from sandbox.demo import run_demo
    from sandbox.servers import SimulatorPorts

    ports = SimulatorPorts(args.erp_port, args.woocommerce_port, args.square_port, args.oms_port)
    try:
        return asyncio.run(
            run_demo(
                host=args.host,
                port=args.port,
                ports=ports,
                seed=args.seed,
                skus=args.skus,
                stores=args.stores,
                latency_ms=args.latency_ms,
                check=args.check,
                breaks=args.break_plans,
            )
        )
    except KeyboardInterrupt:
        return 0


def _break_plan(text: str) -> str:
    from sandbox.faults import parse_break

    try:
        parse_break(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="commerce-gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", help="simulated ERPNext, WooCommerce, Square and Shopify + the gateway"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--erp-port", type=int, default=8101)
    demo.add_argument("--woocommerce-port", type=int, default=8102)
    demo.add_argument("--square-port", type=int, default=8103)
    demo.add_argument("--oms-port", type=int, default=8104)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--skus", type=int, default=500)
    demo.add_argument("--stores", type=int, default=12)
    demo.add_argument("--latency-ms", type=float, default=0.0)
    demo.add_argument(
        "--break",
        dest="break_plans",
        action="append",
        type=_break_plan,
        default=[],
        metavar="BACKEND=PLAN",
        help="break a simulated backend once the demo is up, to see degraded but honest "
        "answers: square=hang, erpnext=refused:60, woocommerce=errors:0.3, shopify=slow:2000, "
        "erpnext=spikes:2000, "
        "square=garbage:0.5, erpnext=outage:120, square=429:10; join plans with +",
    )
    demo.add_argument(
        "--check",
        action="store_true",
        help="answer the example query and run an order through pickup and return, then exit",
    )

    serve = sub.add_parser("serve", help="run the gateway against the configured backends")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)

    sub.add_parser("migrate", help="bring DATABASE_URL to the newest schema")
    sub.add_parser("worker", help="deliver the outbox and sweep holds, without serving")

    reconcile = sub.add_parser(
        "reconcile", help="compare every copy with the truth now; print what was found"
    )
    reconcile.add_argument("--skus", nargs="+", help="only these SKUs")

    sub.add_parser(
        "check-ledger",
        help="find holds and orders whose source writes disagree with the sources; "
        "open LEDGER_INCONSISTENCY discrepancies with the compensations they need",
    )

    keys = sub.add_parser("keys", help="API keys for the services that call the gateway")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="make a key; it is printed once, never again")
    create.add_argument(
        "--role",
        required=True,
        type=str.upper,
        choices=["STOREFRONT", "STORE_ASSOCIATE", "SUPPORT", "OPS", "ADMIN"],
        help="what its holder may read and do",
    )
    create.add_argument("--name", required=True, help="who holds it, e.g. web-eu (unique)")
    create.add_argument("--location", help="the store of a STORE_ASSOCIATE key")
    revoke = keys_sub.add_parser("revoke", help="stop a key working (within 10 s everywhere)")
    revoke.add_argument("name", help="the key's name or id")
    keys_sub.add_parser("list", help="every key: name, id, role, store, created, revoked")

    export = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", "-o")

    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command == "serve":
        return _serve(args.host, args.port)
    if args.command == "migrate":
        return _migrate()
    if args.command == "worker":
        return _worker()
    if args.command == "reconcile":
        return _reconcile(args.skus)
    if args.command == "check-ledger":
        return _check_ledger()
    if args.command == "keys":
        return _keys(args)
    return _export_schema(args.output)


if __name__ == "__main__":
    raise SystemExit(main())
