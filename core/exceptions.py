"""Typed API errors and the one mapping from any exception to an answer.

Every error a client can see is one of the :class:`ApiError` classes.
:func:`to_api_error` turns any exception (ours, Odoo's, PostgreSQL's) into
one of them through :data:`FOREIGN_ERRORS`, without importing those
frameworks, and :func:`render_error` is the only place that turns an error
into a status, headers and a body: the JSON-RPC style envelope of the
contract, or RFC 6749's error object on the token routes.
"""

import json
import math

from .messages import _lt, translate

# Serialization failures, deadlocks and lock timeouts: Odoo replays the
# whole request, so they must reach its retry loop untouched.
RETRYABLE_PGCODES = frozenset({"40001", "40P01", "55P03"})


def www_authenticate(error=None, description=None, scope=None, realm="secure_api"):
    """Build an RFC 6750 ``WWW-Authenticate`` header value."""
    parts = [f'realm="{realm}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append('error_description="{}"'.format(description.replace('"', "'")))
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


class ApiError(Exception):
    """Base of every client-visible error.

    ``message`` is safe to show to the client: it never holds a traceback,
    SQL or a secret. ``name`` is the stable machine-readable code.
    """

    status = 500
    name = "internal_error"
    default_message = _lt("Internal server error")
    description = "Unexpected error; the message names the logged request id"

    def __init__(self, message=None, *, name=None, data=None, headers=None):
        self.message = message or self.default_message
        super().__init__(self.message)
        if name:
            self.name = name
        self.data = dict(data or {})
        self.headers = dict(headers or {})

    def at_index(self, index):
        """Name the failing item of a bulk request."""
        self.message = _lt(
            "Item %(index)s: %(message)s", index=index, message=self.message
        )
        self.data["index"] = index
        if "path" in self.data:
            # The line's path inside the request body, bulk item included.
            self.data["path"] = f"[{index}].{self.data['path']}"
        return self

    def at_path(self, path):
        """Name the failing line of a nested write: ``data.path``, e.g.
        ``child_ids[2].email`` (indexes from 0, as bulk items)."""
        self.message = _lt("%(path)s: %(message)s", path=path, message=self.message)
        self.data["path"] = path
        return self


class BadRequest(ApiError):
    status = 400
    name = "bad_request"
    default_message = _lt("Bad request")
    description = (
        "Malformed parameters, bad domain, unknown or non-writable field, bad JSON, "
        "values that cannot be compared or stored"
    )


class Unauthorized(ApiError):
    """401 with RFC 6750's challenge; an error code only when credentials
    were sent (section 3)."""

    status = 401
    name = "unauthorized"
    default_message = _lt("Authentication required")
    description = "No or invalid credentials"
    CODES = ("invalid_token", "invalid_request")

    def __init__(self, message=None, **kwargs):
        super().__init__(message, **kwargs)
        if "WWW-Authenticate" not in self.headers:
            code = self.name if self.name in self.CODES else None
            self.headers["WWW-Authenticate"] = www_authenticate(
                code, self.message if code else None
            )


class Forbidden(ApiError):
    status = 403
    name = "forbidden"
    default_message = _lt("Access denied")
    description = "The scope or the user's access rights forbid it"


class InsufficientScope(Forbidden):
    """RFC 6750 3.1: the token lacks the scope the operation needs."""

    name = "insufficient_scope"

    def __init__(self, scope):
        super().__init__(
            _lt("The token's scope does not include '%(scope)s'", scope=scope),
            # RFC 6750 3: the header's description is ASCII, never translated.
            headers={
                "WWW-Authenticate": www_authenticate(
                    "insufficient_scope", f"This call needs the '{scope}' scope", scope
                )
            },
        )


class IpNotAllowed(Forbidden):
    name = "ip_not_allowed"
    default_message = _lt(
        "Requests from this address are not allowed for this client app"
    )
    description = (
        "The client app only accepts requests from the addresses of its allowlist"
    )


class CompanyNotAllowed(Forbidden):
    """``X-Company-Id`` names a company the execution user may not work in."""

    name = "company_not_allowed"
    default_message = _lt("The execution user may not work in this company")
    description = "X-Company-Id names a company that is not one of the execution user's"


class NotFound(ApiError):
    status = 404
    name = "not_found"
    default_message = _lt("Record not found")
    description = (
        "Unknown route, inactive API or endpoint, or a record that does not exist "
        "or lies outside the API"
    )


class MethodNotAllowed(ApiError):
    status = 405
    name = "method_not_allowed"
    default_message = _lt("Operation not allowed on this API")
    description = "Operation not enabled on this API"

    def __init__(self, allow=(), message=None, **kwargs):
        super().__init__(message, **kwargs)
        self.headers["Allow"] = ", ".join(sorted(set(allow)))


class Conflict(ApiError):
    status = 409
    name = "conflict"
    default_message = _lt("The operation conflicts with existing data")
    description = (
        "Integrity conflict (unique constraint), an ambiguous upsert key, or an "
        "idempotency key still in progress"
    )


class PreconditionFailed(ApiError):
    status = 412
    name = "precondition_failed"
    default_message = _lt("The record changed since the ETag the request names")
    description = "If-Match does not match the record's current ETag"


class ResyncRequired(ApiError):
    """``changed_since`` older than the removals the server still keeps: an
    incremental sync would miss some, so the client must sync in full."""

    status = 410
    name = "resync_required"
    default_message = _lt(
        "'changed_since' is older than the removals this API keeps: synchronise in full"
    )
    description = (
        "changed_since is older than the deletions an API that syncs them "
        "keeps (secure_api.tombstone_days, or since it keeps them): "
        "synchronise in full"
    )


class PayloadTooLarge(ApiError):
    status = 413
    name = "payload_too_large"
    default_message = _lt("Request body too large")
    description = "Body larger than the configured maximum"


class RangeNotSatisfiable(ApiError):
    """RFC 9110 15.5.17: a binary download's ``Range`` the file cannot
    satisfy; ``Content-Range`` gives the file's size."""

    status = 416
    name = "range_not_satisfiable"
    default_message = _lt("The requested range is not satisfiable")
    description = "Range names no satisfiable part of the file; see Content-Range"

    def __init__(self, size, message=None, **kwargs):
        super().__init__(message, **kwargs)
        self.headers["Content-Range"] = f"bytes */{size}"


class Unprocessable(ApiError):
    status = 422
    name = "validation_error"
    default_message = _lt("The values were refused")
    description = (
        "Odoo refused the values, a write would leave the API's domain, or an "
        "idempotency key was reused for another request"
    )


class TooManyRequests(ApiError):
    status = 429
    name = "too_many_requests"
    default_message = _lt("Too many requests")
    description = (
        "A rate limit or quota of the client app or the API is reached, or the "
        "token endpoint locked a failing party out; see Retry-After"
    )

    def __init__(self, retry_after=60, message=None, **kwargs):
        super().__init__(message, **kwargs)
        # Rounded up: a client that waits exactly this long is let through.
        self.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))


