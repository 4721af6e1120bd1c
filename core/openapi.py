"""OpenAPI 3 document of a set of APIs, from their plain descriptions.

An API description is the engine's spec without its secrets (see
``secure.api._doc_spec``): route, models with field specs, operations,
active endpoints, RPC methods, auth mode, obfuscation flag, paging.
"""

import hashlib
import re
from collections import Counter

from . import aggregate as core_aggregate
from . import operations
from .exceptions import STATUS_DESCRIPTIONS, PreconditionFailed
from .operations import SCOPES
from .params import COMPANY_HEADER, MAX_COMPANIES
from .sync import MAX_REMOVED

SCALARS = {
    "char": {"type": "string"},
    "text": {"type": "string"},
    "html": {"type": "string"},
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "monetary": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date", "nullable": True},
    "datetime": {
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}",
        "nullable": True,
    },
}


def operation_slug(api, model):
    """The stable prefix of an API's operationIds: its route, and the model
    on several-models APIs (``partner_rest`` gives ``partner_rest_search``)."""
    text = api["route"] + (f"_{model}" if api["multi_model"] else "")
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def document_names(apis):
    """``{(route, model): {"schema": ..., "slug": ...}}``: the schema name
    and operationId prefix of each API and model, unique in the document.

    The readable names can collide (routes ``t/b``, ``t_b`` and ``t-b``);
    colliding ones get a suffix derived from the route and model, so each
    keeps its name whatever other APIs the document holds.
    """
    pairs = [(api, model) for api in apis for model in api["models"]]
    names = {}
    for key, build in (("schema", schema_name), ("slug", operation_slug)):
        counts = Counter(build(api, model) for api, model in pairs)
        for api, model in pairs:
            name = build(api, model)
            if counts[name] > 1:
                digest = hashlib.sha1(f"{api['route']} {model}".encode()).hexdigest()
                name += f"_{digest[:6]}" if key == "slug" else digest[:6].upper()
            names.setdefault((api["route"], model), {})[key] = name
    return names


def schema_name(api, model):
    base = re.sub(r"[^A-Za-z0-9]+", "_", f"{api['route']}_{model}").strip("_")
    return "".join(part[:1].upper() + part[1:] for part in base.split("_"))


def id_schema(obfuscated, min_length=1):
    if obfuscated:
        return {
            "type": "string",
            "pattern": "^[A-Za-z0-9]+$",
            "minLength": max(1, min_length or 1),
            "maxLength": 64,
        }
    return {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def _alternatives(names):
    return "|".join(re.escape(name) for name in names)


def domain_pattern(text_aliases):
    """A regex for domains over text fields with quoted values.

    OpenAPI 3.0 cannot describe tuples, so the document gives this accepted
    subset of the syntax; the description states the whole of it.
    """
    if not text_aliases:
        return r"^(\[\])?$"
    term = (
        r'\("('
        + _alternatives(text_aliases)
        + r')", ?"(=|!=|ilike|like|not ilike)", ?"[^"\\]{0,200}"\)'
    )
    return r"^(\[(" + term + r"(, ?" + term + r"){0,3})?\])?$"


def names_pattern(aliases):
    names = _alternatives(aliases)
    return f"^(({names})(,({names}))*)?$"


def order_pattern(aliases):
    item = f"({_alternatives(aliases)})( (asc|desc))?"
    return f"^({item}(, ?{item}){{0,2}})?$"


def _sub_schema(sub, obfuscated):
    if sub["type"] == "many2one":
        return {"type": "array", "maxItems": 2}
    if sub["type"] in ("one2many", "many2many"):
        return {"type": "array", "items": id_schema(obfuscated)}
    if sub["type"] == "selection":
        return {"type": "string", "nullable": True}
    if sub["type"] == "binary":
        return {"type": "string"}
    return dict(SCALARS.get(sub["type"], {}))


def output_schema(fspec, obfuscated):
    """The JSON schema of one exposed field in a response record."""
    ftype = fspec["type"]
    ident = id_schema(obfuscated)
    if ftype == "many2one":
        if fspec.get("related"):
            second = {
                "type": "object",
                "properties": {
                    s["name"]: _sub_schema(s, obfuscated) for s in fspec["related"]
                },
            }
        else:
            second = {"type": "string"}
        return {
            "type": "array",
            "description": "[id, display name] or [id, {related fields}]; [] if empty",
            "items": {"oneOf": [ident, second]},
            "maxItems": 2,
        }
    if ftype in ("one2many", "many2many"):
        if fspec.get("related"):
            properties = {"id": ident}
            properties.update(
                {s["name"]: _sub_schema(s, obfuscated) for s in fspec["related"]}
            )
            items = {"type": "object", "properties": properties}
        else:
            items = ident
        return {"type": "array", "items": items}
    if ftype == "binary":
        return {
            "type": "string",
            "description": "URL of the binary route, or base64; '' when empty",
        }
    if ftype == "selection":
        return {
            "type": "string",
            "nullable": True,
            "enum": [*(fspec.get("selection") or []), None],
        }
    schema = dict(SCALARS.get(ftype, {}))
    return schema


def input_schema(fspec, obfuscated):
    """The JSON schema of one writable field in a request body."""
    ftype = fspec["type"]
    ident = id_schema(obfuscated)
    if ftype == "many2one":
        return {
            "oneOf": [ident, {"type": "boolean", "enum": [False]}],
            "nullable": True,
        }
    if ftype in ("one2many", "many2many"):
        return {
            "type": "array",
            "items": ident,
            "description": "The complete list of related ids",
        }
    if ftype == "binary":
        return {"type": "string", "format": "byte", "nullable": True}
    if ftype == "selection":
        return {
            "type": "string",
            "enum": list(fspec.get("selection") or []),
            "nullable": True,
        }
    schema = dict(SCALARS.get(ftype, {"type": "string"}))
    schema.pop("nullable", None)
    if ftype == "integer":
        schema.update(minimum=-(2**31), maximum=2**31 - 1)
    if not fspec.get("required"):
        schema["nullable"] = True
    return schema


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _envelope(result_schema):
    return {
        "type": "object",
        "required": ["jsonrpc", "id", "result"],
        "properties": {
            "jsonrpc": {"type": "string", "enum": ["2.0"]},
            "id": {"nullable": True},
            "result": result_schema,
        },
    }


def _json(schema, description="OK"):
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
    "description": "Run once; a repeat within 24 h replays the stored answer",
}
PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "enum": ["return=minimal", "return=representation"]},
    "description": "return=minimal: 201 with Location and the id, or 204 (RFC 7240)",
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag of the record as read; 412 when it changed since",
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag of the record as read; 304 when unchanged",
}


