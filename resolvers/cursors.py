"""Opaque cursors for pages ordered by a time and an id (orders, discrepancies, the audit
trail): base64 of "<ISO time>|<id>"."""

from __future__ import annotations

import base64
from datetime import datetime

from gateway.errors import BadUserInput


def cursor(at: datetime, last_id: str | int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{last_id}".encode()).decode()


def parse_cursor(raw: str) -> tuple[datetime, str]:
    try:
        at, last_id = base64.urlsafe_b64decode(raw.encode()).decode().split("|", 1)
        return datetime.fromisoformat(at), last_id
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput(f"{raw!r} is not a cursor from this API", field="after") from None
