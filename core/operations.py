"""The operations an API can serve, declared once.

Routing, scopes, generated endpoints, the OpenAPI and Postman builders, the
docs page and the live-test wizard all read :data:`OPERATIONS`: adding an
operation means adding it here, writing the code that runs it, and showing
it in the views.

A path *shape* is what follows the API's route (and, on multi-model APIs, the
model): ``collection`` (nothing), ``record`` (``<id>``) and ``rpc``
(``<id>/<method>`` or ``call/<method>``), ``key`` (``by/<field>/<value>``)
and ``aggregate`` (the word ``aggregate``, which no record id can be: see
``routing.AGGREGATE``). The binary route has a shape of its own, ``binary``,
outside the API's route.
"""

from dataclasses import dataclass

from .exceptions import (
    BadRequest,
    CompanyNotAllowed,
    Conflict,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    OAuthError,
    PayloadTooLarge,
    PreconditionFailed,
    RangeNotSatisfiable,
    ResyncRequired,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)

# The scope words of the contract, in its order. Tokens carry them as text.
SCOPES = ("create", "read", "update", "delete", "search", "rpc")
SHAPES = ("collection", "record", "rpc", "key", "aggregate", "binary")
# Path templates of the generated endpoints, by shape.
PATH_SUFFIX = {
    "collection": "",
    "record": "/{id}",
    "rpc": "/{id}/{method}",
    "key": "/by/{field}/{value}",
    "aggregate": "/aggregate",
    "binary": "/{id}/{field}",
}


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    label: str
    # ``(shape, HTTP method)`` pairs the operation answers, the main one first.
    routes: tuple
    # The scope a token needs, and the operation whose switch (``allow_*``
    # and generated endpoint) turns this one on and off.
    scope: str
    switch: str
    writes: bool
    # Whether it gets a generated endpoint of its own.
    generated: bool = True

    @property
    def http_method(self):
        return self.routes[0][1]

    @property
    def shape(self):
        return self.routes[0][0]

    @property
    def needs_id(self):
        return self.shape in ("record", "binary")

    @property
    def path_suffix(self):
        return PATH_SUFFIX[self.shape]


OPERATIONS = (
    Operation(
        "search",
        "Search",
        (("collection", "GET"), ("collection", "HEAD")),
        "search",
        "search",
        False,
    ),
    Operation(
        "read", "Read", (("record", "GET"), ("record", "HEAD")), "read", "read", False
    ),
    Operation("create", "Create", (("collection", "POST"),), "create", "create", True),
    Operation(
        "update",
        "Update",
        (("record", "PATCH"), ("record", "PUT"), ("collection", "PATCH")),
        "update",
        "update",
        True,
    ),
    Operation(
        "delete",
        "Delete",
        (("record", "DELETE"), ("collection", "DELETE")),
        "delete",
        "delete",
        True,
    ),
    Operation("rpc", "RPC", (("rpc", "POST"),), "rpc", "rpc", True),
    # Grouped counts and measures (read_group): a search, by its scope, with
    # a switch of its own.
    Operation(
        "aggregate",
        "Aggregate",
        (("aggregate", "GET"), ("aggregate", "HEAD")),
        "search",
        "aggregate",
        False,
    ),
    # Upsert by a key field: an update that may create (which then also
    # needs the create operation and scope).
    Operation(
        "upsert", "Upsert", (("key", "PUT"),), "update", "update", True, generated=False
    ),
    # Binary downloads are reads: the read switch, endpoint and scope govern them.
    Operation(
        "binary",
        "Binary",
        (("binary", "GET"), ("binary", "HEAD")),
        "read",
        "read",
        False,
        generated=False,
    ),
)
BY_NAME = {operation.name: operation for operation in OPERATIONS}
# The operations an admin switches on and off (``allow_<name>``), in order.
GENERATED = tuple(op.name for op in OPERATIONS if op.generated)


def get(name):
    return BY_NAME[name]


def for_route(shape, http_method):
    """The operation serving ``http_method`` on ``shape``, or ``None``."""
    for operation in OPERATIONS:
        if (shape, http_method) in operation.routes:
            return operation
    return None


def methods_of(shape, enabled=None):
    """HTTP methods answering on ``shape`` (only of ``enabled`` operations
    when given), plus ``OPTIONS``, sorted."""
    methods = {"OPTIONS"}
    for operation in OPERATIONS:
        if enabled is not None and operation.switch not in enabled:
            continue
        methods.update(verb for kind, verb in operation.routes if kind == shape)
    return tuple(sorted(methods))


def endpoint_values(operation_name, base_path):
    """``http_method`` and ``path`` of the generated endpoint of an operation."""
    operation = BY_NAME[operation_name]
    return {
        "http_method": operation.http_method,
        "path": f"{base_path}{operation.path_suffix}",
    }


def selection():
    """Selection pairs of the generated operations, for Odoo fields."""
    return [(op.name, op.label) for op in OPERATIONS if op.generated]