# Headers every REST operation takes (path-level parameters).
COMPANY_ID = {
    "name": COMPANY_HEADER,
    "in": "header",
    "required": False,
    "schema": {
        "type": "string",
        "maxLength": 2048,
        "pattern": r"^\s*[A-Za-z0-9]+\s*(,\s*[A-Za-z0-9]+\s*){0,%d}$"
        % (MAX_COMPANIES - 1),
    },
    "description": "Run the request in these companies, the first one current "
    "(ids as this API shows res.company ids); each must be one of the "
    "execution user's, else 403 company_not_allowed. Without it, the user's "
    "default company.",
}
ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 512},
    "description": "The language of translatable values (read, searched and "
    "written) and of error messages, among the installed languages; "
    "Content-Language says which. Without it, the execution user's.",
}
REQUEST_HEADERS = (COMPANY_ID, ACCEPT_LANGUAGE)


def _request_body(schema, required=True):
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _webhooks(apis, names):
    """The events a subscription receives, per API with webhooks (OpenAPI
    3.0 has no ``webhooks``: the ``x-webhooks`` extension, as 3.1 shapes
    it)."""
    events = {}
    for api in sorted(apis, key=lambda a: a["route"]):
        if not api.get("webhooks"):
            continue
        for model in sorted(api["models"]):
            name = names[(api["route"], model)]["schema"]
            events[f"{api['route']} {model}"] = {
                "post": {
                    "summary": f"A {model} of {api['route']} was created, "
                    "updated or deleted",
                    "parameters": [
                        {
                            "name": header,
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                        for header in (
                            "X-Secure-Api-Event",
                            "X-Secure-Api-Delivery",
                            "X-Secure-Api-Signature",
                        )
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": [
                                        "id",
                                        "event",
                                        "api",
                                        "occurred_at",
                                        "record",
                                    ],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "event": {
                                            "type": "string",
                                            "enum": ["create", "update", "delete"],
                                        },
                                        "api": {"type": "string"},
                                        "occurred_at": {
                                            "type": "string",
                                            "format": "date-time",
                                        },
                                        "record": _ref(f"{name}Record"),
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"2XX": {"description": "Delivered"}},
                }
            }
    return events


def _base_schemas():
    """The schemas every document holds: errors and the token answer."""
    return {
        "Error": {
            "type": "object",
            "required": ["jsonrpc", "id", "error"],
            "properties": {
                "jsonrpc": {"type": "string", "enum": ["2.0"]},
                "id": {"nullable": True},
                "error": {
                    "type": "object",
                    "required": ["code", "message", "data"],
                    "properties": {
                        "code": {"type": "integer"},
                        "message": {"type": "string"},
                        "data": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "index": {"type": "integer"},
                            },
                        },
                    },
                },
            },
        },
        "OAuthError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "error_description": {"type": "string"},
            },
        },
        "TokenResponse": {
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "scope"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"type": "string", "enum": ["Bearer"]},
                "expires_in": {"type": "integer"},
                "scope": {"type": "string"},
            },
        },
    }


