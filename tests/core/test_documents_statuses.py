"""Every status an operation can answer is declared once and documented.

``core.operations`` declares the errors of each operation (and those every
operation shares); these tests hold that declaration to the engine's code,
read as syntax trees (nothing imports Odoo), and the OpenAPI document and
Postman collection to the declaration.
"""

import ast
import inspect
import pathlib
import re

import pytest
import test_documents as fixtures

from core import exceptions, operations
from core.openapi import BUILDERS, build_openapi, token_paths
from core.postman import build_postman

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENGINE = "secure.api.engine"
# The steps of the pipeline every REST request takes, before and around
# its operation (``_run`` hands writes with a key to ``_run_idempotent``).
PIPELINE_ROOTS = ("_serve", "_serve_rest", "_resolve_operation", "_run", "_run_once")
BINARY_ROOTS = ("_serve", "_serve_binary")
IDEMPOTENCY_ROOTS = ("_run_idempotent",)
TOKEN_ROOTS = {
    ENGINE: ("_serve", "_serve_oauth"),
    "secure.api.oauth": (
        "_serve",
        "_serve_token",
        "_serve_jwt",
        "_serve_revoke",
        "_serve_introspect",
    ),
}


def api_error_class(name):
    klass = getattr(exceptions, name, None)
    if inspect.isclass(klass) and issubclass(klass, exceptions.ApiError):
        return klass
    return None


