"""Frappe's wire conventions: the error envelope, JSON-in-query parameters, ``cint``, and
naive site-time-zone datetimes.

An error answer is the HTTP status plus ``{exc_type, exception, _server_messages}`` where
``_server_messages`` is a JSON string holding a list of JSON strings (one per message dict),
exactly as ``frappe.utils.response`` builds it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


class FrappeError(Exception):
    """An error answer; ``exc_type`` is the Frappe exception class name."""

    def __init__(
        self,
        status: int,
        exc_type: str,
        message: str,
        *,
        module: str = "frappe.exceptions",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.exc_type = exc_type
        self.message = message
        self.module = module
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.exc_type, self.message, module=self.module)


def error_body(exc_type: str, message: str, *, module: str = "frappe.exceptions") -> dict[str, Any]:
    server_message: dict[str, Any] = {
        "message": message,
        "title": "Message",
        "indicator": "red",
        "raise_exception": 1,
    }
    return {
        "exc_type": exc_type,
        "exception": f"{module}.{exc_type}: {message}",
        "_server_messages": json.dumps([json.dumps(server_message)]),
    }


def authentication_error(message: str = "Invalid API key or secret") -> FrappeError:
    return FrappeError(401, "AuthenticationError", message)


def permission_error(message: str) -> FrappeError:
    return FrappeError(403, "PermissionError", message)


def not_found(message: str) -> FrappeError:
    return FrappeError(404, "DoesNotExistError", message)


def validation_error(message: str) -> FrappeError:
    return FrappeError(417, "ValidationError", message)


def unknown_column(column: str, clause: str) -> FrappeError:
    # What MariaDB says through pymysql; Frappe lets it through as a 500.
    return FrappeError(
        500,
        "OperationalError",
        f"(1054, \"Unknown column '{column}' in '{clause}'\")",
        module="pymysql.err",
    )


def json_param(raw: str | None, name: str) -> Any:
    """A query parameter that Frappe decodes with json.loads (an unhandled error -> 500)."""
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FrappeError(500, "JSONDecodeError", f"{name}: {exc}", module="json.decoder") from exc


def cint(value: Any, default: int = 0) -> int:
    """frappe.utils.cint: anything that is not a number becomes ``default``."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def site_datetime(moment: datetime, timezone: str) -> str:
    """An aware moment as Frappe serialises a Datetime: naive, in the site's time zone.

    ``str(datetime)`` is what Frappe's JSON handler uses, so a whole second has no fraction.
    """
    return str(moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None))
