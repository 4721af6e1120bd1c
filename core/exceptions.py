"""Typed API errors and their single mapping to HTTP statuses.

Every error a client can see is one of these classes. :func:`error_payload`
is the only place that turns an error into a status, headers and the JSON-RPC
style envelope of the contract, so that the whole API answers consistently.
"""

import json


class ApiError(Exception):
    """Base of every client-visible error.

    ``message`` is safe to show to the client: it never holds a traceback,
    SQL or a secret. ``name`` is the stable machine-readable code.
    """

    status = 500
    name = "internal_error"
    default_message = "Internal server error"

    def __init__(self, message=None, *, name=None, data=None, headers=None):
        self.message = message or self.default_message
        super().__init__(self.message)
        if name:
            self.name = name
        self.data = dict(data or {})
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    status = 400
    name = "bad_request"
    default_message = "Bad request"


class Unauthorized(ApiError):
    status = 401
    name = "unauthorized"
    default_message = "Authentication required"


class Forbidden(ApiError):
    status = 403
    name = "forbidden"
    default_message = "Access denied"


class NotFound(ApiError):
    status = 404
    name = "not_found"
    default_message = "Record not found"


class MethodNotAllowed(ApiError):
    status = 405
    name = "method_not_allowed"
    default_message = "Operation not allowed on this API"

    def __init__(self, allow=(), message=None, **kwargs):
        super().__init__(message, **kwargs)
        self.headers["Allow"] = ", ".join(sorted(set(allow)))


class Conflict(ApiError):
    status = 409
    name = "conflict"
    default_message = "The operation conflicts with existing data"


class PayloadTooLarge(ApiError):
    status = 413
    name = "payload_too_large"
    default_message = "Request body too large"


class Unprocessable(ApiError):
    status = 422
    name = "validation_error"
    default_message = "The values were refused"


class TooManyRequests(ApiError):
    status = 429
    name = "too_many_requests"
    default_message = "Too many requests"

    def __init__(self, retry_after=60, message=None, **kwargs):
        super().__init__(message, **kwargs)
        self.headers["Retry-After"] = str(int(max(1, retry_after)))


class InternalError(ApiError):
    """Unexpected failure: the message is generic on purpose."""


def envelope(result=None, error=None):
    """Return the JSON-RPC style envelope of the contract as a dict."""
    body = {"jsonrpc": "2.0", "id": None}
    if error is not None:
        body["error"] = error
    else:
        body["result"] = result
    return body


def error_payload(exc, request_id=None):
    """Map any exception to ``(status, headers, body_dict)``.

    Pure function: unknown exceptions become a generic 500 whose message
    reveals nothing but the request id the server logged it under.
    """
    if not isinstance(exc, ApiError):
        exc = InternalError()
    data = {"name": exc.name}
    data.update(exc.data)
    message = exc.message
    if isinstance(exc, InternalError) and request_id:
        message = f"{exc.default_message} (request id {request_id})"
    error = {"code": exc.status, "message": message, "data": data}
    return exc.status, dict(exc.headers), envelope(error=error)


def dumps(body):
    """Serialize a response body compactly; non-JSON values become strings."""
    return json.dumps(body, default=str, ensure_ascii=False, separators=(",", ":"))
