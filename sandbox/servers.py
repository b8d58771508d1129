"""Serve the three simulators on loopback ports, seeded from one dataset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.sample_data import Dataset


@dataclass(frozen=True)
class SimulatorPorts:
    erp: int = 8101
    woocommerce: int = 8102
    square: int = 8103


def simulator_apps(
    dataset: Dataset, *, latency_ms: float = 0.0, error_rate: float = 0.0
) -> dict[str, Any]:
    """The three simulator ASGI apps keyed by backend name."""
    from sandbox import erpnext, square, woocommerce

    knobs = {"latency_ms": latency_ms, "error_rate": error_rate}
    return {
        "erp": erpnext.create_app(dataset, **knobs),
        "woocommerce": woocommerce.create_app(dataset, **knobs),
        "square": square.create_app(dataset, **knobs),
    }
