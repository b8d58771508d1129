"""The project's one exception tree, and every code an error in a response can carry.

    GatewayError                      every expected failure; carries a machine-readable ``code``
    ├── NotFound                      NOT_FOUND: no such product, location, barcode
    ├── BadUserInput                  BAD_USER_INPUT: the request itself is wrong
    │   └── InvalidBarcode            ...a GTIN whose length or check digit is wrong
    ├── InsufficientStock             INSUFFICIENT_STOCK: fewer units free than asked for
    ├── IdempotencyKeyReused          IDEMPOTENCY_KEY_REUSED: same key, different request
    ├── BarcodeConflict               BARCODE_CONFLICT: the code names another item already
    ├── IllegalTransition             ILLEGAL_TRANSITION: the order/hold is not in a state
    │                                 that allows this (e.g. confirm an expired hold)
    ├── Unauthenticated               UNAUTHENTICATED: no credentials, or ones not accepted
    ├── Forbidden                     FORBIDDEN: the caller's roles do not cover this field
    ├── QueryTooCostly                QUERY_TOO_COSTLY: estimated over the cost limit
    ├── RateLimited                   RATE_LIMITED: the caller asks too often
    └── BackendError                  BACKEND_ERROR: a backend answered badly or not at all
        ├── BackendUnavailable        BACKEND_UNAVAILABLE: connect/timeout/5xx/429 after retries
        ├── BackendAuthError          BACKEND_AUTH: the backend refused our credentials
        └── BackendRejected           BACKEND_REJECTED: a 4xx the backend meant (validation, ...)

Adapters translate httpx errors and backend error bodies into these at the boundary;
resolvers turn them into GraphQL errors with ``extensions.code``. Anything else is a bug
and is masked before it reaches a client.

``ErrorCode`` lists every code a response can carry: each class's own, and those the GraphQL
layer gives to errors that are not ours (a document that does not parse or validate, and
anything unexpected). The details an error carries are declared per class, as the
``TypedDict`` its ``__init__`` unpacks, so the type checker checks every ``raise`` and the
schema and README are generated from the same declaration. A detail given as ``None`` is
left out of the response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import (
    Annotated,
    ClassVar,
    Literal,
    Required,
    TypedDict,
    Unpack,
    get_args,
    get_origin,
    get_type_hints,
)


class ErrorCode(StrEnum):
    """Every ``extensions.code`` a response can carry (the value is the wire string)."""

    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    INVALID_BARCODE = "INVALID_BARCODE"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    BARCODE_CONFLICT = "BARCODE_CONFLICT"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BACKEND_ERROR = "BACKEND_ERROR"
    BACKEND_UNAVAILABLE = "BACKEND_UNAVAILABLE"
    BACKEND_AUTH = "BACKEND_AUTH"
    BACKEND_REJECTED = "BACKEND_REJECTED"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    RATE_LIMITED = "RATE_LIMITED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

    @property
    def description(self) -> str:
        """When a response carries this code."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: Mapping[ErrorCode, str] = {
    ErrorCode.NOT_FOUND: (
        "No such product, barcode, location, order, reservation, return or delivery, "
        "or a backend no longer knows the record an operation needs."
    ),
    ErrorCode.BAD_USER_INPUT: (
        "The request itself is wrong: a value out of range, a malformed cursor, a missing "
        "or contradictory field; a variable whose value does not fit its type, or that "
        "the document declares or uses wrongly."
    ),
    ErrorCode.INVALID_BARCODE: (
        "A barcode that is not a GTIN-8/12/13/14: not digits, a wrong length, or a wrong "
        "check digit (the expected one is given); a price or weight label whose verifier "
        "digit is wrong; or a code to assign that a Code 128 label cannot carry."
    ),
    ErrorCode.INSUFFICIENT_STOCK: (
        "Fewer units free than asked for, or no plan can fill the order; nothing was held."
    ),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (
        "The idempotencyKey was already used for a different request; nothing was recorded."
    ),
    ErrorCode.BARCODE_CONFLICT: (
        "The barcode asked to assign names another item already, in the ERP's barcode table "
        "or among the codes the gateway assigned (the item is given); nothing was recorded."
    ),
    ErrorCode.ILLEGAL_TRANSITION: (
        "The order, hold or return is not in a state that allows this "
        "(e.g. confirm an expired hold)."
    ),
    ErrorCode.UNAUTHENTICATED: (
        "The request carries no credentials, or ones the gateway does not accept (an unknown "
        "or revoked API key; a JWT expired, for another audience or issuer, signed by an "
        "unknown key, or without roles). HTTP 401 when the client accepts "
        "application/graphql-response+json."
    ),
    ErrorCode.FORBIDDEN: (
        "The caller's roles do not cover this field or operation (it is null, the rest of "
        "the answer stands), or the record is not theirs to see or change."
    ),
    ErrorCode.BACKEND_ERROR: (
        "A backend answered with something the gateway cannot read (e.g. an HTML page "
        "instead of JSON)."
    ),
    ErrorCode.BACKEND_UNAVAILABLE: (
        "A backend could not be reached, timed out, or answered 429 or 5xx (after the "
        "gateway's own retries); try again later."
    ),
    ErrorCode.BACKEND_AUTH: "A backend refused the gateway's credentials (401/403).",
    ErrorCode.BACKEND_REJECTED: (
        "A backend refused the request (a 4xx it meant, or its userErrors)."
    ),
    ErrorCode.GRAPHQL_PARSE_FAILED: "The document is not GraphQL (a syntax error).",
    ErrorCode.QUERY_TOO_DEEP: (
        "The document nests fields deeper than LIMITS__MAX_DEPTH (15); nothing ran."
    ),
    ErrorCode.TOO_MANY_ALIASES: (
        "The document uses more than LIMITS__MAX_ALIASES (30) aliases; nothing ran."
    ),
    ErrorCode.TOO_MANY_TOKENS: (
        "The document has more than LIMITS__MAX_TOKENS (15,000) tokens; it was not parsed."
    ),
    ErrorCode.REQUEST_TOO_LARGE: (
        "The request body is over LIMITS__MAX_BODY_BYTES (2 MB); HTTP 413, nothing read."
    ),
    ErrorCode.QUERY_TOO_COSTLY: (
        "The operation's estimated cost (extensions.cost, from the schema's @cost and "
        "@listSize) is over LIMITS__MAX_COST; nothing ran."
    ),
    ErrorCode.RATE_LIMITED: (
        "The caller asked more often than its rate limit allows; HTTP 429 with Retry-After, "
        "nothing ran."
    ),
    ErrorCode.PERSISTED_QUERY_NOT_FOUND: (
        "The request named a persisted operation (its id or sha256Hash) the gateway does not hold."
    ),
    ErrorCode.PERSISTED_QUERY_NOT_IN_LIST: (
        "Safelist mode (PERSISTED__SAFELIST): only persisted operations run; send its id."
    ),
    ErrorCode.GRAPHQL_VALIDATION_FAILED: (
        "The document does not fit the schema (unknown field, missing argument, wrong type)."
    ),
    ErrorCode.INTERNAL_SERVER_ERROR: (
        "Anything unexpected: logged with its trace, returned with no internals."
    ),
}