def build_openapi(apis, base_url="", title="Secure API", version="1.0.0"):
    """Return an OpenAPI 3.0.3 document (a dict) for ``apis``."""
    schemas = _base_schemas()
    responses = {
        f"Error{code}": _json(_ref("Error"), text)
        for code, text in STATUS_DESCRIPTIONS.items()
    }
    if "Error429" in responses:
        responses["Error429"]["headers"] = {
            "Retry-After": {"$ref": "#/components/headers/Retry-After"},
            **RATE_HEADER_REFS,
        }
    paths = {}
    uses_session = False
    names = document_names(apis)
    for api in sorted(apis, key=lambda a: a["route"]):
        uses_session |= api["auth_mode"] == "user"
        for model, mspec in sorted(api["models"].items()):
            _add_model_paths(
                paths, schemas, api, model, mspec, names[(api["route"], model)]
            )
    security_schemes = {
        "oauth2": {
            "type": "oauth2",
            "description": "OAuth 2.0 client credentials, or the authorization "
            "code grant with PKCE (S256), whose tokens act as the user who "
            "consented; opaque tokens",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": f"{base_url}/api/oauth2/token",
                    "scopes": {scope: f"{scope} records" for scope in SCOPES},
                },
                "authorizationCode": {
                    "authorizationUrl": f"{base_url}/api/oauth2/authorize",
                    "tokenUrl": f"{base_url}/api/oauth2/token",
                    "refreshUrl": f"{base_url}/api/oauth2/token",
                    "scopes": {scope: f"{scope} records" for scope in SCOPES},
                },
            },
        },
        "bearerJWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    }
    if uses_session:
        security_schemes["sessionCookie"] = {
            "type": "apiKey",
            "in": "cookie",
            "name": "session_id",
        }
    for path, entry in paths.items():
        for verb, operation in entry.items():
            if verb != "parameters":
                slug = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
                operation.setdefault("operationId", f"{verb}_{slug}")
    document_webhooks = _webhooks(apis, names)
    return {
        **({"x-webhooks": document_webhooks} if document_webhooks else {}),
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": version,
            "description": "REST APIs published with secure_api. Responses use a "
            "JSON-RPC style envelope; errors carry the HTTP status and an error "
            "object.",
        },
        "servers": [{"url": base_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "headers": _header_components(),
            "securitySchemes": security_schemes,
        },
        "tags": [
            {"name": api["name"], "description": api.get("description") or ""}
            for api in apis
        ],
    }


def _security(api, operation):
    if api["auth_mode"] == "public":
        return []
    return [{"oauth2": [operation]}, {"bearerJWT": []}, {"sessionCookie": []}]


# ----------------------------------------------------------------------
# Paths of one model of one API: one builder per operation of the registry
# ----------------------------------------------------------------------

# Bodies of the statuses that carry none (the errors' come from the
# registry's declaration and the components).
STATUS_TEXT = {
    "204": "Updated (Prefer: return=minimal)",
    "304": "Not modified (If-None-Match matched)",
    "206": "Part of the file (Range)",
}
# Operations whose answer Prefer: return=minimal shortens.
PREFERRED = ("create", "update", "upsert")
# Where a created record's id is in a create's answer: the record, or
# {"id": ...} with Prefer: return=minimal (a bulk create answers an array).
CREATED_ID = "$response.body#/result/id"
# What can be done with a created record, by link name: the operation
# (its switch), the operationId suffix and what the link does.
CREATED_LINKS = (
    ("read", "read", "Read the created record"),
    ("update", "update", "Update the created record"),
    ("update", "replace", "Update the created record (PUT)"),
    ("delete", "delete", "Delete the created record"),
)