class RateLimited(TooManyRequests):
    name = "rate_limited"
    default_message = _lt("Rate limit reached: retry later")
    description = (
        "A rate limit of the client app or the API is reached; see Retry-After"
    )


class QuotaExceeded(TooManyRequests):
    name = "quota_exceeded"
    default_message = _lt("Quota exceeded: retry in the next period")
    description = "The client app's daily or monthly quota is used up; see Retry-After"


class InternalError(ApiError):
    """Unexpected failure: the message is generic on purpose."""


class OAuthError(ApiError):
    """An RFC 6749 5.2 error with its own code and status."""

    status = 400
    name = "invalid_request"

    def __init__(self, name, message, status=400, headers=None):
        super().__init__(message, name=name, headers=headers)
        self.status = status


# Exceptions of the frameworks below us, by qualified class name, so that
# this module maps them without importing them. The first class of an
# exception's MRO found here wins (Odoo's AccessError is a UserError).
FOREIGN_ERRORS = {
    "odoo.exceptions.AccessDenied": (Unauthorized, "unauthorized", None),
    "odoo.exceptions.AccessError": (
        Forbidden,
        "access_denied",
        _lt("You are not allowed to do this"),
    ),
    "odoo.exceptions.MissingError": (NotFound, None, None),
    "odoo.exceptions.ValidationError": (Unprocessable, None, ...),
    "odoo.exceptions.UserError": (Unprocessable, None, ...),
    "psycopg2.errors.NotNullViolation": (
        Unprocessable,
        "missing_value",
        _lt("A required value is missing"),
    ),
    "psycopg2.errors.CheckViolation": (Unprocessable, "check_violation", None),
    "psycopg2.IntegrityError": (Conflict, "integrity_error", None),
    "psycopg2.DataError": (
        BadRequest,
        "invalid_value",
        _lt("A value cannot be stored"),
    ),
    "werkzeug.exceptions.RequestEntityTooLarge": (PayloadTooLarge, None, None),
    # A path the router cannot match (a newline, say) never reaches the route.
    "werkzeug.exceptions.NotFound": (NotFound, "unknown_route", _lt("Unknown route")),
    "werkzeug.exceptions.BadRequest": (BadRequest, None, None),
    # Numbers too large for Odoo's rounding: always a value the client sent.
    "builtins.OverflowError": (
        BadRequest,
        "invalid_value",
        _lt("A number is out of range"),
    ),
}
# Statuses the API can answer, for documents (OpenAPI) and tests.
ERROR_CLASSES = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    ResyncRequired,
    PreconditionFailed,
    PayloadTooLarge,
    RangeNotSatisfiable,
    Unprocessable,
    TooManyRequests,
    InternalError,
)
STATUS_DESCRIPTIONS = {str(cls.status): cls.description for cls in ERROR_CLASSES}


