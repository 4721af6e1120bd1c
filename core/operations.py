"""The operations an API can serve, declared once.

Routing, scopes, generated endpoints, the OpenAPI and Postman builders, the
docs page and the live-test wizard all read :data:`OPERATIONS`: adding an
operation means adding it here, writing the code that runs it, and showing
it in the views.

A path *shape* is what follows the API's route (and, on multi-model APIs, the
model): ``collection`` (nothing), ``record`` (``<id>``) and ``rpc``
(``<id>/<method>`` or ``call/<method>``). The binary route has a shape of its
own, ``binary``, outside the API's route.
"""

from dataclasses import dataclass

# The scope words of the contract, in its order. Tokens carry them as text.
SCOPES = ("create", "read", "update", "delete", "search", "rpc")
SHAPES = ("collection", "record", "rpc", "key", "binary")
# Path templates of the generated endpoints, by shape.
PATH_SUFFIX = {
    "collection": "",
    "record": "/{id}",
    "rpc": "/{id}/{method}",
    "key": "/by/{field}/{value}",
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
