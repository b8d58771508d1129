"""A faithful ERPNext (Frappe REST) simulator over the sample dataset: see ``app``."""

from __future__ import annotations

from sandbox.erpnext.app import create_app

__all__ = ["create_app"]
