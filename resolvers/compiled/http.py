"""A known operation POSTed as plain JSON, answered without strawberry's HTTP view.

For such a request strawberry's view builds a Request, a request adapter, a sub-response, a
context, parses the content type with the e-mail parser, decodes the body, looks for a
streaming transport, runs the plan, processes the result and builds a Response: about a
fifth of what a compiled ``reserve`` cost the gateway. Here the same steps are taken
directly, for the requests where each of them has one outcome:

* the content type is exactly ``application/json`` and no streaming transport accepts the
  ``Accept`` header (strawberry would stream);
* the body decodes (as strawberry's json module reads it: gateway.request_json) to an
  object with a string ``query``, ``variables`` and ``extensions`` objects or null, and an
  ``operationName`` string or null;
* the operation has a plan (resolvers.compiled.operations) and is a query or a mutation.

Anything else returns False and the caller passes the request to strawberry. The answer is
the one strawberry gives, byte for byte and header for header: tests/graphql/
test_compiled.py posts every operation of the suite both ways and compares them.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from strawberry.http import process_result
from strawberry.types.graphql import OperationType

from gateway.observability.request_metrics import tell_answered
from gateway.request_guard import content_type_and_accept
from gateway.request_json import read_json
from resolvers.context import GatewayContext

if TYPE_CHECKING:
    from resolvers.compiled.operations import CompiledOperations

ANSWERED_HERE = frozenset({OperationType.QUERY, OperationType.MUTATION})
JSON = b"application/json"


class CompiledHttp:
    """The shortcut of one GraphQL view: ``view`` gives its streaming transports, its error
    handling and its JSON encoding, so the answers are its own."""

    def __init__(self, view: Any, compiled: CompiledOperations) -> None:
        self._view = view
        self.compiled = compiled
        self._streams: dict[bytes, bool] = {}  # Accept header -> a transport would stream

    def _streamed(self, accept: bytes) -> bool:
        streamed = self._streams.get(accept)
        if streamed is None:
            text = accept.decode("latin-1")
            streamed = self._view._get_stream_transport_from_headers({"accept": text}) is not None
            if len(self._streams) < 256:  # clients send a handful of distinct values
                self._streams[accept] = streamed
        return streamed

    async def answer(self, scope: MutableMapping[str, Any], body: bytes, send: Any) -> bool:
        """Answer the request here (True), or leave it to strawberry (False: nothing was
        sent)."""
        content_type, accept = content_type_and_accept(scope)
        if content_type != JSON or self._streamed(accept):
            return False
        try:
            payload = read_json(body)
        except ValueError:
            return False
        if not isinstance(payload, dict):
            return False
        query = payload.get("query")
        variables = payload.get("variables")
        extensions = payload.get("extensions")
        name = payload.get("operationName")
        if not (
            isinstance(query, str)
            and (variables is None or isinstance(variables, dict))
            and (extensions is None or isinstance(extensions, dict))
            and (name is None or isinstance(name, str))
        ):
            return False
        plan = self.compiled.plan_for(query, name)
        if plan is None or plan.operation_type not in ANSWERED_HERE:
            return False
        state = scope.get("state") or {}
        context = GatewayContext(scope["app"].state.services, principal=state.get("principal"))
        result = await self.compiled.execute(
            plan, query=query, variables=variables, context=context, operation_name=name
        )
        response = process_result(result)
        if result.errors:
            self._view._handle_errors(result.errors, response)
        encoded = self._view.encode_json(response)
        named = plan.operation.name
        tell_answered(scope, name, None if named is None else named.value, response)
        # As starlette's Response sends it: its length first, then its type.
        headers = [(b"content-length", str(len(encoded)).encode()), (b"content-type", JSON)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": encoded})
        return True