class CodeIndex:
    """The functions of ``core/`` and ``models/``, and what each calls.

    Calls are resolved as far as the source tells: ``self._m()`` to the
    methods of the same model, ``<x>.env["model"]..._m()`` to that model's,
    ``module.f()`` and imported names to ``core``'s functions, and a method
    or property of a ``core`` class by its name, wherever it is used.
    """

    def __init__(self):
        self.core_functions = {}  # (module, name) -> node
        self.core_members = {}  # method or property name -> [node]
        self.core_properties = set()  # ids of the members that are properties
        self.core_classes = {}  # (module, name) -> ClassDef
        self.model_methods = {}  # (model, name) -> [node]
        self.context = {}  # id(node) -> (imports, module or None, models)
        for path in sorted((ROOT / "core").glob("*.py")):
            self._read_core(path)
        for path in sorted((ROOT / "models").glob("*.py")):
            self._read_models(path)

    @staticmethod
    def _imports(tree):
        """``{local name: (core module, name or None)}`` of a file."""
        names = {}
        for node in tree.body:
            if not isinstance(node, ast.ImportFrom):
                continue
            module = node.module or ""
            parts = module.split(".")
            for alias in node.names:
                local = alias.asname or alias.name
                if node.level and module in ("core", ""):
                    # ``from ..core import params`` / ``from . import x``
                    names[local] = (alias.name, None)
                elif node.level and parts[0] == "core":
                    names[local] = (parts[-1], alias.name)
                elif node.level == 1 and len(parts) == 1:
                    # ``from .exceptions import X`` inside core
                    names[local] = (module, alias.name)
        return names

    def _read_core(self, path):
        tree = ast.parse(path.read_text())
        module, imports = path.stem, self._imports(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                self.core_functions[(module, node.name)] = node
                self.context[id(node)] = (imports, module, ())
            elif isinstance(node, ast.ClassDef):
                self.core_classes[(module, node.name)] = node
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        self.core_members.setdefault(item.name, []).append(item)
                        self.context[id(item)] = (imports, module, ())
                        if any(
                            getattr(d, "id", getattr(d, "attr", "")).endswith(
                                "property"
                            )
                            for d in item.decorator_list
                        ):
                            self.core_properties.add(id(item))

    @staticmethod
    def _model_names(klass):
        names = []
        for item in klass.body:
            if isinstance(item, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("_name", "_inherit")
                for t in item.targets
            ):
                value = item.value
                values = value.elts if isinstance(value, ast.List) else [value]
                names += [v.value for v in values if isinstance(v, ast.Constant)]
        return tuple(names)

    def _read_models(self, path):
        tree = ast.parse(path.read_text())
        imports = self._imports(tree)
        for klass in tree.body:
            if not isinstance(klass, ast.ClassDef):
                continue
            models = self._model_names(klass)
            for item in klass.body:
                if isinstance(item, ast.FunctionDef):
                    for model in models:
                        self.model_methods.setdefault((model, item.name), []).append(
                            item
                        )
                    self.context[id(item)] = (imports, None, models)

    @staticmethod
    def _env_model(node):
        """The model of ``<x>.env["model"]...`` at the root of a call chain."""
        while True:
            if isinstance(node, ast.Subscript):
                key = node.slice
                if (
                    isinstance(node.value, ast.Attribute)
                    and node.value.attr == "env"
                    and isinstance(key, ast.Constant)
                ):
                    return key.value
                node = node.value
            elif isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call):
                node = node.func
            else:
                return None

    def _name_target(self, name, imports, module):
        """Functions, and the API error class, a bare name stands for."""
        origin = imports.get(name)
        if origin and origin[1]:
            module, name = origin
        if module == "exceptions" and api_error_class(name):
            return [], api_error_class(name)
        found = self.core_functions.get((module, name))
        if found is not None:
            return [found], None
        klass = self.core_classes.get((module, name))
        if klass is not None:
            # Making an instance runs its __init__.
            return [
                item
                for item in klass.body
                if isinstance(item, ast.FunctionDef) and item.name == "__init__"
            ], None
        return [], None

    def _attribute_target(self, node, imports, models, called=True):
        """Functions, and the API error class, an attribute stands for
        (``called``: it is the function of a call, not a mere value)."""
        value = node.value
        if isinstance(value, ast.Name) and value.id in imports:
            module, name = imports[value.id]
            if name is None:
                return self._name_target(node.attr, {}, module)
        if isinstance(value, ast.Name) and value.id == "self" and models:
            return [
                method
                for model in models
                for method in self.model_methods.get((model, node.attr), [])
            ], None
        model = self._env_model(value)
        if model is not None:
            return self.model_methods.get((model, node.attr), []), None
        members = self.core_members.get(node.attr, [])
        if not called:
            # ``call.operation`` is a value; only a property runs code.
            members = [m for m in members if id(m) in self.core_properties]
        return list(members), None

    def _target(self, node, context, functions=()):
        imports, module, models = context
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            return self._name_target(node.id, imports, module)
        if isinstance(node, ast.Attribute):
            called = id(node) in functions
            return self._attribute_target(node, imports, models, called)
        return [], None

    @staticmethod
    def _not_made(function):
        """Nodes naming an error class without making one: the classes an
        ``except`` catches and those ``isinstance()`` compares with."""
        skipped = set()
        for node in ast.walk(function):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                skipped |= {id(sub) for sub in ast.walk(node.type)}
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("isinstance", "issubclass")
                and len(node.args) == 2
            ):
                skipped |= {id(sub) for sub in ast.walk(node.args[1])}
        return skipped

    def callees(self, function):
        """The functions ``function`` refers to (calls, callbacks,
        properties) and the API errors it makes: any other mention of an
        error class (``X(...)``, ``raise X``, ``error = X if ... else Y``)."""
        context = self.context[id(function)]
        skipped = self._not_made(function)
        functions = {
            id(node.func) for node in ast.walk(function) if isinstance(node, ast.Call)
        }
        called, errors = [], set()
        for node in ast.walk(function):
            targets, made = self._target(node, context, functions)
            called += targets
            if made is not None and id(node) not in skipped:
                errors.add(made)
        return called, errors

    def errors(self, model, roots, skip=()):
        """The API error classes made on the code paths from ``roots``
        (methods of ``model``), not entering the methods named in ``skip``."""
        seen, errors = set(), set()
        queue = [m for name in roots for m in self.model_methods[(model, name)]]
        while queue:
            function = queue.pop()
            if id(function) in seen or function.name in skip:
                continue
            seen.add(id(function))
            called, made = self.callees(function)
            errors |= made
            queue += called
        return errors