class _ModelPaths:
    """The paths, operations and schemas of one model of one API."""

    def __init__(self, paths, schemas, api, model, mspec, names):
        self.paths, self.schemas = paths, schemas
        self.api, self.model, self.mspec = api, model, mspec
        self.name, self.slug = names["schema"], names["slug"]
        self.fields = mspec["fields"]
        self.ident = id_schema(api["obfuscate"], api.get("min_length"))
        self.id_param = {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": self.ident,
        }
        self.base = f"/api/{api['route']}" + (f"/{model}" if api["multi_model"] else "")
        active = {op for op, end in api["endpoints"].items() if end["active"]}
        self.ops = [op for op in api["operations"] if op in active]
        # Paths by shape: collection, one record, and the others (RPC
        # methods, upsert keys), in this order in the document.
        self.collection, self.item, self.extra = {}, {}, {}

    def build(self):
        _record_schemas(self)
        for operation in operations.OPERATIONS:
            builder = BUILDERS.get(operation.name)
            if builder is not None and operation.switch in self.ops:
                builder(self)
        if self.collection:
            self.paths[self.base] = self.collection
        if self.item:
            self.item["parameters"] = [self.id_param]
            self.paths[f"{self.base}/{{id}}"] = self.item
        self.paths.update(self.extra)
        for path in (self.base, f"{self.base}/{{id}}", *self.extra):
            if path in self.paths:
                entry = self.paths[path]
                entry["parameters"] = [
                    *entry.get("parameters", []),
                    *(dict(header) for header in REQUEST_HEADERS),
                ]

    def ref(self, suffix):
        return _ref(f"{self.name}{suffix}")

    def operation(self, name, shape, summary, bodies, variant=None, **extra):
        """One operation: its responses are those the registry declares for
        operation ``name`` on ``shape``; ``bodies`` gives the content of
        those that have one. Writes take their headers here."""
        registry = operations.get(name)
        body = {
            "tags": [self.api["name"]],
            "summary": summary,
            "operationId": f"{self.slug}_{variant or name}",
            "security": _security(self.api, registry.scope),
            "responses": _responses(name, shape, bodies),
        }
        body.update(extra)
        headers = self._write_headers(registry, shape) if registry.writes else []
        if headers:
            body["parameters"] = body.get("parameters", []) + headers
        return body

    def _write_headers(self, registry, shape):
        """Idempotency-Key (not on public APIs, which refuse it: their
        callers share one identity), Prefer, and If-Match where a write to
        one record can answer 412."""
        headers = [] if self.api["auth_mode"] == "public" else [IDEMPOTENCY_KEY]
        if registry.name in PREFERRED:
            headers.append(PREFER)
        if PreconditionFailed in operations.error_classes(registry.name, shape):
            headers.append(IF_MATCH)
        return headers

    def created(self, result=None):
        """A 201: ``result`` (the record by default), its Location, and
        links to what can be done with it on this API."""
        answer = _json(_envelope(result or self.ref("Record")), "Created")
        answer["headers"] = {"Location": {"schema": {"type": "string"}}}
        links = {
            suffix: {
                "operationId": f"{self.slug}_{suffix}",
                "parameters": {"id": CREATED_ID},
                "description": f"{text}: the id of a single create's answer, "
                "with or without Prefer: return=minimal (a bulk create answers "
                "an array, which this link does not follow)",
            }
            for switch, suffix, text in CREATED_LINKS
            if switch in self.ops
        }
        if links:
            answer["links"] = links
        return answer


def _responses(name, shape, bodies):
    unknown = set(bodies) - set(operations.statuses(name, shape))
    if unknown:
        # A builder documents a status the registry does not declare.
        raise ValueError(name, shape, sorted(unknown))
    responses = {}
    for status in operations.statuses(name, shape):
        if status in bodies:
            responses[status] = bodies[status]
        elif status in STATUS_TEXT:
            responses[status] = {"description": STATUS_TEXT[status]}
        else:
            responses[status] = {"$ref": f"#/components/responses/Error{status}"}
        if status.startswith("2"):
            # Any client app or API may be given a rate limit.
            responses[status] = {
                **responses[status],
                "headers": {**responses[status].get("headers", {}), **RATE_HEADER_REFS},
            }
    return responses


# The traffic policy's headers (see core/traffic.py), on every answer under
# a rate limit: the 2xx of every REST operation and its 429.
RATE_HEADERS = {
    "RateLimit-Policy": "The rate limit that applies: <limit>;w=<window seconds>",
    "RateLimit": "limit=<limit>, remaining=<requests left>, reset=<seconds until "
    "the window resets>",
    "X-RateLimit-Limit": "Requests allowed per window",
    "X-RateLimit-Remaining": "Requests left in the current window",
    "X-RateLimit-Reset": "When the window resets, as Unix time (seconds)",
}
RATE_HEADER_REFS = {
    name: {"$ref": f"#/components/headers/{name}"} for name in RATE_HEADERS
}


def _header_components():
    headers = {
        name: {"description": text, "schema": {"type": "string"}}
        for name, text in RATE_HEADERS.items()
    }
    headers["Retry-After"] = {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer"},
    }
    return headers


def _record_schemas(doc):
    """``<Name>Record``, ``<Name>Create`` and ``<Name>Update``."""
    obfuscated = doc.api["obfuscate"]
    record = {"type": "object", "required": ["id"], "properties": {"id": doc.ident}}
    for fspec in doc.fields:
        if fspec.get("lines") is not None:
            schema = {"type": "array", "items": _line_schemas(doc, fspec)}
        else:
            schema = output_schema(fspec, obfuscated)
        if fspec.get("string"):
            schema["title"] = fspec["string"]
        if fspec.get("alias") != fspec["name"]:
            schema["description"] = f"Odoo field {fspec['name']}"
        record["properties"][fspec["alias"]] = schema
    writable = [f for f in doc.fields if f.get("writable")]
    defaulted = {line["name"] for line in doc.mspec.get("defaults") or ()}
    # Required on create where Odoo requires a value that neither Odoo nor
    # the API's default values provide.
    required = [
        f["alias"]
        for f in writable
        if f.get("required") and not f.get("has_default") and f["name"] not in defaulted
    ]
    update_body = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f["alias"]: input_schema(f, obfuscated) for f in writable},
    }
    create_body = dict(update_body, **({"required": required} if required else {}))
    lines = [f for f in writable if f.get("lines") is not None]
    if lines:
        # A lines field takes a list of lines on create, changes on update.
        create_body["properties"] = dict(update_body["properties"])
        for fspec in lines:
            line = _line_schemas(doc, fspec)["$ref"]
            create_body["properties"][fspec["alias"]] = {
                "type": "array",
                "items": _ref(f"{line.rsplit('/', 1)[1]}Create"),
            }
            update_body["properties"][fspec["alias"]] = _line_changes(line, doc.ident)
    doc.schemas[f"{doc.name}Record"] = record
    doc.schemas[f"{doc.name}Create"] = create_body
    doc.schemas[f"{doc.name}Update"] = update_body


