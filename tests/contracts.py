"""The example payloads in ../shared/contracts/, which double as test fixtures."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parents[2] / "shared" / "contracts"


@cache
def _text(backend: str, name: str) -> str:
    return (CONTRACTS / backend / f"{name}.json").read_text()


def load_contract(backend: str, name: str) -> dict[str, Any]:
    """A fresh copy of one contract file, e.g. ``load_contract("erp", "bins.list")``."""
    return copy.deepcopy(json.loads(_text(backend, name)))
