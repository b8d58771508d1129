"""Serve the four simulators on loopback ports, seeded from one dataset."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from sandbox.retailer import Dataset


@dataclass(frozen=True)
class SimulatorPorts:
    erp: int = 8101
    woocommerce: int = 8102
    square: int = 8103
    oms: int = 8104


def simulator_apps(
    dataset: Dataset, *, latency_ms: float = 0.0, error_rate: float = 0.0
) -> dict[str, Starlette]:
    """The four simulator ASGI apps keyed by backend name."""
    from sandbox import erpnext, shopify, square, woocommerce

    return {
        "erp": erpnext.create_app(dataset, latency_ms=latency_ms, error_rate=error_rate),
        # The retailer offers click and collect, so its shop has local pickup on.
        "woocommerce": woocommerce.create_app(
            dataset, latency_ms=latency_ms, error_rate=error_rate, local_pickup=True
        ),
        "square": square.create_app(dataset, latency_ms=latency_ms, error_rate=error_rate),
        "oms": shopify.create_app(dataset, latency_ms=latency_ms, error_rate=error_rate),
    }


async def serve_simulators(
    dataset: Dataset,
    ports: SimulatorPorts,
    *,
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    host: str = "127.0.0.1",
) -> None:
    """Serve the four simulators until cancelled."""
    import asyncio

    from sandbox.faulty_server import simulator_server

    apps = simulator_apps(dataset, latency_ms=latency_ms, error_rate=error_rate)
    servers = [
        simulator_server(app, host=host, port=port)
        for app, port in (
            (apps["erp"], ports.erp),
            (apps["woocommerce"], ports.woocommerce),
            (apps["square"], ports.square),
            (apps["oms"], ports.oms),
        )
    ]
    await asyncio.gather(*(s.serve() for s in servers))


def main(argv: list[str] | None = None) -> None:
    """``python -m sandbox.servers``: the simulators alone, for benchmarks and manual tests."""
    import argparse
    import asyncio
    from datetime import UTC, datetime

    from sandbox.sample_data import generate

    parser = argparse.ArgumentParser(prog="python -m sandbox.servers")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--stores", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--ports", default="8101,8102,8103,8104", help="erp,woocommerce,square,oms")
    args = parser.parse_args(argv)
    ports = [int(p) for p in args.ports.split(",")]
    if len(ports) not in (3, 4):
        # Three still works (the OMS keeps its default port) for scripts written before it.
        parser.error("--ports takes erp,woocommerce,square[,oms]")
    dataset = generate(
        seed=args.seed, skus=args.skus, stores=args.stores, base_time=datetime.now(UTC)
    )
    asyncio.run(
        serve_simulators(
            dataset,
            SimulatorPorts(*ports),
            latency_ms=args.latency_ms,
            error_rate=args.error_rate,
        )
    )


if __name__ == "__main__":
    main()
