"""Frappe's Webhook doctype (frappe/integrations/doctype/webhook): what a site administrator
sets up, and the requests the site sends when the documents it names change.

* A Webhook names a doctype and one document event (sandbox.erpnext.doc_events), a URL and
  method, an optional ``condition`` (a Python-like expression over ``doc``) and a body:
  ``request_structure`` "JSON" renders ``webhook_json``, a Jinja template given ``doc``, and
  parses it; "Form URL-Encoded" (or none) takes ``webhook_data`` rows {fieldname, key}.
  Either way the body sent is ``json.dumps(data)`` (Python's separators: ", " and ": "),
  as enqueue_webhook does; the only headers are the Webhook's own ``webhook_headers`` (the
  desk form adds Content-Type when a structure is picked; over REST the caller sends it).
* With ``enable_security`` the body is signed: X-Frappe-Webhook-Signature is base64
  HMAC-SHA256 of it, keyed with ``webhook_secret`` (a password: read back as asterisks).
* One delivery per Webhook and document per request, rendered from the document as it is
  once the request's work is done (flush_webhook_execution_queue keeps the last instance).
  The condition is judged then too (Frappe judges it when the event fires: the same
  unless one request changes the document twice).
* enqueue_webhook tries three times: after a failed attempt it sleeps 1 s, then 4 s
  (``sleep(3 * i + 1)``; a timeout is retried at once). The sandbox keeps that schedule,
  times the sender's ``retry_scale``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlparse

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from sandbox.erpnext.meta import META
from sandbox.erpnext.store import ErpStore
from sandbox.erpnext.wire import FrappeError
from sandbox.webhooks import Delivery, Message, Signer, WebhookSender

SIGNATURE_HEADER = "X-Frappe-Webhook-Signature"
DOC_EVENTS = (
    "after_insert",
    "on_update",
    "on_submit",
    "on_cancel",
    "on_trash",
    "on_update_after_submit",
    "on_change",
)
SUBMITTED_ONLY = ("on_submit", "on_cancel", "on_update_after_submit")
SUBMITTABLE = frozenset(
    {"Sales Order", "Stock Entry", "Delivery Note", "Stock Reservation Entry", "Stock Ledger Entry"}
)
STRUCTURES = ("", "Form URL-Encoded", "JSON")
METHODS = ("POST", "PUT", "DELETE")
RETRY_DELAYS = (1.0, 4.0)  # enqueue_webhook's sleep(3 * i + 1) between its three tries

_JINJA = SandboxedEnvironment()


def validation_error(message: str) -> FrappeError:
    return FrappeError(417, "ValidationError", message)


@dataclass
class FrappeWebhook:
    name: str
    webhook_doctype: str
    webhook_docevent: str
    request_url: str
    creation: str
    modified: str
    request_method: str = "POST"
    request_structure: str = ""
    webhook_json: str | None = None
    webhook_data: list[dict[str, str]] = field(default_factory=list)
    webhook_headers: list[dict[str, str]] = field(default_factory=list)
    enable_security: int = 0
    webhook_secret: str | None = None
    condition: str | None = None
    enabled: int = 1
    timeout: int = 5
    is_dynamic_url: int = 0


class SiteWebhooks:
    """The site's Webhooks, told of every document event."""

    def __init__(self, store: ErpStore, sender: WebhookSender, now: Callable[[], str]) -> None:
        self.store = store
        self.sender = sender
        self.hooks: dict[str, FrappeWebhook] = {}
        self._now = now
        store.events.listeners.append(self._document_event)

    # --- the doctype ----------------------------------------------------------------------

    def insert(self, data: dict[str, Any]) -> FrappeWebhook:
        name = str(data.get("name") or data.get("__newname") or "")
        if not name:
            raise validation_error("Please set the document name")  # autoname: prompt
        if name in self.hooks:
            raise FrappeError(
                409, "DuplicateEntryError", f"Webhook <strong>{name}</strong> already exists"
            )
        now = self._now()
        webhook = FrappeWebhook(
            name=name,
            webhook_doctype="",
            webhook_docevent="",
            request_url="",
            creation=now,
            modified=now,
        )
        self._apply(webhook, data)
        self.hooks[name] = webhook
        return webhook

    def update(self, name: str, data: dict[str, Any]) -> FrappeWebhook:
        webhook = self.get(name)
        # webhook_doctype and webhook_docevent are set_only_once.
        for fixed in ("webhook_doctype", "webhook_docevent"):
            if fixed in data and data[fixed] != getattr(webhook, fixed):
                raise validation_error(f"Not allowed to change {fixed.replace('_', ' ').title()}")
        self._apply(webhook, data)
        webhook.modified = self._now()
        return webhook

    def delete(self, name: str) -> None:
        self.hooks.pop(self.get(name).name)

    def get(self, name: str) -> FrappeWebhook:
        found = self.hooks.get(name)
        if found is None:
            raise FrappeError(404, "DoesNotExistError", f"Webhook {name} not found")
        return found

    def _apply(self, webhook: FrappeWebhook, data: dict[str, Any]) -> None:
        """Set the fields sent, then run Webhook.validate on the result."""
        for name in (
            "webhook_doctype",
            "webhook_docevent",
            "request_url",
            "request_method",
            "request_structure",
            "webhook_json",
            "webhook_secret",
            "condition",
        ):
            if name in data:
                setattr(webhook, name, data[name] if data[name] is not None else None)
        for name in ("enable_security", "enabled", "timeout", "is_dynamic_url"):
            if name in data:
                setattr(webhook, name, _cint(data[name]))
        for table, keys in (
            ("webhook_data", ("fieldname", "key")),
            ("webhook_headers", ("key", "value")),
        ):
            if table in data:
                rows = [r for r in data[table] or [] if isinstance(r, dict)]
                setattr(webhook, table, [{k: str(r.get(k) or "") for k in keys} for r in rows])
        _validate(webhook)

    # --- what an event sends --------------------------------------------------------------

    def _document_event(self, doctype: str, name: str, event: str) -> None:
        for webhook in self.hooks.values():
            if not (
                webhook.enabled
                and webhook.webhook_doctype == doctype
                and webhook.webhook_docevent == event
            ):
                continue
            secret = webhook.webhook_secret if webhook.enable_security else None
            url = webhook.request_url
            if webhook.is_dynamic_url:
                url = _render_url(webhook, self._doc(doctype, name)) or url
            self.sender.enqueue(
                Delivery(
                    topic=f"{doctype}:{event}",
                    url=url,
                    render=partial(self._render, webhook, doctype, name),
                    signer=Signer(SIGNATURE_HEADER, secret) if secret else None,
                    method=webhook.request_method,
                    retries=RETRY_DELAYS,
                    key=("frappe", webhook.name, doctype, name),
                    timeout=float(webhook.timeout or 5),
                )
            )

    def _render(self, webhook: FrappeWebhook, doctype: str, name: str) -> Message | None:
        doc = self._doc(doctype, name)
        if doc is None:
            return None  # rolled back with its request: Frappe never queued it
        if webhook.condition and not _JINJA.compile_expression(webhook.condition)(doc=doc):
            return None
        if webhook.webhook_data:
            data: Any = {row["key"]: doc.get(row["fieldname"]) for row in webhook.webhook_data}
        elif webhook.webhook_json:
            data = json.loads(_JINJA.from_string(webhook.webhook_json).render(doc=doc, utils={}))
        else:
            data = {}
        headers = {row["key"]: row["value"] for row in webhook.webhook_headers if row["key"]}
        return Message(json.dumps(data, default=str).encode(), headers, f"{doctype}:{name}")

    def _doc(self, doctype: str, name: str) -> dict[str, Any] | None:
        """``doc.as_dict()``: every field, the empty ones as None (Jinja renders them "None")."""
        try:
            doc = self.store.document(doctype, name)
        except FrappeError:
            return None
        return {**dict.fromkeys(META[doctype].all_columns), **doc}


