"""Frappe's document events (the doc_events hooks: after_insert, on_update, on_submit,
on_cancel, on_trash, on_update_after_submit, on_change) as the simulated site raises them,
for whoever listens: the site's Webhooks (sandbox.erpnext.webhooks).

Raised where Frappe's Document runs them: an insert runs after_insert then on_update (and
on_submit when it submits); a save runs on_update, a submit on_update and on_submit, a
cancel on_cancel, an update after submit on_update_after_submit, and each of those but an
insert ends with on_change, as does a db_set of a field (how ERPNext moves a Bin and a Sales
Order's delivery status).
"""

from __future__ import annotations

from collections.abc import Callable

DocEvent = Callable[[str, str, str], None]  # (doctype, name, event)


class DocEvents:
    def __init__(self) -> None:
        self.listeners: list[DocEvent] = []

    def emit(self, doctype: str, name: str, *events: str) -> None:
        for event in events:
            for listener in self.listeners:
                listener(doctype, name, event)
