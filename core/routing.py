"""Resolution of a path under ``/api/`` to an API and an operation."""

import re

from . import operations
from .exceptions import MethodNotAllowed, NotFound
from .messages import _lt

ROUTE_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*(/[a-z0-9][a-z0-9_\-]*)*\Z")
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
# The path word of the aggregate operation, ``/api/<route>/aggregate``: it is
# never a record id. Plain ids are digits; a Hashids id of one number never
# holds a separator letter of the Hashids alphabet (c f h i s t u, in either
# case), and "aggregate" holds a "t" (tests/core/test_aggregate.py checks
# this on the codec itself). Routing resolves the word before any id is
# decoded, and a route may not end with it (it would hide that operation of
# the API at the route before it).
AGGREGATE = "aggregate"
METHOD_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
MODEL_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\Z")
# The addon's own routes under /api/, served by the same pipeline.
FIXED_ROUTES = {
    "oauth2/token": "token",
    "jwt/token": "jwt",
    "oauth2/revoke": "revoke",
    "oauth2/introspect": "introspect",
    "openapi.json": "openapi",
    "docs": "docs",
    "oauth2/authorize": "authorize",
}
# OAuth discovery documents, at the server's root (outside /api/).
DISCOVERY_ROUTES = {
    "/.well-known/oauth-authorization-server": "authorization_server",
    "/.well-known/oauth-protected-resource": "protected_resource",
}
# Routes answered in RFC 6749's error style instead of the envelope.
TOKEN_ROUTES = ("token", "jwt", "revoke", "introspect")


def check_route(route):
    """Return an error message for an invalid route, or ``None``."""
    if not route or not ROUTE_RE.match(route):
        return _lt(
            "A route is one or more lowercase segments of letters, digits, "
            "'-' and '_', separated by '/', with no leading or trailing '/'"
        )
    head = route.split("/", 1)[0]
    if head in RESERVED_PREFIXES:
        return _lt("The route prefix '%(prefix)s' is reserved", prefix=head)
    if "/" in route and route.rsplit("/", 1)[1] == AGGREGATE:
        return _lt(
            "A route cannot end with '/%(word)s': it names an operation",
            word=AGGREGATE,
        )
    return None


def split_route(path, routes):
    """Find the longest configured route that prefixes ``path``.

    ``routes`` maps route text to a value (the API id). Returns
    ``(value, remaining segments)`` or raises :class:`NotFound`.
    """
    found = find_route(path, routes)
    if found is None:
        raise NotFound(_lt("Unknown route"), name="unknown_route")
    return found


def find_route(path, routes):
    """:func:`split_route`'s answer, or ``None`` for an unknown route."""
    if len(path) > MAX_PATH:
        return None
    segments = [segment for segment in path.strip("/").split("/")]
    if not segments or any(not segment for segment in segments):
        return None
    for size in range(len(segments), 0, -1):
        value = routes.get("/".join(segments[:size]))
        if value is not None:
            return value, segments[size:]
    return None


def fixed_route(path):
    """The addon's own route that ``path`` (after ``/api/``) names, or ``None``.

    Returns ``token``, ``jwt``, ``revoke``, ``introspect``, ``openapi``,
    ``docs``, ``authorize`` or ``binary``; anything else is an API route.
    """
    name = FIXED_ROUTES.get(path.strip("/"))
    if name:
        return name
    if path.startswith("image/"):
        return "binary"
    return None


def binary_parts(path):
    """``(api id, model, record id text, field)`` of a binary URL, or 404."""
    parts = path.strip("/").split("/")
    if (
        len(parts) != 5
        or not parts[1].isdigit()
        or len(parts[1]) > 9
        or not MODEL_RE.match(parts[2])
        or not METHOD_RE.match(parts[4])
        or not parts[3]
    ):
        raise NotFound(_lt("Unknown route"), name="unknown_route")
    return int(parts[1]), parts[2], parts[3], parts[4]


def shape_of(rest):
    """The path shape of what follows an API's route (see ``operations``)."""
    if len(rest) == 3 and rest[0] == "by":
        return "key"
    if len(rest) == 1 and rest[0] == AGGREGATE:
        return "aggregate"
    if len(rest) > 2:
        raise NotFound(_lt("Unknown route"), name="unknown_route")
    return ("collection", "record", "rpc")[len(rest)]


def operation_for(http_method, rest):
    """Map an HTTP method and the path after the route to an operation.

    Returns ``(operation name, record id text or None, rpc method or None)``.
    The path shapes are those of the contract; anything else is 404, and a
    known shape with an unsupported method is 405 with ``Allow``.
    """
    shape = shape_of(rest)
    record_id = method = None
    if shape == "record":
        record_id = rest[0]
    elif shape == "key":
        # ``method`` names the key field's alias, ``record_id`` its value.
        method, record_id = rest[1], rest[2]
    elif shape == "rpc":
        if not METHOD_RE.match(rest[1]):
            raise NotFound(_lt("Unknown route"), name="unknown_route")
        record_id = None if rest[0] == "call" else rest[0]
        method = rest[1]
    operation = operations.for_route(shape, http_method)
    if operation is None:
        raise MethodNotAllowed(operations.methods_of(shape))
    return operation.name, record_id, method
