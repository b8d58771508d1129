"""The end-to-end fixtures: the generated retailer (one per module) and the gateway over the
four simulators on it. A module that needs another one overrides the fixture for itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.sample_data import generate
from tests.e2e.support import Stack, gateway


@pytest.fixture(scope="module")
def dataset():
    return generate(seed=42, skus=500, stores=12)


@pytest.fixture
async def stack(dataset, tmp_path) -> AsyncIterator[Stack]:
    async with gateway(dataset, tmp_path) as opened:
        yield opened