def _validate(webhook: FrappeWebhook) -> None:
    if webhook.webhook_doctype not in META:
        raise FrappeError(
            417, "LinkValidationError", f"Could not find DocType: {webhook.webhook_doctype}"
        )
    if webhook.webhook_docevent and webhook.webhook_docevent not in DOC_EVENTS:
        raise validation_error(_select_message("Doc Event", webhook.webhook_docevent, DOC_EVENTS))
    if webhook.webhook_docevent in SUBMITTED_ONLY and webhook.webhook_doctype not in SUBMITTABLE:
        raise validation_error("DocType must be Submittable for the selected Doc Event")
    if webhook.request_method not in METHODS:
        raise validation_error(_select_message("Request Method", webhook.request_method, METHODS))
    if webhook.request_structure not in STRUCTURES:
        raise validation_error(
            _select_message("Request Structure", webhook.request_structure, STRUCTURES)
        )
    if webhook.condition:
        try:
            _JINJA.compile_expression(webhook.condition)
        except TemplateError as error:
            raise validation_error(f"Invalid Condition: {error}") from error
    if not urlparse(webhook.request_url).netloc and not webhook.is_dynamic_url:
        raise validation_error("Check Request URL")
    if webhook.request_structure == "Form URL-Encoded":
        webhook.webhook_json = None
    elif webhook.request_structure == "JSON":
        try:
            _JINJA.from_string(webhook.webhook_json or "")
        except TemplateError as error:
            raise validation_error(f"Syntax error in template: {error}") from error
        webhook.webhook_data = []
    fields = [row["fieldname"] for row in webhook.webhook_data]
    if len(fields) != len(set(fields)):
        raise validation_error("Same Field is entered more than once")
    if webhook.enable_security and not webhook.webhook_secret:
        raise validation_error("Invalid Webhook Secret")


def _render_url(webhook: FrappeWebhook, doc: dict[str, Any] | None) -> str | None:
    if doc is None:
        return None
    return _JINJA.from_string(webhook.request_url).render(doc=doc, utils={})


def _select_message(label: str, value: str, options: tuple[str, ...]) -> str:
    listed = ", ".join(f'"{o}"' for o in options)
    return f'{label} cannot be "{value}". It should be one of {listed}'


def _cint(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0
