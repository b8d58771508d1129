"""``POST /webhooks/{woocommerce|square|shopify|erpnext}``: the inbox's HTTP face."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.domain import SourceSystem

BACKENDS = {
    "woocommerce": SourceSystem.STOREFRONT,
    "square": SourceSystem.POS,
    "shopify": SourceSystem.OMS,
    "erpnext": SourceSystem.ERP,
}


async def webhook(request: Request) -> JSONResponse:
    name = str(request.path_params["backend"])
    system = BACKENDS.get(name)
    if system is None:
        return JSONResponse({"error": f"no webhooks from {name!r}"}, status_code=404)
    body = await request.body()
    services = request.app.state.services
    # Square signs the URL it was told to call: behind a proxy that is the public one.
    base = services.settings.webhook_base_url
    url = f"{base.rstrip('/')}/webhooks/{name}" if base else str(request.url)
    received = await services.webhooks.receive(system, request.headers, body, url)
    request.app.state.metrics.webhook(name, received.outcome.value, received.reason)
    return JSONResponse({"status": received.outcome.value}, status_code=received.status)
