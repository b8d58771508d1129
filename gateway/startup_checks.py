"""What stops ``commerce-gateway serve`` from starting a gateway no one should run: one on
the built-in sandbox backend credentials (it would talk to nothing real, or to a real shop
with a guessable key), or one no caller could authenticate to. ``--sandbox`` (SANDBOX=true)
says it is a sandbox, as the demo is."""

from __future__ import annotations

from gateway.config import Settings

# The backend credentials Settings defaults to: the simulators' (sandbox/).
SANDBOX_CREDENTIALS = (
    "erp_api_key",
    "erp_api_secret",
    "woo_consumer_key",
    "woo_consumer_secret",
    "square_access_token",
    "oms_access_token",
)


def refusals(settings: Settings, *, active_keys: int) -> list[str]:
    """Why this gateway must not start (none: it may). Pure."""
    if settings.sandbox:
        return []
    problems = []
    defaults = type(settings).model_fields
    left = [
        name.upper()
        for name in SANDBOX_CREDENTIALS
        if getattr(settings, name) == defaults[name].default
    ]
    if left:
        problems.append(
            f"the backend credentials {', '.join(left)} are the built-in sandbox ones: set "
            "the real ones, or pass --sandbox (SANDBOX=true) for a gateway over the simulators"
        )
    if active_keys == 0 and not settings.auth.jwt_configured:
        problems.append(
            "no caller could authenticate: no API key exists and no identity provider is "
            "set; create a key (`commerce-gateway keys create --role storefront --name web`) "
            "or set AUTH__JWT_ISSUER, AUTH__JWT_AUDIENCE and AUTH__JWT_JWKS_URL"
        )
    return problems