def is_retryable(exc):
    """Whether Odoo's request loop must see ``exc`` to replay the request."""
    return getattr(exc, "pgcode", None) in RETRYABLE_PGCODES


def _odoo_message(exc):
    message = exc.args[0] if exc.args else None
    return str(message) if message else None


def to_api_error(exc):
    """The client-visible error for any exception.

    Unknown exceptions become :class:`InternalError`, whose message says
    nothing about them.
    """
    if isinstance(exc, ApiError):
        return exc
    for klass in type(exc).__mro__:
        entry = FOREIGN_ERRORS.get(f"{klass.__module__}.{klass.__qualname__}")
        if entry is not None:
            error_class, name, message = entry
            if message is ...:
                message = _odoo_message(exc)
            return error_class(message, name=name)
    return InternalError()


def envelope(result=None, error=None):
    """Return the JSON-RPC style envelope of the contract as a dict."""
    body = {"jsonrpc": "2.0", "id": None}
    if error is not None:
        body["error"] = error
    else:
        body["result"] = result
    return body


# RFC 6749 5.2 codes for errors the token routes share with the others.
OAUTH_CODES = {401: "invalid_client", 500: "server_error"}


def render_error(exc, request_id=None, style="envelope", gettext=None):
    """Map any exception to ``(status, headers, body dict)``.

    ``style`` is ``envelope`` (the contract's) or ``oauth`` (RFC 6749 5.2's
    ``{"error", "error_description"}``, for the token routes). ``gettext``
    translates the envelope's message (the client's ``Accept-Language``);
    RFC 6749's descriptions stay in English, as that RFC wants them ASCII.
    """
    error = to_api_error(exc)
    message = error.message
    internal = isinstance(error, InternalError)
    if internal and request_id:
        message = _lt(
            "%(message)s (request id %(request_id)s)",
            message=error.default_message,
            request_id=request_id,
        )
    headers = dict(error.headers)
    if style == "oauth":
        if isinstance(error, OAuthError | TooManyRequests):
            code = error.name
        else:
            code = OAUTH_CODES.get(error.status, "invalid_request")
            headers.pop("WWW-Authenticate", None)
        return error.status, headers, {"error": code, "error_description": message}
    if gettext is not None:
        message = translate(message, gettext)
    data = {"name": error.name}
    data.update(error.data)
    body = envelope(error={"code": error.status, "message": message, "data": data})
    return error.status, headers, body


def dumps(body):
    """Serialize a response body compactly; non-JSON values become strings."""
    return json.dumps(body, default=str, ensure_ascii=False, separators=(",", ":"))
