"""``commerce-gateway``: demo, simulators, serve, migrate, worker, reconcile, check-ledger,
keys, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from gateway.config import Settings

T = TypeVar("T")

# What the production image leaves out (Dockerfile): the demo and the simulators need it.
NO_SANDBOX = (
    "commerce-gateway {command} needs the simulators (the sandbox package), which this "
    "installation leaves out, as the production image does: run it from a source checkout "
    "(pip install -e .) or from the image's demo target\n"
)


class _DefaultsShown(argparse.HelpFormatter):
    """Every option's help ends with its default, unless it has none worth saying: None
    (the help says what then), False for a flag, an empty list."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or default is None
            or default is False
            or default == []
            or default is argparse.SUPPRESS
        ):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """The parser of every command and subcommand (add_subparsers makes its own kind)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _DefaultsShown)
        super().__init__(*args, **kwargs)


def _sandbox_missing(error: ModuleNotFoundError) -> bool:
    return (error.name or "").partition(".")[0] == "sandbox"


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


def _exit_zero_on_sigterm() -> None:
    """uvicorn stops gracefully on SIGTERM, then raises the signal again for the handler it
    found; with this one the process exits 0, as a stop that was asked for (not 143, killed)."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


async def _active_keys(settings: Settings) -> int:
    """API keys not revoked (the database brought to the newest schema first)."""
    from gateway.worker import opened

    async with opened(settings) as (services, _):
        return sum(1 for key in await services.keys.listed() if key.revoked_at is None)


def _serve(host: str | None, port: int | None, sandbox: bool) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.startup_checks import refusals

    settings = Settings()
    if sandbox:
        settings = settings.model_copy(update={"sandbox": True})
    keys = 0 if settings.sandbox else asyncio.run(_active_keys(settings))
    problems = refusals(settings, active_keys=keys)
    for problem in problems:
        print(f"commerce-gateway serve: not starting: {problem}", file=sys.stderr)
    if problems:
        return 2
    _exit_zero_on_sigterm()
    try:
        uvicorn.run(
            create_app(settings),
            host=host or settings.host,
            port=port or settings.port,
            # Its loggers go to the one handler _configure_logging set, at LOG_LEVEL; the
            # gateway writes its own access line (request id, principal, duration).
            log_config=None,
            log_level=None,
            access_log=False,
        )
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has shut down; no traceback
        return 0
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


def _worker(stop_grace_seconds: float, heartbeat_file: Path | None) -> int:
    """The background loops alone (outbox delivery, sweeper, web-order import), for
    deployments that keep them out of the request-serving processes."""
    from gateway.worker import run_worker

    try:
        _run_loop(run_worker(stop_grace_seconds=stop_grace_seconds, heartbeat_file=heartbeat_file))
    except KeyboardInterrupt:  # Windows: no loop signal handlers (gateway.worker)
        return 0
    return 0


def _reconcile(skus: list[str] | None) -> int:
    from gateway.truth_cli import reconcile

    return _run_loop(reconcile(skus))


def _check_ledger() -> int:
    from gateway.truth_cli import check_ledger

    return _run_loop(check_ledger())


def _report(args: argparse.Namespace) -> int:
    from gateway.report_cli import weekly

    return _run_loop(weekly(args.location, args.week, args.output))


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
    try:
        from sandbox.demo import run_demo
        from sandbox.servers import SimulatorPorts
    except ModuleNotFoundError as error:
        if not _sandbox_missing(error):
            raise
        sys.stderr.write(NO_SANDBOX.format(command="demo"))
        return 2

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


def _simulators(args: argparse.Namespace) -> int:
    try:
        from sandbox.servers import SimulatorPorts, run_simulators
    except ModuleNotFoundError as error:
        if not _sandbox_missing(error):
            raise
        sys.stderr.write(NO_SANDBOX.format(command="simulators"))
        return 2
    ports = SimulatorPorts(args.erp_port, args.woocommerce_port, args.square_port, args.oms_port)
    _exit_zero_on_sigterm()
    try:
        asyncio.run(
            run_simulators(
                host=args.host,
                ports=ports,
                seed=args.seed,
                skus=args.skus,
                stores=args.stores,
                latency_ms=args.latency_ms,
                nodes_file=args.nodes_file,
            )
        )
    except KeyboardInterrupt:
        return 0
    return 0