# ----------------------------------------------------------------------
# What each operation answers, declared once
# ----------------------------------------------------------------------
# The OpenAPI document lists exactly these statuses for every operation, and
# a core test (tests/core/test_documents_statuses.py) holds them to the
# code: every error class that an operation's code path in the engine
# raises must be declared here, for its operation or as shared.

# Errors every REST operation can answer, from the steps each request goes
# through (``secure.api.engine``: _serve, _serve_rest, _resolve_operation,
# _run) and from the ORM, whatever the operation asks of it.
PIPELINE_ERRORS = (
    # A parameter, a header (Idempotency-Key) or the body, which is parsed
    # for every method, GET and DELETE included; a value PostgreSQL cannot
    # store or compare.
    BadRequest,
    # No or bad credentials (RFC 6750).
    Unauthorized,
    # The token's scope, the client app, CSRF, the user's access rights.
    Forbidden,
    # X-Company-Id naming a company that is not the execution user's.
    CompanyNotAllowed,
    # The route, API, endpoint, model, record or method.
    NotFound,
    # An operation the API does not enable (creating, on an upsert).
    MethodNotAllowed,
    # A body over the limit, whatever the method.
    PayloadTooLarge,
    # A rate limit or quota of the client app or the API (traffic policy).
    TooManyRequests,
    # Odoo's UserError and ValidationError: writes' refusals, but any ORM
    # call may raise them (a custom search method, a computed field).
    Unprocessable,
    InternalError,
)
# What every write adds: an Idempotency-Key still in progress (its reuse
# for another request is a 422), a unique constraint, and Odoo giving up
# replaying a serialization failure (ir.http answers 409). Reads write
# nothing and run on read-only cursors.
WRITE_ERRORS = (Conflict,)
# Writes to one record take If-Match (RFC 9110 13.1.1).
IF_MATCH_ERRORS = (PreconditionFailed,)
# Path shapes naming one record (If-Match applies to them only).
ONE_RECORD_SHAPES = ("record", "key", "binary")


@dataclass(frozen=True, slots=True)
class Answers:
    """What one operation answers besides :data:`PIPELINE_ERRORS`."""

    # Statuses without an error object: successes, 304, and the file
    # server's 206 (a Range request) for binary downloads.
    statuses: tuple
    # Error classes on every path shape of the operation.
    errors: tuple = ()
    # Error classes on the shapes of :data:`ONE_RECORD_SHAPES` only.
    one_record_errors: tuple = ()


ANSWERS = {
    # 410: changed_since older than the removals a sync_deletions API keeps.
    "search": Answers(("200",), (ResyncRequired,)),
    "aggregate": Answers(("200",)),
    # 304: If-None-Match names the record's current ETag.
    "read": Answers(("200", "304")),
    # 201 with the record, or {"id": ...} with Prefer: return=minimal.
    "create": Answers(("201",), WRITE_ERRORS),
    # 204: Prefer: return=minimal.
    "update": Answers(("200", "204"), WRITE_ERRORS, IF_MATCH_ERRORS),
    "delete": Answers(("200",), WRITE_ERRORS, IF_MATCH_ERRORS),
    "rpc": Answers(("200",), WRITE_ERRORS),
    # 200 updated (204 minimal), 201 created; 409 also for an ambiguous key.
    "upsert": Answers(("200", "201", "204"), WRITE_ERRORS, IF_MATCH_ERRORS),
    "binary": Answers(("200", "206", "304"), (RangeNotSatisfiable,)),
}

# The token server (/api/oauth2/*, /api/jwt/token) answers RFC 6749 5.2
# errors: OAuthError with the status of its code, 400 (invalid_request,
# invalid_scope, unsupported_grant_type, unauthorized_client) or 401
# (invalid_client), or 405 to a method other than POST (which is no
# documented operation); a body over the limit, the lockout of a party that
# keeps failing, and unexpected failures.
TOKEN_ERRORS = (OAuthError, PayloadTooLarge, TooManyRequests, InternalError)
OAUTH_ERROR_STATUSES = ("400", "401")


def error_classes(name, shape=None):
    """The error classes operation ``name`` can raise on ``shape`` (its
    main shape by default), shared ones included, by status."""
    answers = ANSWERS[name]
    shape = shape or BY_NAME[name].shape
    classes = PIPELINE_ERRORS + answers.errors
    if shape in ONE_RECORD_SHAPES:
        classes += answers.one_record_errors
    return tuple(sorted(set(classes), key=lambda cls: (cls.status, cls.__name__)))


def error_statuses(name, shape=None):
    """The error statuses of :func:`error_classes`, as text, sorted."""
    return tuple(sorted({str(cls.status) for cls in error_classes(name, shape)}))


def statuses(name, shape=None):
    """Every status operation ``name`` can answer on ``shape``, as text,
    sorted: those without an error object first."""
    return tuple(sorted(ANSWERS[name].statuses)) + error_statuses(name, shape)


def token_error_statuses():
    """The error statuses of a documented (POST) token server operation."""
    others = {str(cls.status) for cls in TOKEN_ERRORS if cls is not OAuthError}
    return tuple(sorted(others | set(OAUTH_ERROR_STATUSES)))