def _line_schemas(doc, fspec):
    """``<Name><Lines>Line``, ``...LineCreate`` and ``...LineUpdate`` of a
    one2many written with its lines; returns the reference of the first."""
    obfuscated = doc.api["obfuscate"]
    name = doc.name + schema_name({"route": fspec["alias"]}, "Line")
    ident = id_schema(obfuscated, doc.api.get("min_length"))
    record = {"type": "object", "required": ["id"], "properties": {"id": ident}}
    for lspec in fspec["lines"]:
        record["properties"][lspec["alias"]] = output_schema(lspec, obfuscated)
    writable = [lspec for lspec in fspec["lines"] if lspec.get("writable")]
    values = {lspec["alias"]: input_schema(lspec, obfuscated) for lspec in writable}
    required = [
        lspec["alias"]
        for lspec in writable
        if lspec.get("required") and not lspec.get("has_default")
    ]
    create = {"type": "object", "additionalProperties": False, "properties": values}
    if required:
        create["required"] = required
    doc.schemas[name] = record
    doc.schemas[f"{name}Create"] = create
    doc.schemas[f"{name}Update"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id"],
        "properties": {"id": ident, **values},
    }
    return _ref(name)


def _line_changes(line_ref, ident):
    name = line_ref.rsplit("/", 1)[1]
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "Lines to add, lines to update (by id) and ids of lines "
        "to remove, in one transaction",
        "properties": {
            "add": {"type": "array", "items": _ref(f"{name}Create")},
            "update": {"type": "array", "items": _ref(f"{name}Update")},
            "remove": {"type": "array", "items": ident},
        },
    }


def _removed_schema(doc):
    return {
        "type": "array",
        "description": "With changed_since: the records deleted or archived "
        "since then that the caller could read (the API syncs deletions). "
        "With a cursor, up to limit per page, the walk's last page coming "
        "when none is left; without one, all of them on the first page "
        f"(offset 0; more than {MAX_REMOVED} answer 410 resync_required: walk with "
        "a cursor) and none on the next pages",
        "items": {
            "type": "object",
            "required": ["id", "removed_at"],
            "properties": {
                "id": doc.ident,
                "removed_at": {"type": "string", "format": "date-time"},
            },
        },
    }


def _search_result_schema(doc):
    schema = {
        "type": "object",
        "required": ["records"],
        "properties": {
            "length": {
                "type": "integer",
                "description": "Total; absent if count=none",
            },
            "length_is": {
                "type": "string",
                "enum": ["exact", "estimated"],
                "description": "With count=estimated",
            },
            "changes_until": {
                "type": "string",
                "format": "date-time",
                "description": "With changed_since: every "
                "change before this moment is included; the "
                "next changed_since of an incremental sync",
            },
            "next_cursor": {
                "type": "string",
                "nullable": True,
                "description": "With cursor (or an id order): "
                "the next page's cursor, null on the last",
            },
            "records": {"type": "array", "items": doc.ref("Record")},
        },
    }
    if doc.api.get("sync_deletions"):
        schema["properties"]["removed"] = _removed_schema(doc)
    return schema


def _aliases(doc):
    return [f["alias"] for f in doc.fields] or ["id"]


def _related_paths(doc):
    """The dotted leaves a domain may hold: ``<alias>.<related field>``."""
    return [
        f"{f['alias']}.{sub['name']}"
        for f in doc.fields
        for sub in f.get("related") or ()
        if sub.get("searchable", True)
    ]


def _domain_parameter(doc):
    searchable = [f["alias"] for f in doc.fields if f.get("searchable")]
    text_searchable = [
        f["alias"]
        for f in doc.fields
        if f.get("searchable") and f["type"] in ("char", "text", "html")
    ]
    related = _related_paths(doc)
    return {
        "name": "domain",
        "in": "query",
        "schema": {"type": "string", "pattern": domain_pattern(text_searchable)},
        "description": "Odoo domain as a literal list of terms over: "
        + (", ".join(["id", *searchable]))
        + ("; and through related fields: " + ", ".join(related) if related else "")
        + "; the pattern shows the text-field subset",
    }


