import pytest

from gateway.app import Backends, create_app
from gateway.config import Settings
from tests.asgi import GraphQLClient
from tests.fakes import FakeOms, small_retailer


@pytest.fixture
def retailer():
    return small_retailer()


@pytest.fixture
def oms():
    return FakeOms()


@pytest.fixture
def run_workers():
    """Whether the app runs its outbox worker and sweeper in the background. A module
    that wants to decide when deliveries happen overrides this with False and drains the
    worker itself (``gql.app.state.services.worker.drain()``)."""
    return True


@pytest.fixture
def settings_overrides():
    """More settings for the app under test; a module overrides this."""
    return {}


@pytest.fixture
async def gql(retailer, oms, run_workers, settings_overrides, tmp_path):
    erp, web, pos = retailer
    nodes = tmp_path / "nodes.json"
    nodes.write_text(
        '{"nodes": ['
        '{"source": "ERP", "ref": "Central - NTR", "id": "WH-CENTRAL", "lat": 51.31, "lng": 9.48},'
        '{"source": "ERP", "ref": "North - NTR", "id": "WH-NORTH", "lat": 53.47, "lng": 10.01},'
        '{"source": "POS", "ref": "LMITTE", "id": "ST-MITTE", "capabilities": ["PICKUP", "SHIP_FROM_STORE"]},'
        '{"source": "POS", "ref": "LHAM", "id": "ST-HAMBURG", "capabilities": []}'
        "]}"
    )

    async def backends(settings):
        return Backends(erp=erp, storefront=web, pos=pos, oms=oms)

    settings = Settings(
        nodes_file=nodes,
        redis_url=None,
        run_workers=run_workers,
        _env_file=None,
        **settings_overrides,
    )
    app = create_app(settings, backends=backends)
    async with GraphQLClient(app) as client:
        yield client
