"""ERPNext (Frappe REST) adapter: implements gateway.ports.ErpPort."""

from __future__ import annotations

from adapters.erpnext.adapter import ErpNextAdapter, build_erpnext_client
from adapters.erpnext.wire import parse_error

__all__ = ["ErpNextAdapter", "build_erpnext_client", "parse_error"]