def _search_parameters(doc):
    searchable = [f["alias"] for f in doc.fields if f.get("searchable")]
    return [
        _domain_parameter(doc),
        {
            "name": "offset",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": 10**9},
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                # Larger limits are clamped, up to what the parser reads.
                "maximum": 10**18 - 1,
                "default": doc.api["default_limit"],
            },
            "description": f"Clamped to {doc.api['max_limit']}",
        },
        {
            "name": "order",
            "in": "query",
            "schema": {
                "type": "string",
                "pattern": order_pattern(["id", *searchable]),
            },
            "description": "field [asc|desc], ... over: "
            + ", ".join(["id", *searchable]),
        },
        *_paging_parameters(doc),
    ]


def _paging_parameters(doc):
    return [
        {
            "name": "fields",
            "in": "query",
            "schema": {"type": "string", "pattern": names_pattern(_aliases(doc))},
            "description": "Comma-separated subset of: "
            + ", ".join(f["alias"] for f in doc.fields),
        },
        {
            "name": "count",
            "in": "query",
            "schema": {"type": "string", "enum": ["exact", "estimated", "none"]},
        },
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string", "maxLength": 512},
            "description": "Keyset pagination: empty to start, then the "
            "previous page's next_cursor (pages are ordered by id; not "
            "with offset)",
        },
        {
            "name": "changed_since",
            "in": "query",
            "schema": {"type": "string", "format": "date-time"},
            "description": "Only records created or written at or after "
            "this UTC time, ordered by their last change"
            + (
                "; also lists the records removed since then under removed "
                "(410 resync_required when older than the removals kept)"
                if doc.api.get("sync_deletions")
                else ""
            ),
        },
    ]


def _search(doc):
    doc.schemas[f"{doc.name}SearchResult"] = _search_result_schema(doc)
    doc.collection["get"] = doc.operation(
        "search",
        "collection",
        f"Search {doc.model}",
        {"200": _json(_envelope(doc.ref("SearchResult")))},
        parameters=_search_parameters(doc),
    )


def _read(doc):
    doc.item["get"] = doc.operation(
        "read",
        "record",
        f"Read one {doc.model}",
        {"200": _json(_envelope(doc.ref("Record")))},
        parameters=[
            {
                "name": "fields",
                "in": "query",
                "schema": {"type": "string", "pattern": names_pattern(_aliases(doc))},
            },
            IF_NONE_MATCH,
        ],
    )


def _create(doc):
    created = doc.created(
        {
            "oneOf": [
                doc.ref("Record"),
                {"type": "array", "items": doc.ref("Record")},
                # Bulk create with Prefer: return=minimal.
                {"type": "array", "items": doc.ident},
            ]
        }
    )
    one_or_many = {
        "oneOf": [
            doc.ref("Create"),
            {"type": "array", "items": doc.ref("Create"), "minItems": 1},
        ]
    }
    doc.collection["post"] = doc.operation(
        "create",
        "collection",
        f"Create {doc.model}",
        {"201": created},
        requestBody=_request_body(one_or_many),
    )


def _update_schemas(doc):
    """Concrete bulk-update schemas rather than allOf over the update body:
    its additionalProperties would refuse "ids" and "id"."""
    values = doc.schemas[f"{doc.name}Update"]["properties"]
    doc.schemas[f"{doc.name}UpdateMany"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["ids"],
        "properties": {
            "ids": {"type": "array", "items": doc.ident, "minItems": 1},
            **{alias: _added_lines_only(schema) for alias, schema in values.items()},
        },
    }
    doc.schemas[f"{doc.name}UpdateItem"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id"],
        "properties": {"id": doc.ident, **values},
    }


def _added_lines_only(schema):
    """A line belongs to one header: updating many records may add lines to
    each, never update or remove one."""
    if "add" not in schema.get("properties", {}):
        return schema
    return dict(
        schema,
        properties={"add": schema["properties"]["add"]},
        description="Lines to add to each record, in one transaction",
    )


def _update(doc):
    _update_schemas(doc)
    bulk = {
        "oneOf": [
            doc.ref("UpdateMany"),
            {"type": "array", "minItems": 1, "items": doc.ref("UpdateItem")},
        ]
    }
    doc.collection["patch"] = doc.operation(
        "update",
        "collection",
        f"Update many {doc.model}",
        {"200": _json(_envelope({"type": "array", "items": doc.ref("Record")}))},
        variant="update_many",
        requestBody=_request_body(bulk),
    )
    for verb, variant in (("patch", "update"), ("put", "replace")):
        doc.item[verb] = doc.operation(
            "update",
            "record",
            f"Update one {doc.model}" + (" (PUT)" if verb == "put" else ""),
            {"200": _json(_envelope(doc.ref("Record")))},
            variant=variant,
            requestBody=_request_body(doc.ref("Update")),
        )


