"""The first route is taken straight to its endpoint: every request is answered as
Starlette's own stack answers it, and the endpoint sees the scope the router gives."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.observability.requests import ObservedStarlette, RouteFirst

SEEN_KEYS = ("route", "endpoint", "path_params", "router", "app")


class Endpoint:
    """An ASGI endpoint, as /graphql's is: says what the router put in its scope."""

    async def __call__(self, scope, receive, send):
        body = (await receive()).get("body", b"")
        if body == b"boom":
            raise RuntimeError("the endpoint broke")
        seen = ",".join(k for k in SEEN_KEYS if k in scope)
        route = scope["route"].path
        await PlainTextResponse(f"{scope['method']} {route} {seen}")(scope, receive, send)


async def health(request):
    return PlainTextResponse("ok")


def routes():
    return [
        Route("/graphql", Endpoint(), methods=["GET", "POST"]),
        Route("/healthz", health),
    ]


ASKED = [
    ("POST", "/graphql", b""),
    ("GET", "/graphql", b""),
    ("PUT", "/graphql", b""),
    ("POST", "/graphql/", b""),
    ("GET", "/healthz", b""),
    ("GET", "/nowhere", b""),
    ("POST", "/graphql", b"boom"),
]


async def answers(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        found = []
        for method, path, body in ASKED:
            response = await client.request(method, path, content=body, follow_redirects=False)
            found.append((response.status_code, response.text, response.headers.get("allow")))
        return found


async def test_every_request_is_answered_as_starlettes_own_stack_answers_it():
    observed = ObservedStarlette(routes=routes())
    plain = Starlette(routes=routes())
    assert await answers(observed) == await answers(plain)
    stack = observed.build_middleware_stack()
    assert isinstance(stack._app, RouteFirst)  # the shortcut was taken, not bypassed


@pytest.mark.parametrize(
    "extra",
    [
        {"middleware": [Middleware(CORSMiddleware, allow_origins=["https://shop.example"])]},
        {"exception_handlers": {KeyError: lambda request, exc: PlainTextResponse("k")}},
    ],
    ids=["cors", "exception-handler"],
)
async def test_with_middleware_or_handlers_of_its_own_every_route_goes_through_starlette(extra):
    observed = ObservedStarlette(routes=routes(), **extra)
    assert not isinstance(observed.build_middleware_stack()._app, RouteFirst)
    assert await answers(observed) == await answers(Starlette(routes=routes(), **extra))