# --- details, one TypedDict per error class ------------------------------------------------------


class Shortfall(TypedDict):
    """One SKU at one node that cannot give what was asked, with what it can still give."""

    sku: str
    locationId: Annotated[str | None, "The node; null when no node can fill the line."]
    requested: int
    available: Annotated[int, "Units free there now: what a client can offer instead."]


class BackendUserError(TypedDict, total=False):
    """One of the ``userErrors`` a backend answered with, as it sent it."""

    field: Annotated[list[str] | None, "The path to the input field it refused."]
    message: Required[str]
    code: str | None


# The services and adapters build these entries as plain dicts; the annotation names the
# shape they have, which the schema and the README show.
ShortfallEntry = Annotated[Mapping[str, object], Shortfall]
BackendUserErrorEntry = Annotated[Mapping[str, object], BackendUserError]

BarcodeProblem = Literal[
    "NOT_NUMERIC", "BAD_LENGTH", "BAD_CHECK_DIGIT", "BAD_PRICE_CHECK_DIGIT", "NOT_CODE_128"
]

# A detail's description, where its name does not say enough, rides in Annotated metadata.
_FIELD = "The argument or input field (dotted path) at fault."


class NotFoundDetails(TypedDict, total=False):
    field: Annotated[str, _FIELD]
    sku: Annotated[str, "The SKU nothing is known under."]
    skus: Annotated[list[str], "Each SKU asked for that nothing is known under."]
    barcode: Annotated[str, "The barcode no product carries."]
    location_ids: Annotated[list[str], "Each location id asked for that names no node."]
    # WooCommerce order ids are numbers; Shopify's are gids.
    order_id: Annotated[str | int, "The backend's id of the order it does not know."]
    return_id: Annotated[str, "The backend's id of the return it does not know."]
    fulfillment_order_id: Annotated[str, "The fulfillment order the backend does not know."]