@pytest.fixture(scope="module")
def code():
    return CodeIndex()


def declared(name):
    """The error classes of an operation, over all its path shapes."""
    shapes = {shape for shape, _verb in operations.BY_NAME[name].routes}
    return {cls for shape in shapes for cls in operations.error_classes(name, shape)}


def raised(code, operation):
    if operation.name == "binary":
        found = code.errors(ENGINE, BINARY_ROOTS)
    else:
        found = code.errors(ENGINE, PIPELINE_ROOTS, skip=IDEMPOTENCY_ROOTS)
        found |= code.errors(ENGINE, (f"_op_{operation.name}",))
    if operation.writes:
        found |= code.errors(ENGINE, IDEMPOTENCY_ROOTS)
    return found


def undeclared(found, allowed):
    return sorted(
        cls.__name__
        for cls in found
        if not any(issubclass(cls, other) for other in allowed)
    )


# Where the ORM's exceptions end up (FOREIGN_ERRORS): these statuses come
# from Odoo and PostgreSQL, not from a raise of ours.
FOREIGN_TARGETS = {entry[0] for entry in exceptions.FOREIGN_ERRORS.values()}


def test_the_index_reads_the_pipeline(code):
    """The index itself: what it must find on known paths, so that the
    checks below cannot pass by finding nothing."""
    pipeline = code.errors(ENGINE, PIPELINE_ROOTS, skip=IDEMPOTENCY_ROOTS)
    assert {
        exceptions.PayloadTooLarge,
        exceptions.NotFound,
        exceptions.MethodNotAllowed,
        exceptions.Unauthorized,
        exceptions.InsufficientScope,
        exceptions.BadRequest,
    } <= pipeline
    assert exceptions.Conflict not in pipeline, "idempotency is the writes' own"
    assert {
        exceptions.BadRequest,
        exceptions.Conflict,
        exceptions.Unprocessable,
    } <= code.errors(ENGINE, IDEMPOTENCY_ROOTS)
    assert exceptions.PreconditionFailed in code.errors(ENGINE, ("_op_update",))


@pytest.mark.parametrize("operation", operations.OPERATIONS, ids=lambda op: op.name)
def test_every_error_an_operation_raises_is_declared(code, operation):
    found = raised(code, operation)
    missing = undeclared(found, declared(operation.name))
    assert not missing, (
        f"{operation.name} can raise {missing}: declare them in "
        "core/operations.py (ANSWERS, or PIPELINE_ERRORS when every operation "
        "can), so that the documents list their statuses"
    )


@pytest.mark.parametrize("operation", operations.OPERATIONS, ids=lambda op: op.name)
def test_every_declared_error_is_raised_or_comes_from_the_orm(code, operation):
    found = raised(code, operation)
    stale = [
        cls.__name__
        for cls in declared(operation.name)
        if cls not in FOREIGN_TARGETS and not any(issubclass(f, cls) for f in found)
    ]
    assert not stale, f"{operation.name} declares {stale} but never raises them"


def test_the_orm_errors_are_declared_for_every_operation_or_every_write():
    # Integrity errors (409) need a write; the others any ORM call.
    assert FOREIGN_TARGETS <= set(operations.PIPELINE_ERRORS) | set(
        operations.WRITE_ERRORS
    )
    integrity = exceptions.FOREIGN_ERRORS["psycopg2.IntegrityError"][0]
    for operation in operations.OPERATIONS:
        assert (integrity in declared(operation.name)) == operation.writes


