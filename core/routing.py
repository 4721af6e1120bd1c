"""Resolution of a path under ``/api/`` to an API and an operation."""

import re

from .exceptions import MethodNotAllowed, NotFound

ROUTE_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*(/[a-z0-9][a-z0-9_\-]*)*$")
RESERVED_PREFIXES = (
    "web",
    "website",
    "longpolling",
    "xmlrpc",
    "jsonrpc",
    "json",
    "odoo",
    # The addon's own fixed routes.
    "oauth2",
    "jwt",
    "image",
    "openapi.json",
    "docs",
)
MAX_PATH = 16384
METHOD_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MODEL_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


def check_route(route):
    """Return an error message for an invalid route, or ``None``."""
    if not route or not ROUTE_RE.match(route):
        return (
            "A route is one or more lowercase segments of letters, digits, "
            "'-' and '_', separated by '/', with no leading or trailing '/'"
        )
    head = route.split("/", 1)[0]
    if head in RESERVED_PREFIXES:
        return f"The route prefix '{head}' is reserved"
    return None


def split_route(path, routes):
    """Find the longest configured route that prefixes ``path``.

    ``routes`` maps route text to a value (the API id). Returns
    ``(value, remaining segments)`` or raises :class:`NotFound`.
    """
    if len(path) > MAX_PATH:
        raise NotFound("Unknown route", name="unknown_route")
    segments = [segment for segment in path.strip("/").split("/")]
    if not segments or any(not segment for segment in segments):
        raise NotFound("Unknown route", name="unknown_route")
    for size in range(len(segments), 0, -1):
        value = routes.get("/".join(segments[:size]))
        if value is not None:
            return value, segments[size:]
    raise NotFound("Unknown route", name="unknown_route")


def operation_for(http_method, rest):
    """Map an HTTP method and the path after the route to an operation.

    Returns ``(operation, record id text or None, rpc method or None)``.
    The path shapes are those of the contract; anything else is 404, and a
    known shape with an unsupported method is 405 with ``Allow``.
    """
    n = len(rest)
    if n == 0:
        # PUT is a synonym of PATCH on one record only, as the contract says.
        table = {
            "GET": "search",
            "POST": "create",
            "PATCH": "update",
            "DELETE": "delete",
        }
        allow = ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
        record_id = method = None
    elif n == 1:
        table = {"GET": "read", "PATCH": "update", "PUT": "update", "DELETE": "delete"}
        allow = ("GET", "PATCH", "PUT", "DELETE", "OPTIONS")
        record_id, method = rest[0], None
    elif n == 2:
        table = {"POST": "rpc"}
        allow = ("POST", "OPTIONS")
        if not METHOD_RE.match(rest[1]):
            raise NotFound("Unknown route", name="unknown_route")
        record_id = None if rest[0] == "call" else rest[0]
        method = rest[1]
    else:
        raise NotFound("Unknown route", name="unknown_route")
    operation = table.get(http_method)
    if operation is None:
        raise MethodNotAllowed(allow)
    return operation, record_id, method


def allowed_methods(enabled_operations, shape):
    """HTTP methods answering on a path ``shape``.

    ``shape`` is ``collection``, ``record`` or ``rpc``.
    """
    by_shape = {
        "collection": {
            "search": ("GET",),
            "create": ("POST",),
            "update": ("PATCH",),
            "delete": ("DELETE",),
        },
        "record": {"read": ("GET",), "update": ("PATCH", "PUT"), "delete": ("DELETE",)},
        "rpc": {"rpc": ("POST",)},
    }[shape]
    methods = {"OPTIONS"}
    for operation, verbs in by_shape.items():
        if operation in enabled_operations:
            methods.update(verbs)
    return tuple(sorted(methods))


def shape_of(rest):
    return ("collection", "record", "rpc")[min(len(rest), 2)]