def _delete(doc):
    deleted = _json(_envelope({"type": "array", "items": doc.ident}))
    doc.item["delete"] = doc.operation(
        "delete", "record", f"Delete one {doc.model}", {"200": deleted}
    )
    ids = {
        "type": "object",
        "required": ["ids"],
        "additionalProperties": False,
        "properties": {"ids": {"type": "array", "items": doc.ident, "minItems": 1}},
    }
    doc.collection["delete"] = doc.operation(
        "delete",
        "collection",
        f"Delete many {doc.model}",
        {"200": deleted},
        variant="delete_many",
        requestBody=_request_body(ids),
    )


RPC_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"args": {"type": "array"}, "kwargs": {"type": "object"}},
            }
        }
    },
}


def _rpc(doc):
    methods = sorted(doc.mspec.get("methods", {}).values(), key=lambda m: m["name"])
    for method in methods:
        on_records = method["on_records"]
        path = f"{doc.base}/{{id}}/{method['name']}"
        if not on_records:
            path = f"{doc.base}/call/{method['name']}"
        entry = {
            "post": doc.operation(
                "rpc",
                "rpc",
                f"Call {method['name']} on {doc.model}",
                {"200": _json(_envelope({}))},
                variant=f"call_{method['name']}",
                requestBody=RPC_BODY,
            )
        }
        if on_records:
            entry["parameters"] = [doc.id_param]
        doc.extra[path] = entry


def _upsert(doc):
    """``PUT <base>/by/<key>/{value}`` for each field marked as upsert key."""
    for fspec in (f for f in doc.fields if f.get("upsert_key")):
        alias = fspec["alias"]
        value = {
            "name": "value",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
        }
        operation = doc.operation(
            "upsert",
            "key",
            f"Create or update {doc.model} by {alias}",
            {
                "200": _json(_envelope(doc.ref("Record")), "Updated"),
                "201": doc.created(),
            },
            variant=f"upsert_by_{alias}",
            requestBody=_request_body(doc.ref("Update"), required=False),
        )
        doc.extra[f"{doc.base}/by/{alias}/{{value}}"] = {
            "parameters": [value],
            "put": operation,
        }


def _group_value_schema(fspec, ident):
    """The schema of a group-by value in a group."""
    ftype = fspec["type"]
    if ftype in core_aggregate.RELATIONAL:
        return {
            "type": "array",
            "description": "[id, display name]; [] for the records without one",
            "items": {"oneOf": [ident, {"type": "string"}]},
            "maxItems": 2,
        }
    if ftype == "boolean":
        return {"type": "boolean"}
    schema = dict(SCALARS.get(ftype, {"type": "string"}))
    schema["nullable"] = True
    if ftype in core_aggregate.TEMPORAL:
        schema["description"] = "The first day (UTC) of the period of the group"
    return schema


def _groupable(doc):
    return [f for f in doc.fields if core_aggregate.groupable(f)]


def _measure_keys(doc):
    return [
        f"{f['alias']}:{function}"
        for f in doc.fields
        for function in core_aggregate.FUNCTIONS
        if core_aggregate.measurable(f, function)
    ]


def _aggregate_schemas(doc):
    ident = id_schema(doc.api["obfuscate"])
    properties = {f["alias"]: _group_value_schema(f, ident) for f in _groupable(doc)}
    properties[core_aggregate.COUNT] = {
        "type": "integer",
        "description": "The number of records in the group",
    }
    doc.schemas[f"{doc.name}Group"] = {
        "type": "object",
        "required": [core_aggregate.COUNT],
        "properties": properties,
        "additionalProperties": {
            "type": "number",
            "nullable": True,
            "description": "The measures asked for, as <alias>:<function>",
        },
    }
    doc.schemas[f"{doc.name}AggregateResult"] = {
        "type": "object",
        "required": ["groups", "length"],
        "properties": {
            "groups": {"type": "array", "items": doc.ref("Group")},
            "length": {
                "type": "integer",
                "description": "The number of groups, those beyond the limit included",
            },
        },
    }


def _aggregate_parameters(doc):
    groupable = _groupable(doc)
    granularity = "(:(" + "|".join(core_aggregate.GRANULARITIES) + "))?"
    items = "|".join(
        re.escape(f["alias"])
        + (granularity if f["type"] in core_aggregate.TEMPORAL else "")
        for f in groupable
    )
    measures = _measure_keys(doc)
    more = core_aggregate.MAX_GROUPBY - 1
    return [
        {
            "name": "groupby",
            "in": "query",
            "schema": {
                "type": "string",
                "pattern": f"^(({items})(,({items})){{0,{more}}})?$" if items else "^$",
            },
            "description": f"Up to {core_aggregate.MAX_GROUPBY} fields that group "
            "the records, dates and times by day, week, month (the default), "
            "quarter or year (UTC): "
            + (", ".join(f["alias"] for f in groupable) or "none"),
        },
        {
            "name": "measures",
            "in": "query",
            "schema": {
                "type": "string",
                "pattern": names_pattern(measures) if measures else "^$",
            },
            "description": "<alias>:<function>, comma-separated: sum, avg, min "
            "and max of numbers, count_distinct of any stored field: "
            + (", ".join(measures) or "none"),
        },
        _domain_parameter(doc),
        {
            "name": "order",
            "in": "query",
            "schema": {
                "type": "string",
                "pattern": order_pattern(
                    [
                        core_aggregate.COUNT,
                        *(f["alias"] for f in groupable),
                        *measures,
                    ]
                ),
            },
            "description": "<key> [asc|desc], ... over the group-by fields, "
            "count and the measures asked for; by the group-by values otherwise",
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10**18 - 1,
                "default": doc.api["max_limit"],
            },
            "description": f"Groups; clamped to {doc.api['max_limit']}",
        },
    ]