def test_every_error_class_is_declared_somewhere():
    everything = set(operations.PIPELINE_ERRORS) | set(operations.TOKEN_ERRORS)
    for answers in operations.ANSWERS.values():
        everything |= set(answers.errors) | set(answers.one_record_errors)
    classes = [
        klass
        for klass in vars(exceptions).values()
        if inspect.isclass(klass)
        and issubclass(klass, exceptions.ApiError)
        and klass is not exceptions.ApiError
    ]
    assert not undeclared(classes, everything)
    assert set(operations.ANSWERS) == set(operations.BY_NAME)


def test_the_token_server_answers_only_its_declared_statuses(code):
    found = set()
    for model, roots in TOKEN_ROOTS.items():
        found |= code.errors(model, roots)
    statuses = set()
    for cls in found:
        statuses |= (
            oauth_statuses(code) if cls is exceptions.OAuthError else {str(cls.status)}
        )
    # 405 answers methods other than POST, which the document does not show.
    assert statuses - {"405"} == set(operations.token_error_statuses())


def oauth_statuses(code):
    """The statuses OAuthError is made with in the token server's code."""
    statuses = set()
    functions = list(code.core_functions.values()) + [
        m for key, methods in code.model_methods.items() for m in methods
    ]
    for function in functions:
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "OAuthError"
            ):
                status = next(
                    (k.value.value for k in node.keywords if k.arg == "status"), 400
                )
                statuses.add(str(status))
    return statuses


# ----------------------------------------------------------------------
# The documents list what is declared
# ----------------------------------------------------------------------


def shape_of(path):
    """The path shape of a documented REST path."""
    if "/by/" in path:
        return "key"
    if path.endswith("/aggregate"):
        return "aggregate"
    if "/call/" in path or path.endswith("}/address_get"):
        return "rpc"
    if re.search(r"/\{id\}/[^/]+$", path):
        return "rpc"
    if path.endswith("/{id}"):
        return "record"
    return "collection"


def rest_operations(document):
    for path, entry in document["paths"].items():
        if not path.startswith("/api/") or path in token_paths():
            continue
        shape = shape_of(path)
        for verb, operation in entry.items():
            if verb != "parameters":
                registry = operations.for_route(shape, verb.upper())
                yield path, verb, shape, registry, operation


def with_upsert_keys(route="partner/keys", keys=("mail",)):
    api = fixtures.api(route, True)
    api["models"]["res.partner"]["fields"] = [
        dict(f, upsert_key=f["alias"] in keys) for f in fixtures.FIELDS
    ]
    return api


def with_aggregates(route="partner/agg"):
    api = fixtures.api(route, True)
    api["operations"] = (*api["operations"], "aggregate")
    api["endpoints"] = dict(api["endpoints"], aggregate={"id": 99, "active": True})
    return api


APIS = [*fixtures.APIS, with_upsert_keys(), with_aggregates()]


def test_the_document_lists_exactly_the_declared_statuses():
    document = build_openapi(APIS)
    seen = set()
    for path, verb, shape, registry, operation in rest_operations(document):
        assert registry is not None, (path, verb)
        assert sorted(operation["responses"]) == sorted(
            operations.statuses(registry.name, shape)
        ), (path, verb)
        for status in operations.error_statuses(registry.name, shape):
            assert operation["responses"][status] == {
                "$ref": f"#/components/responses/Error{status}"
            }
        seen.add(registry.name)
    assert seen == {
        "search",
        "read",
        "create",
        "update",
        "delete",
        "rpc",
        "upsert",
        "aggregate",
    }


def test_every_operation_but_binary_downloads_is_documented():
    # Binary downloads live outside the APIs' routes.
    assert set(operations.BY_NAME) - set(BUILDERS) == {"binary"}


def test_a_refused_idempotency_key_is_documented_on_every_write():
    """The fuzzer's find: DELETE /{id} answers 400 invalid_idempotency_key.

    Public APIs refuse every key (their callers share one identity): the
    header is not offered there, and 400 stays documented all the same."""
    document = build_openapi(APIS)
    public = {f"/api/{api['route']}" for api in APIS if api["auth_mode"] == "public"}
    for path, verb, _shape, registry, operation in rest_operations(document):
        if registry.writes:
            names = {p["name"] for p in operation.get("parameters", [])}
            offered = not any(path.startswith(prefix) for prefix in public)
            assert ("Idempotency-Key" in names) == offered, (path, verb)
            assert {"400", "409", "422"} <= set(operation["responses"]), (path, verb)


