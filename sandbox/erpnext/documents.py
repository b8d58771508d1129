"""Submittable documents written through the API: naming series, standard fields and Frappe's
docstatus transitions, shared by Sales Order and Stock Entry.

What frappe/model/document.py does and this reproduces: ``insert`` with docstatus 1 inserts
and submits in one call; a draft saved with docstatus 1 is submitted; a submitted document
accepts only docstatus 2 (cancel) or no change; 0 -> 2 and any edit of a cancelled document
are refused with Frappe's own words. A doctype supplies ``build`` (validate and compute the
rows from the request), ``on_submit`` and ``on_cancel``. Each step raises Frappe's document
events on the site (sandbox.erpnext.doc_events) once it has succeeded.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sandbox.erpnext.meta import META
from sandbox.erpnext.store import ErpStore
from sandbox.erpnext.tables import STANDARD_COLUMNS
from sandbox.erpnext.wire import FrappeError, cint, not_found, site_datetime, validation_error

API_USER = "integration@northtrail.example"
Rows = list[dict[str, Any]]


def transition_error(message: str) -> FrappeError:
    return FrappeError(417, "DocstatusTransitionError", message)


class Site:
    """What every writer shares: the tables, the site's clock and its naming series counters."""

    def __init__(self, store: ErpStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self._clock = clock
        self._zone = ZoneInfo(store.timezone)
        self._series: Counter[str] = Counter()

    def now(self) -> str:
        """frappe.utils.now(): a naive datetime string in the site's time zone."""
        return site_datetime(self._clock(), self.store.timezone)

    def today(self) -> date:
        return self._clock().astimezone(self._zone).date()

    def next_name(self, prefix: str) -> str:
        """``PREFIX-.YYYY.-.#####``: the year is today's, the counter is per prefix and year."""
        series = f"{prefix}-{self.today().year}-"
        self._series[series] += 1
        return f"{series}{self._series[series]:05d}"

    def row_name(self, parent: str, idx: int) -> str:
        """Frappe names child rows with a random 10-character hash; here a repeatable one."""
        self._series["rows"] += 1
        key = f"{parent}|{idx}|{self._series['rows']}".encode()
        return hashlib.blake2b(key, digest_size=5).hexdigest()

    def stamped(self, name: str, idx: int = 0) -> dict[str, Any]:
        now = self.now()
        return {
            "name": name,
            "owner": API_USER,
            "creation": now,
            "modified": now,
            "modified_by": API_USER,
            "docstatus": 0,
            "idx": idx,
        }


class Submittable(ABC):
    doctype: ClassVar[str]
    child: ClassVar[str]  # the doctype of the ``items`` table
    prefix: ClassVar[str]  # naming series without the year

    def __init__(self, site: Site) -> None:
        self.site = site
        self.store = site.store

    # --- what a doctype supplies --------------------------------------------------------

    @abstractmethod
    def build(self, data: dict[str, Any], name: str) -> tuple[dict[str, Any], Rows]:
        """Validate a request and compute the header and item rows (without standard fields)."""

    def on_submit(self, name: str) -> None:  # noqa: B027 - a hook a doctype may leave empty
        pass

    def on_cancel(self, name: str) -> None:  # noqa: B027
        pass

    # --- the lifecycle ------------------------------------------------------------------

    def document(self, name: str) -> dict[str, Any]:
        return self.store.document(self.doctype, name)

    def insert(self, data: dict[str, Any]) -> str:
        docstatus = cint(data.get("docstatus"))
        if docstatus == 2:
            raise transition_error("Cannot change docstatus from 0 (Draft) to 2 (Cancelled)")
        # Naming series doctypes ignore a name sent by the client.
        name = self.site.next_name(self.prefix)
        header, rows = self.build(data, name)
        self.store.table(self.doctype).append({**self.site.stamped(name), **header})
        self._append_rows(name, rows)
        if docstatus == 1:
            try:
                self.submit(name)
            except FrappeError:
                # Frappe rolls the request's transaction back: a refused submit leaves
                # no document behind.
                self._remove(name)
                raise
        submitted = ("on_submit",) if docstatus == 1 else ()
        self._events(name, "after_insert", "on_update", *submitted)
        return name

    def update(self, name: str, data: dict[str, Any]) -> None:
        """PUT /api/resource/<doctype>/<name>: save, submit or cancel by docstatus."""
        current = self.document(name)
        before = int(current["docstatus"])
        after = cint(data.get("docstatus", before))
        if before == 2:
            raise validation_error("Cannot edit cancelled document")
        if before == 1:
            if after == 0:
                raise transition_error("Cannot change docstatus from 1 (Submitted) to 0 (Draft)")
            self._refuse_changes_after_submit(current, data)
            if after == 2:
                self.cancel(name)
            else:
                self._events(name, "on_update_after_submit", "on_change")
            return
        if after == 2:
            raise transition_error("Cannot change docstatus from 0 (Draft) to 2 (Cancelled)")
        header, rows = self.build({**current, **data}, name)
        header = {k: v for k, v in header.items() if k != "name"}
        self.store.table(self.doctype).update(name, **header, modified=self.site.now())
        children = self.store.table(self.child)
        for row in children.children(name):
            children.remove(row["name"])
        self._append_rows(name, rows)
        if after == 1:
            self.submit(name)
        submitted = ("on_submit",) if after == 1 else ()
        self._events(name, "on_update", *submitted, "on_change")

    def submit(self, name: str) -> None:
        self._set_docstatus(name, 1)
        self.on_submit(name)

    def cancel(self, name: str) -> None:
        """frappe.client.cancel."""
        docstatus = int(self.document(name)["docstatus"])
        if docstatus == 0:
            raise transition_error("Cannot change docstatus from 0 (Draft) to 2 (Cancelled)")
        if docstatus == 2:
            raise validation_error("Cannot edit cancelled document")
        self.on_cancel(name)
        self._set_docstatus(name, 2)
        self._events(name, "on_cancel", "on_change")

    # --- helpers for doctypes -----------------------------------------------------------

    def header(self, name: str) -> dict[str, Any]:
        row = self.store.table(self.doctype).get(name)
        if row is None:
            raise not_found(f"{self.doctype} {name} not found")
        return row

    def items(self, name: str) -> Rows:
        return self.store.table(self.child).children(name)

    def set(self, doctype: str, name: str, **values: Any) -> None:
        self.store.table(doctype).update(name, **values, modified=self.site.now())

    def _append_rows(self, parent: str, rows: Rows) -> None:
        table = self.store.table(self.child)
        for idx, row in enumerate(rows, start=1):
            stamped = self.site.stamped(self.site.row_name(parent, idx), idx)
            links = {"parent": parent, "parentfield": "items", "parenttype": self.doctype}
            table.append({**stamped, **links, **row})

    def _events(self, name: str, *events: str) -> None:
        self.store.events.emit(self.doctype, name, *events)

    def _remove(self, name: str) -> None:
        children = self.store.table(self.child)
        for row in children.children(name):
            children.remove(row["name"])
        self.store.table(self.doctype).remove(name)

    def _set_docstatus(self, name: str, docstatus: int) -> None:
        self.set(self.doctype, name, docstatus=docstatus)
        for row in self.items(name):
            self.set(self.child, row["name"], docstatus=docstatus)

    def _refuse_changes_after_submit(self, current: dict[str, Any], data: dict[str, Any]) -> None:
        for field, value in data.items():
            if field in STANDARD_COLUMNS or field in ("doctype", "items", "__islocal", "__unsaved"):
                continue
            if META[self.doctype].has_column(field) and value != current.get(field):
                label = field.replace("_", " ").title()
                raise FrappeError(
                    417,
                    "UpdateAfterSubmitError",
                    f" Not allowed to change <strong>{label}</strong> after submission from "
                    f"<strong>{current.get(field)}</strong> to <strong>{value}</strong>",
                )