class BadUserInputDetails(TypedDict, total=False):
    field: Annotated[str, _FIELD]
    sku: Annotated[str, "The SKU of the line at fault."]
    returnable: Annotated[int, "Units of the line that can still be returned."]


class InvalidBarcodeDetails(TypedDict, total=False):
    barcode: Required[Annotated[str, "The barcode as given."]]
    reason: Required[Annotated[BarcodeProblem, "What is wrong with it."]]
    expected_check_digit: Annotated[str, "The check digit the other digits call for."]


class InsufficientStockDetails(TypedDict):
    shortfalls: Sequence[ShortfallEntry]


class IdempotencyKeyReusedDetails(TypedDict):
    operation: Annotated[str, "What the key was first used for."]


class BarcodeConflictDetails(TypedDict):
    barcode: Annotated[str, "The code asked for."]
    sku: Annotated[str, "The item it names already."]


class IllegalTransitionDetails(TypedDict, total=False):
    status: Annotated[str, "The status it is in."]
    requested: Annotated[str, "The status asked for."]
    reported_by: Annotated[
        list[str], "The systems whose own status forbids it (a cancel after shipment)."
    ]


class UnauthenticatedDetails(TypedDict, total=False):
    scheme: Annotated[str, "The credentials tried: API_KEY or JWT; absent when none."]


class QueryTooCostlyDetails(TypedDict):
    requested_query_cost: Annotated[int, "What the operation was estimated to cost."]
    maximum_query_cost: Annotated[int, "The most one operation may cost (LIMITS__MAX_COST)."]


class RateLimitedDetails(TypedDict):
    limit: Annotated[int, "Requests a caller may make at once (the bucket's size)."]
    per_second: Annotated[float, "Requests per second the bucket refills."]
    retry_after_seconds: Annotated[float, "When the next request will be let through."]


class ForbiddenDetails(TypedDict, total=False):
    roles: Annotated[list[str], "The roles that may ask for it."]


class BackendErrorDetails(TypedDict, total=False):
    # Optional values throughout: adapters pass what a backend's error body held, which
    # may be nothing (Square's category and field arrive as a dict of optional values).
    backend: Required[Annotated[str, "Which backend: erpnext, woocommerce, square, shopify."]]
    status: Annotated[int | None, "Its HTTP status."]
    backend_code: Annotated[str | None, "Its own error code (Frappe exc_type, Square code, ...)."]
    category: Annotated[str | None, "Square's error category."]
    field: Annotated[str | None, "The field of the gateway's request it refused (Square)."]
    user_errors: Sequence[BackendUserErrorEntry] | None
    sku: Annotated[str | None, "The SKU it refused."]
    skus: Annotated[list[str] | None, "The SKUs it does not know."]
    job_id: Annotated[str | None, "Its job still carrying out the request (Shopify)."]
    retry_after: Annotated[str | None, "Its Retry-After header as sent (ERPNext)."]
    retry_after_seconds: Annotated[
        float | None, "Seconds it asked the gateway to wait (Retry-After)."
    ]
    location_id: Annotated[
        str | None, "The location whose figures it could not give (availability)."
    ]


# --- the tree ------------------------------------------------------------------------------------


class GatewayError(Exception):
    # Only subclasses are raised. Were the root itself raised, it would leave as an
    # INTERNAL_SERVER_ERROR carrying its message.
    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_SERVER_ERROR
    details: Mapping[str, object]

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(GatewayError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, message: str, **details: Unpack[NotFoundDetails]) -> None:
        super().__init__(message, **details)


