"""Persisted operations: documents the gateway holds, loaded at start from a manifest, that a
client names instead of sending them (and, in safelist mode, the only ones that run).

The manifest is Apollo's persisted query manifest (what its client tooling generates):

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "ProductPage", "type": "query",
                     "body": "query ProductPage($sku: String!) { ... }"}]}

A request names an operation by ``documentId`` (GraphQL over HTTP's persisted documents)
or by Apollo's ``extensions.persistedQuery.sha256Hash``; the gateway puts the document in
and passes the request on. A name it does not hold is PERSISTED_QUERY_NOT_FOUND (an Apollo
client then sends the document with its hash, which runs unless in safelist mode). With
PERSISTED__SAFELIST=true only the manifest's documents run: a request sending a document of
its own runs only if that exact document is in the manifest; anything else is refused
with PERSISTED_QUERY_NOT_IN_LIST before it is parsed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import JSONResponse

from gateway.errors import ErrorCode
from gateway.request_guard import replaying

Scope = dict[str, Any]


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PersistedOperations:
    documents: Mapping[str, str]  # by id, and by the sha256 of each document
    safelist: bool = False

    @classmethod
    def load(cls, path: Path | None, *, safelist: bool) -> PersistedOperations:
        if path is None:
            return cls({}, safelist)
        manifest = json.loads(path.read_text())
        operations = manifest.get("operations") if isinstance(manifest, dict) else None
        if not isinstance(operations, list):
            raise ValueError(f"{path}: not a persisted query manifest (no operations list)")
        documents: dict[str, str] = {}
        for entry in operations:
            body = entry.get("body") if isinstance(entry, dict) else None
            if not isinstance(body, str):
                raise ValueError(f"{path}: an operation without a body: {entry!r}")
            documents[document_hash(body)] = body
            if isinstance(entry.get("id"), str):
                documents[entry["id"]] = body
        return cls(documents, safelist)

    @property
    def active(self) -> bool:
        return self.safelist or bool(self.documents)


@dataclass(frozen=True, slots=True)
class Refusal:
    code: ErrorCode
    message: str
    status: int


def resolved(payload: dict[str, Any], known: PersistedOperations) -> dict[str, Any] | Refusal:
    """The request with its persisted document put in, or why it is refused (pure)."""
    named = payload.get("documentId")
    extensions = payload.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if named is None and isinstance(persisted, dict):
        named = persisted.get("sha256Hash")
    document = payload.get("query")
    if named is not None:
        found = known.documents.get(str(named))
        if found is None and isinstance(document, str) and not known.safelist:
            if document_hash(document) != named:
                return Refusal(
                    ErrorCode.BAD_USER_INPUT, "the document does not match its sha256Hash", 400
                )
            return payload  # an Apollo client sending the document it named: it runs
        if found is None:
            return Refusal(
                ErrorCode.PERSISTED_QUERY_NOT_FOUND,
                f"no persisted operation {str(named)[:80]!r}",
                200,
            )
        return {**payload, "query": found}
    if known.safelist and not (
        isinstance(document, str) and document_hash(document) in known.documents
    ):
        return Refusal(
            ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
            "only persisted operations run here: send its documentId",
            400,
        )
    return payload


class PersistedDocuments:
    """The ASGI layer behind RequestGuard (POST bodies are whole, JSON objects)."""

    def __init__(self, app: Any, known: PersistedOperations) -> None:
        self._app = app
        self._known = known

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self._known.active:
            await self._app(scope, receive, send)
            return
        if scope["method"] == "GET":
            await self._get(scope, receive, send)
            return
        message = await receive()
        body = message.get("body", b"")
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):  # not JSON: strawberry's to refuse
            await self._app(scope, replaying(body), send)
            return
        outcome = resolved(payload, self._known)
        if isinstance(outcome, Refusal):
            await _refuse(outcome, scope, receive, send)
            return
        if outcome is not payload:
            body = json.dumps(outcome).encode()
        await self._app(scope, replaying(body), send)

    async def _get(self, scope: Scope, receive: Any, send: Any) -> None:
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        params: dict[str, Any] = dict(pairs)
        if isinstance(params.get("extensions"), str):
            with contextlib.suppress(ValueError):  # not JSON: left for strawberry to refuse
                params["extensions"] = json.loads(params["extensions"])
        if "query" not in params and "documentId" not in params and "extensions" not in params:
            await self._app(scope, receive, send)  # the GraphiQL page
            return
        outcome = resolved(params, self._known)
        if isinstance(outcome, Refusal):
            await _refuse(outcome, scope, receive, send)
            return
        if outcome is not params:
            rewritten = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in outcome.items()}
            scope = {**scope, "query_string": urlencode(rewritten).encode()}
        await self._app(scope, receive, send)


async def _refuse(refusal: Refusal, scope: Scope, receive: Any, send: Any) -> None:
    error = {"message": refusal.message, "extensions": {"code": refusal.code.value}}
    response = JSONResponse({"data": None, "errors": [error]}, status_code=refusal.status)
    await response(scope, receive, send)