def test_the_token_server_documents_its_declared_statuses():
    for path, entry in token_paths().items():
        responses = entry["post"]["responses"]
        assert sorted(responses) == ["200", *operations.token_error_statuses()], path
        for status in operations.token_error_statuses():
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/OAuthError"}


def test_every_error_response_the_document_names_exists():
    document = build_openapi(APIS)
    responses = document["components"]["responses"]
    for _path, _verb, _shape, _registry, operation in rest_operations(document):
        for answer in operation["responses"].values():
            if "$ref" in answer:
                assert answer["$ref"].rsplit("/", 1)[1] in responses


# ----------------------------------------------------------------------
# Links from a create to what can be done with the created record
# ----------------------------------------------------------------------


def links_of(document, path, verb="post", status="201"):
    return document["paths"][path][verb]["responses"][status].get("links", {})


def test_a_create_links_to_the_read_update_and_delete_of_its_record():
    document = build_openapi(fixtures.APIS)
    links = links_of(document, "/api/partner/rest")
    assert {name: link["operationId"] for name, link in links.items()} == {
        "read": "partner_rest_read",
        "update": "partner_rest_update",
        "replace": "partner_rest_replace",
        "delete": "partner_rest_delete",
    }
    for link in links.values():
        # The id of a single create's answer, full or minimal ({"id": ...}).
        assert link["parameters"] == {"id": "$response.body#/result/id"}
    ids = {
        operation["operationId"]
        for entry in document["paths"].values()
        for verb, operation in entry.items()
        if verb != "parameters"
    }
    for path, entry in document["paths"].items():
        for verb, operation in entry.items():
            for answer in (
                operation.get("responses", {}).values() if verb != "parameters" else ()
            ):
                for link in answer.get("links", {}).values():
                    assert link["operationId"] in ids, (path, verb)


def test_links_name_only_operations_the_api_serves():
    document = build_openapi(fixtures.APIS)
    # partner/plain has its delete endpoint switched off.
    assert set(links_of(document, "/api/partner/plain")) == {
        "read",
        "update",
        "replace",
    }
    reader = dict(fixtures.APIS[0], operations=("search", "create"))
    assert links_of(build_openapi([reader]), "/api/partner/rest") == {}


def test_an_upsert_that_creates_links_to_its_record():
    document = build_openapi([with_upsert_keys("partner/rest")])
    path = "/api/partner/rest/by/mail/{value}"
    links = links_of(document, path, verb="put")
    assert links["read"]["operationId"] == "partner_rest_read"
    created = document["paths"][path]["put"]["responses"]["201"]
    assert "Location" in created["headers"]


# ----------------------------------------------------------------------
# The Postman collection expects declared statuses only
# ----------------------------------------------------------------------


def test_postman_expects_only_statuses_its_requests_can_answer():
    collection = build_postman(APIS)
    for folder in collection["item"]:
        for item in folder["item"]:
            request = item["request"]
            path = request["url"]["raw"].split("?", 1)[0]
            if path.endswith("/api/oauth2/token"):
                allowed = {"200", *operations.token_error_statuses()}
            else:
                last = path.rsplit("/", 1)[1]
                shape = "record" if last.startswith("{{") else "collection"
                if last == "aggregate":
                    shape = "aggregate"
                registry = operations.for_route(shape, request["method"])
                allowed = set(operations.statuses(registry.name, shape))
            text = "\n".join(
                line for event in item["event"] for line in event["script"]["exec"]
            )
            expected = set(re.findall(r"to\.have\.status\((\d+)\)", text))
            assert expected and expected <= allowed, item["name"]
