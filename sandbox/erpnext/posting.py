"""When a stock document is posted (ERPNext's validate_posting_time), and the desk links its
messages carry; shared by the Stock Entry and Stock Reconciliation writers."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sandbox.erpnext.documents import Site
from sandbox.erpnext.selling import getdate
from sandbox.erpnext.wire import cint, validation_error

FUTURE_POSTING = "Posting future stock transactions are not allowed due to Immutable Ledger"


def posting_moment(site: Site, data: dict[str, Any]) -> datetime:
    """The document's moment, naive in the site's time zone: now without
    ``set_posting_time``; a moment after now is refused."""
    now = datetime.fromisoformat(site.now())
    if not cint(data.get("set_posting_time")):
        return now
    posting_date = getdate(data.get("posting_date") or site.today())
    raw_time = data.get("posting_time")
    moment = datetime.combine(posting_date, posting_time(raw_time) if raw_time else now.time())
    if moment > now:
        raise validation_error(FUTURE_POSTING)
    return moment


def posting_time(value: Any) -> time:
    """frappe.utils.get_time for the times an API client sends ("9:05", "09:05:00.25")."""
    text = str(value).strip()
    for pattern in ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M"):
        try:
            return datetime.strptime(text, pattern).time()
        except ValueError:
            continue
    raise validation_error("Invalid Posting Time")


def desk_link(doctype: str, name: str) -> str:
    """frappe.utils.get_desk_link, relative."""
    slug = doctype.lower().replace(" ", "-")
    return f'<a href="/app/{slug}/{name}" style="font-weight: bold;">{doctype} {name}</a>'
