"""ERPNext (Frappe REST) adapter: implements gateway.ports.ErpPort and ErpOrdersPort."""

from __future__ import annotations

from adapters.erpnext.adapter import ErpNextAdapter, build_erpnext_client
from adapters.erpnext.orders import ErpNextOrders
from adapters.erpnext.wire import parse_error

__all__ = ["ErpNextAdapter", "ErpNextOrders", "build_erpnext_client", "parse_error"]