def _aggregate(doc):
    _aggregate_schemas(doc)
    doc.extra[f"{doc.base}/aggregate"] = {
        "get": doc.operation(
            "aggregate",
            "aggregate",
            f"Count and measure {doc.model} by groups",
            {"200": _json(_envelope(doc.ref("AggregateResult")))},
            parameters=_aggregate_parameters(doc),
        )
    }


# The builder of each documented operation of the registry (binary
# downloads live outside the APIs' routes and are not documented).
BUILDERS = {
    "search": _search,
    "aggregate": _aggregate,
    "read": _read,
    "create": _create,
    "update": _update,
    "delete": _delete,
    "rpc": _rpc,
    "upsert": _upsert,
}


def _add_model_paths(paths, schemas, api, model, mspec, names):
    _ModelPaths(paths, schemas, api, model, mspec, names).build()


# RFC 6749 5.2 errors of the token server, by status (the statuses are
# the registry's: operations.token_error_statuses).
OAUTH_ERROR_TEXT = {
    "400": "RFC 6749 5.2 error",
    "401": "invalid_client",
    "413": "Body larger than the configured maximum",
    "429": "Too many failed attempts; see Retry-After",
    "500": "server_error: unexpected; the description names the logged request id",
}
CREDENTIALS = {"client_id": {"type": "string"}, "client_secret": {"type": "string"}}
TOKEN_FORM = {
    "type": "object",
    "required": ["client_id", "client_secret"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        **CREDENTIALS,
        "scope": {"type": "string"},
    },
}
WITH_TOKEN = {
    "application/x-www-form-urlencoded": {
        "schema": {
            "type": "object",
            "required": ["client_id", "client_secret", "token"],
            "properties": {**CREDENTIALS, "token": {"type": "string"}},
        }
    }
}
INTROSPECTION = {
    "type": "object",
    "required": ["active"],
    "properties": {
        "active": {"type": "boolean"},
        "scope": {"type": "string"},
        "client_id": {"type": "string"},
        "token_type": {"type": "string"},
        "exp": {"type": "integer"},
        "iat": {"type": "integer", "nullable": True},
        "sub": {"type": "string"},
        "aud": {"type": "string"},
        "iss": {"type": "string"},
        "jti": {"type": "string", "nullable": True},
    },
}


def _token_operation(operation_id, summary, body, response, description=""):
    errors = {
        status: _json(
            _ref("OAuthError"),
            OAUTH_ERROR_TEXT.get(status) or STATUS_DESCRIPTIONS.get(status, ""),
        )
        for status in operations.token_error_statuses()
    }
    return {
        "post": {
            "tags": ["Authentication"],
            "summary": summary,
            "description": description,
            "operationId": operation_id,
            "security": [],
            "requestBody": {"required": True, "content": body},
            "responses": {"200": response, **errors},
        }
    }


def token_paths():
    """Paths of the token server (opaque and JWT tokens, RFC 7009 revocation,
    RFC 7662 introspection), in every document."""
    form = {"application/x-www-form-urlencoded": {"schema": TOKEN_FORM}}
    return {
        "/api/oauth2/token": _token_operation(
            "oauth2_token",
            "Client credentials token (RFC 6749 4.4)",
            form,
            _json(_ref("TokenResponse")),
            "Also takes HTTP Basic client authentication (RFC 6749 2.3.1).",
        ),
        "/api/jwt/token": _token_operation(
            "jwt_token",
            "JWT access token",
            {"application/json": {"schema": TOKEN_FORM}},
            _json(_ref("TokenResponse")),
            "The same credentials as JSON; the token is a JWT (HS256/384/512).",
        ),
        "/api/oauth2/revoke": _token_operation(
            "oauth2_revoke",
            "Revoke one of this client's tokens (RFC 7009)",
            WITH_TOKEN,
            _json({"type": "object"}, "Revoked, or unknown to this client"),
        ),
        "/api/oauth2/introspect": _token_operation(
            "oauth2_introspect",
            "Introspect one of this client's tokens (RFC 7662)",
            WITH_TOKEN,
            _json(INTROSPECTION),
        ),
    }
