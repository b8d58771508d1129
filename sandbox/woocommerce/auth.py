"""WooCommerce's REST authentication (WC_REST_Authentication), reproduced step by step.

* Over https only: HTTP Basic, or ``consumer_key``/``consumer_secret`` in the query string
  (the query pair wins). Over plain http both are ignored, as WooCommerce ignores them.
* Always: OAuth 1.0a one-legged with the ``oauth_*`` parameters in the query string (or an
  ``Authorization: OAuth`` header), HMAC-SHA1 or HMAC-SHA256, key ``secret + "&"``, a
  15-minute timestamp window and a nonce that may not be replayed.

No credentials at all is not an error here: the request goes on anonymously and the
endpoint's permission check answers 401. Failed credentials are an error at once.
Form-encoded bodies (``$_POST``) are not signed here: the simulator only speaks JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, unquote_plus

from sandbox.woocommerce.wire import Query, QueryValue, WPError, php_empty, rawurlencode

TIMESTAMP_WINDOW_SECONDS = 15 * 60
OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
_HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


def _auth_error(message: str) -> WPError:
    return WPError("woocommerce_rest_authentication_error", message, 401)


def signature_base_string(method: str, url: str, params: Mapping[str, QueryValue]) -> str:
    """The string WooCommerce signs (check_oauth_signature).

    Keys sorted bytewise (strcmp); key and value each rawurlencoded, then the whole
    ``key=value`` rawurlencoded again; pairs joined with an encoded '&'.
    """
    pairs: list[str] = []
    for key in sorted(params, key=lambda k: k.encode()):
        value = params[key]
        encoded_key = rawurlencode(key)
        if isinstance(value, dict):
            for sub, item in value.items():
                pair = f"{encoded_key}%5B{sub}%5D={rawurlencode(item)}"
                pairs.append(rawurlencode(pair))
        else:
            pairs.append(rawurlencode(f"{encoded_key}={rawurlencode(value)}"))
    return f"{method.upper()}&{rawurlencode(url)}&{'%26'.join(pairs)}"


def sign(base_string: str, consumer_secret: str, signature_method: str) -> str:
    digest = hmac.new(
        f"{consumer_secret}&".encode(), base_string.encode(), _HASHES[signature_method]
    ).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class RequestFacts:
    """What the authentication reads from one request."""

    method: str
    scheme: str
    host: str
    path: str  # the raw path as sent (REQUEST_URI without the query)
    query: Query
    authorization: str = ""


@dataclass
class Authenticator:
    consumer_key: str
    consumer_secret: str
    clock: Callable[[], float] = time.time
    # Like WooCommerce's `nonces` column: timestamp -> nonce, so a second request with the
    # same timestamp overwrites the first one's nonce (only the latest per second is kept).
    _used_nonces: dict[int | str, str] = field(default_factory=dict)

    def authenticate(self, request: RequestFacts) -> bool:
        """True for our key, False when anonymous; raises WPError (401) for bad credentials."""
        user, error = False, None
        if request.scheme == "https":
            user, error = self._basic(request)
        if not user:
            user, oauth_error = self._oauth(request)
            error = oauth_error or error
        if error is not None:
            raise error
        return user

    def _basic(self, request: RequestFacts) -> tuple[bool, WPError | None]:
        key, secret = request.query.get("consumer_key"), request.query.get("consumer_secret")
        if php_empty(key) or php_empty(secret):
            key, secret = _basic_credentials(request.authorization)
        if php_empty(key) or php_empty(secret) or key != self.consumer_key:
            return False, None
        if not isinstance(secret, str) or not hmac.compare_digest(secret, self.consumer_secret):
            return False, _auth_error("Consumer secret is invalid.")
        return True, None

    def _oauth(self, request: RequestFacts) -> tuple[bool, WPError | None]:
        params: dict[str, QueryValue] = dict(request.query)
        params.update(_oauth_header_params(request.authorization))
        missing = [name for name in OAUTH_PARAMS if php_empty(params.get(name))]
        if len(missing) == len(OAUTH_PARAMS):
            return False, None
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            return False, WPError(
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth {noun} {', '.join(missing)}",
                401,
            )
        if params["oauth_consumer_key"] != self.consumer_key:
            return False, _auth_error("Consumer key is invalid.")
        error = self._check_signature(request, params) or self._check_timestamp_and_nonce(
            params["oauth_timestamp"], params["oauth_nonce"]
        )
        return error is None, error

    def _check_signature(
        self, request: RequestFacts, params: dict[str, QueryValue]
    ) -> WPError | None:
        provided = params.pop("oauth_signature")
        if not isinstance(provided, str):
            provided = ""
        provided = unquote(provided.replace(" ", "+"))
        method = params["oauth_signature_method"]
        # The URL is rebuilt from the scheme and Host the client used, as get_home_url() does.
        url = f"{request.scheme}://{request.host}{request.path}"
        base_string = signature_base_string(request.method, url, params)
        if method not in _HASHES:
            return _auth_error("Invalid signature - signature method is invalid.")
        expected = sign(base_string, self.consumer_secret, str(method))
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            return _auth_error("Invalid signature - provided signature does not match.")
        return None

    def _check_timestamp_and_nonce(
        self, timestamp: QueryValue, nonce: QueryValue
    ) -> WPError | None:
        now = int(self.clock())
        try:
            moment = float(timestamp) if isinstance(timestamp, str) else None
        except ValueError:
            moment = None
        if moment is None or not (
            now - TIMESTAMP_WINDOW_SECONDS <= moment <= now + TIMESTAMP_WINDOW_SECONDS
        ):
            return _auth_error("Invalid timestamp.")
        if nonce in self._used_nonces.values():
            return _auth_error("Invalid nonce - nonce has already been used.")
        stamp: int | str = int(moment) if moment.is_integer() else str(timestamp)
        self._used_nonces[stamp] = str(nonce)
        for used_at in list(self._used_nonces):
            if isinstance(used_at, int) and used_at < now - TIMESTAMP_WINDOW_SECONDS:
                del self._used_nonces[used_at]
        return None


def _basic_credentials(authorization: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, _, password = decoded.partition(":")
    return user, password


def _oauth_header_params(authorization: str) -> dict[str, str]:
    header = authorization.strip()
    if not header.startswith("OAuth "):
        return {}
    return {
        name: unquote_plus(quoted or bare)
        for name, _, quoted, bare in _HEADER_PARAM.findall(header)
    }