def _break_plan(text: str) -> str:
    try:
        from sandbox.faults import parse_break
    except ModuleNotFoundError as error:
        if not _sandbox_missing(error):
            raise
        return text  # the demo itself says the simulators are missing

    try:
        parse_break(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _simulator_options(parser: argparse.ArgumentParser) -> None:
    """The simulated backends' ports and sample retailer (demo, simulators)."""
    parser.add_argument("--erp-port", type=int, default=8101, help="simulated ERPNext's port")
    parser.add_argument(
        "--woocommerce-port", type=int, default=8102, help="simulated WooCommerce's port"
    )
    parser.add_argument("--square-port", type=int, default=8103, help="simulated Square's port")
    parser.add_argument(
        "--oms-port", type=int, default=8104, help="simulated Shopify (the OMS)'s port"
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="sample retailer's random seed (same seed, same data)"
    )
    parser.add_argument("--skus", type=int, default=500, help="how many SKUs the retailer sells")
    parser.add_argument("--stores", type=int, default=12, help="how many stores it has")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="delay every simulated backend answer by this many milliseconds",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="commerce-gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", help="simulated ERPNext, WooCommerce, Square and Shopify + the gateway"
    )
    demo.add_argument("--host", default="127.0.0.1", help="interface the gateway listens on")
    demo.add_argument("--port", type=int, default=8000, help="the gateway's port")
    _simulator_options(demo)
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

    simulators = sub.add_parser(
        "simulators",
        help="the four simulated backends alone, seeded with the sample retailer, until stopped "
        "(compose.yaml's demo profile; the gateway's defaults point at their ports)",
    )
    simulators.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 in a container)"
    )
    _simulator_options(simulators)
    simulators.add_argument(
        "--nodes-file",
        type=Path,
        metavar="PATH",
        help="also write the gateway's node file for this retailer here (the gateway's "
        "NODES_FILE); default: none written",
    )

    serve = sub.add_parser("serve", help="run the gateway against the configured backends")
    serve.add_argument(
        "--host", help="interface to listen on; default: the HOST setting (127.0.0.1)"
    )
    serve.add_argument("--port", type=int, help="port; default: the PORT setting (8000)")
    serve.add_argument(
        "--sandbox",
        action="store_true",
        help="a gateway over the simulators: start on the built-in sandbox credentials and "
        "with no API key or identity provider (SANDBOX=true); never in production",
    )

    sub.add_parser("migrate", help="bring DATABASE_URL to the newest schema")
    worker = sub.add_parser(
        "worker",
        help="deliver the outbox, work the webhook inbox and run the periodic jobs, without "
        "serving; SIGTERM or SIGINT stops it cleanly",
    )
    worker.add_argument(
        "--stop-grace-seconds",
        type=float,
        default=8.0,
        metavar="SECONDS",
        help="on SIGTERM, how long the outbox and webhook rounds in hand may take to finish; "
        "what is cut off then is taken again when its lease runs out",
    )
    worker.add_argument(
        "--heartbeat-file",
        type=Path,
        metavar="PATH",
        help="touch this file every 5 s while running, for a container health check; default: none",
    )

    reconcile = sub.add_parser(
        "reconcile", help="compare every copy with the truth now; print what was found"
    )
    reconcile.add_argument("--skus", nargs="+", help="only these SKUs; default: every SKU")

    sub.add_parser(
        "check-ledger",
        help="find holds and orders whose source writes disagree with the sources; "
        "open LEDGER_INCONSISTENCY discrepancies with the compensations they need",
    )

    report = sub.add_parser(
        "report",
        help="a store's weekly page (KPIs, reorder suggestions, open discrepancies) as HTML",
    )
    report.add_argument("--location", required=True, help="the node's id, e.g. ST-BERLIN-MITTE")
    report.add_argument("--week", required=True, help="an ISO week, e.g. 2026-W49")
    report.add_argument(
        "--output", type=Path, help="where to write it; default report-<location>-<week>.html"
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
    create.add_argument(
        "--location", help="the store of a STORE_ASSOCIATE key (required for that role)"
    )
    revoke = keys_sub.add_parser("revoke", help="stop a key working (within 10 s everywhere)")
    revoke.add_argument("name", help="the key's name or id")
    keys_sub.add_parser("list", help="every key: name, id, role, store, created, revoked")

    export = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument(
        "--output", "-o", metavar="PATH", help="write it to this file; default: standard output"
    )
    return parser


# The processes that run until stopped log through gateway.observability.logs; the
# one-off commands print what they did, and Python's default shows their warnings.
_LOGGED = frozenset({"serve", "worker", "demo", "simulators"})
# Of those, the ones operators run: JSON lines at INFO by default.
_SERVING = frozenset({"serve", "worker"})


def _configure_logging(command: str) -> None:
    """Every command's logging, set once here before anything logs
    (gateway.observability.logs): LOG_FORMAT and LOG_LEVEL, else the command's default."""
    from gateway.config import Settings
    from gateway.observability.logs import configure_logging, default_format

    settings = Settings()
    serving = command in _SERVING
    configure_logging(
        settings.log_format or default_format(serving),
        settings.log_level or ("INFO" if serving else "WARNING"),
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in _LOGGED:
        _configure_logging(args.command)
    if args.command == "demo":
        return _demo(args)
    if args.command == "simulators":
        return _simulators(args)
    if args.command == "serve":
        return _serve(args.host, args.port, args.sandbox)
    if args.command == "migrate":
        return _migrate()
    if args.command == "worker":
        return _worker(args.stop_grace_seconds, args.heartbeat_file)
    if args.command == "reconcile":
        return _reconcile(args.skus)
    if args.command == "check-ledger":
        return _check_ledger()
    if args.command == "keys":
        return _keys(args)
    if args.command == "report":
        return _report(args)
    return _export_schema(args.output)


if __name__ == "__main__":
    raise SystemExit(main())
