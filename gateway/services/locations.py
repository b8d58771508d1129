"""The node directory: backend locations joined with the node file (see gateway.nodes)."""

from __future__ import annotations

from gateway import gathering
from gateway.domain import BackendLocation, Location
from gateway.nodes import NodeOverrides, build_locations
from gateway.ports import ErpPort, PosPort


class LocationDirectory:
    def __init__(
        self,
        erp: ErpPort,
        pos: PosPort,
        overrides: NodeOverrides,
        *,
        warehouse_safety_stock: int,
        store_safety_stock: int,
    ) -> None:
        self._erp = erp
        self._pos = pos
        self._overrides = overrides
        self._warehouse_safety = warehouse_safety_stock
        self._store_safety = store_safety_stock
        self._built: tuple[list[BackendLocation], list[BackendLocation], list[Location]] | None = (
            None
        )

    async def locations(self) -> list[Location]:
        warehouses, stores = await gathering.gather(self._erp.warehouses(), self._pos.locations())
        built = self._built
        # Every request asks; the backend lists change rarely. Rebuild only when they do.
        if built is None or built[0] != warehouses or built[1] != stores:
            nodes = build_locations(
                warehouses,
                stores,
                self._overrides,
                warehouse_safety_stock=self._warehouse_safety,
                store_safety_stock=self._store_safety,
            )
            built = self._built = (warehouses, stores, nodes)
        return built[2]
