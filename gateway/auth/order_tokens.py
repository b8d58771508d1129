"""Each order's access token: what a storefront shows its customer's browser so it can read
that one order back (the order confirmation page, the pickup status page)."""

from __future__ import annotations

import logging
import secrets

from gateway.config import AuthSettings
from gateway.domain.access import is_access_token, order_access_token

logger = logging.getLogger(__name__)


class OrderTokens:
    def __init__(self, settings: AuthSettings) -> None:
        configured = settings.order_token_secret
        if configured is None:
            logger.warning(
                "AUTH__ORDER_TOKEN_SECRET is not set: order access tokens are signed with a "
                "key of this process alone and stop working when it restarts"
            )
            self._secret = secrets.token_bytes(32)
        else:
            self._secret = configured.get_secret_value().encode()

    def token(self, order_id: str) -> str:
        return order_access_token(self._secret, order_id)

    def matches(self, order_id: str, presented: str | None) -> bool:
        return is_access_token(self._secret, order_id, presented)