class BadUserInput(GatewayError):
    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, **details: Unpack[BadUserInputDetails]) -> None:
        super().__init__(message, **details)


class InvalidBarcode(BadUserInput):
    code = ErrorCode.INVALID_BARCODE

    def __init__(self, message: str, **details: Unpack[InvalidBarcodeDetails]) -> None:
        # Its details are its own, not BadUserInput's: skip that signature.
        GatewayError.__init__(self, message, **details)


class InsufficientStock(GatewayError):
    """``shortfalls``: one entry per SKU and node that cannot be filled, with what is
    still available there, so a client can offer that quantity instead."""

    code = ErrorCode.INSUFFICIENT_STOCK

    def __init__(self, message: str, **details: Unpack[InsufficientStockDetails]) -> None:
        super().__init__(message, **details)


class IdempotencyKeyReused(GatewayError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED

    def __init__(self, message: str, **details: Unpack[IdempotencyKeyReusedDetails]) -> None:
        super().__init__(message, **details)


class BarcodeConflict(GatewayError):
    code = ErrorCode.BARCODE_CONFLICT

    def __init__(self, message: str, **details: Unpack[BarcodeConflictDetails]) -> None:
        super().__init__(message, **details)


class IllegalTransition(GatewayError):
    code = ErrorCode.ILLEGAL_TRANSITION

    def __init__(self, message: str, **details: Unpack[IllegalTransitionDetails]) -> None:
        super().__init__(message, **details)


class Unauthenticated(GatewayError):
    code = ErrorCode.UNAUTHENTICATED

    def __init__(self, message: str, **details: Unpack[UnauthenticatedDetails]) -> None:
        super().__init__(message, **details)


class Forbidden(GatewayError):
    code = ErrorCode.FORBIDDEN

    def __init__(self, message: str, **details: Unpack[ForbiddenDetails]) -> None:
        super().__init__(message, **details)


class QueryTooCostly(GatewayError):
    code = ErrorCode.QUERY_TOO_COSTLY

    def __init__(self, message: str, **details: Unpack[QueryTooCostlyDetails]) -> None:
        super().__init__(message, **details)


class RateLimited(GatewayError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, **details: Unpack[RateLimitedDetails]) -> None:
        super().__init__(message, **details)


class BackendError(GatewayError):
    code = ErrorCode.BACKEND_ERROR
    # Narrowed so that adding a detail after construction (a Retry-After) is checked too.
    details: BackendErrorDetails

    def __init__(self, message: str, **details: Unpack[BackendErrorDetails]) -> None:
        super().__init__(message, **details)
        self.backend = details["backend"]
        self.status = details.get("status")
        self.backend_code = details.get("backend_code")


class BackendUnavailable(BackendError):
    code = ErrorCode.BACKEND_UNAVAILABLE


class BackendAuthError(BackendError):
    code = ErrorCode.BACKEND_AUTH


class BackendRejected(BackendError):
    code = ErrorCode.BACKEND_REJECTED


ERROR_CLASSES: tuple[type[GatewayError], ...] = (
    NotFound,
    BadUserInput,
    InvalidBarcode,
    InsufficientStock,
    IdempotencyKeyReused,
    BarcodeConflict,
    IllegalTransition,
    Unauthenticated,
    Forbidden,
    QueryTooCostly,
    RateLimited,
    BackendError,
    BackendUnavailable,
    BackendAuthError,
    BackendRejected,
)
_CLASS_OF: Mapping[ErrorCode, type[GatewayError]] = {cls.code: cls for cls in ERROR_CLASSES}


def details_of(code: ErrorCode) -> type | None:
    """The TypedDict declaring the details of errors with this code: the one its class's
    ``__init__`` unpacks. None for the codes no class of ours carries."""
    cls = _CLASS_OF.get(code)
    if cls is None:
        return None
    declared = get_type_hints(cls.__init__, include_extras=True)["details"]
    assert get_origin(declared) is Unpack, f"{cls.__name__}.__init__ must unpack a TypedDict"
    declaration: type = get_args(declared)[0]
    return declaration
