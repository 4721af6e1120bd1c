"""OpenAPI 3 document of a set of APIs, from their plain descriptions.

An API description is the engine's spec without its secrets (see
``secure.api._doc_spec``): route, models with field specs, operations,
active endpoints, RPC methods, auth mode, obfuscation flag, paging.
"""

import hashlib
import re
from collections import Counter

from .exceptions import STATUS_DESCRIPTIONS
from .operations import SCOPES

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


# What a request with a body can answer besides success.
WRITE_ERRORS = ("400", "401", "403", "404", "405", "409", "413", "422", "500")
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


def _errors(*statuses):
    return {code: {"$ref": f"#/components/responses/Error{code}"} for code in statuses}


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


def _add_upsert_paths(paths, base, model, name, fields, operation, ops):
    """``PUT <base>/by/<key>/{value}`` for each field marked as upsert key."""
    keys = [f for f in fields if f.get("upsert_key")] if "update" in ops else []
    for fspec in keys:
        path = f"{base}/by/{fspec['alias']}/{{value}}"
        paths[path] = {
            "parameters": [
                {
                    "name": "value",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                }
            ],
            "put": operation(
                "update",
                f"Create or update {model} by {fspec['alias']}",
                {
                    "200": _json(_envelope(_ref(f"{name}Record")), "Updated"),
                    "201": _json(_envelope(_ref(f"{name}Record")), "Created"),
                    **_errors(*WRITE_ERRORS, "412"),
                },
                requestBody={
                    "required": False,
                    "content": {"application/json": {"schema": _ref(f"{name}Update")}},
                },
                variant=f"upsert_by_{fspec['alias']}",
            ),
        }
        _add_write_headers(paths[path], item=True)


def _add_write_headers(entry, item):
    """Idempotency keys on every write; Prefer on creates and updates;
    If-Match (and its 412) on writes to one record."""
    for verb, operation in entry.items():
        if verb not in ("post", "patch", "put", "delete"):
            continue
        parameters = operation.setdefault("parameters", [])
        parameters.append(IDEMPOTENCY_KEY)
        responses = operation["responses"]
        if verb != "delete":
            parameters.append(PREFER)
            if verb == "post" and "201" in responses:
                responses["201"].setdefault(
                    "headers",
                    {"Location": {"schema": {"type": "string"}}},
                )
            if verb in ("patch", "put"):
                responses.setdefault(
                    "204", {"description": "Updated (Prefer: return=minimal)"}
                )
        if item:
            parameters.append(IF_MATCH)
            responses.setdefault("412", {"$ref": "#/components/responses/Error412"})


def build_openapi(apis, base_url="", title="Secure API", version="1.0.0"):
    """Return an OpenAPI 3.0.3 document (a dict) for ``apis``."""
    schemas = {
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
    responses = {
        f"Error{code}": _json(_ref("Error"), text)
        for code, text in STATUS_DESCRIPTIONS.items()
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


def _add_model_paths(paths, schemas, api, model, mspec, names):
    obfuscated = api["obfuscate"]
    name = names["schema"]
    fields = mspec["fields"]
    ident = id_schema(obfuscated, api.get("min_length"))
    record = {"type": "object", "required": ["id"], "properties": {"id": ident}}
    for fspec in fields:
        schema = output_schema(fspec, obfuscated)
        if fspec.get("string"):
            schema["title"] = fspec["string"]
        if fspec.get("alias") != fspec["name"]:
            schema["description"] = f"Odoo field {fspec['name']}"
        record["properties"][fspec["alias"]] = schema
    writable = [f for f in fields if f.get("writable")]
    defaulted = {line["name"] for line in mspec.get("defaults") or ()}
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
    schemas[f"{name}Record"] = record
    schemas[f"{name}Create"] = create_body
    schemas[f"{name}Update"] = update_body
    base = f"/api/{api['route']}" + (f"/{model}" if api["multi_model"] else "")
    active = {op for op, endpoint in api["endpoints"].items() if endpoint["active"]}
    ops = [op for op in api["operations"] if op in active]
    tag = [api["name"]]
    id_param = {"name": "id", "in": "path", "required": True, "schema": ident}
    searchable = [f["alias"] for f in fields if f.get("searchable")]
    text_searchable = [
        f["alias"]
        for f in fields
        if f.get("searchable") and f["type"] in ("char", "text", "html")
    ]
    aliases = [f["alias"] for f in fields] or ["id"]
    collection, item = {}, {}

    slug = names["slug"]

    def operation(op, summary, responses, variant=None, **extra):
        body = {
            "tags": tag,
            "summary": summary,
            "operationId": f"{slug}_{variant or op}",
            "security": _security(api, op),
            "responses": responses,
        }
        body.update(extra)
        return body

    if "search" in ops:
        schemas[f"{name}SearchResult"] = {
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
                "records": {
                    "type": "array",
                    "items": _ref(f"{name}Record"),
                },
            },
        }
        search_parameters = [
            {
                "name": "domain",
                "in": "query",
                "schema": {
                    "type": "string",
                    "pattern": domain_pattern(text_searchable),
                },
                "description": "Odoo domain as a literal list of terms over: "
                + (", ".join(["id", *searchable]))
                + "; the pattern shows the text-field subset",
            },
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
                    "default": api["default_limit"],
                },
                "description": f"Clamped to {api['max_limit']}",
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
            {
                "name": "fields",
                "in": "query",
                "schema": {"type": "string", "pattern": names_pattern(aliases)},
                "description": "Comma-separated subset of: "
                + ", ".join(f["alias"] for f in fields),
            },
            {
                "name": "count",
                "in": "query",
                "schema": {
                    "type": "string",
                    "enum": ["exact", "estimated", "none"],
                },
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
                "this UTC time, ordered by their last change",
            },
        ]
        collection["get"] = operation(
            "search",
            f"Search {model}",
            {
                "200": _json(_envelope(_ref(f"{name}SearchResult"))),
                **_errors("400", "401", "403", "404", "405", "500"),
            },
            parameters=search_parameters,
        )
    if "create" in ops:
        collection["post"] = operation(
            "create",
            f"Create {model}",
            {
                "201": _json(
                    _envelope(
                        {
                            "oneOf": [
                                _ref(f"{name}Record"),
                                {"type": "array", "items": _ref(f"{name}Record")},
                                # Bulk create with Prefer: return=minimal.
                                {"type": "array", "items": ident},
                            ]
                        }
                    ),
                    "Created",
                ),
                **_errors(*WRITE_ERRORS),
            },
            requestBody={
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                _ref(f"{name}Create"),
                                {
                                    "type": "array",
                                    "items": _ref(f"{name}Create"),
                                    "minItems": 1,
                                },
                            ]
                        }
                    }
                },
            },
        )
    if "update" in ops:
        # Concrete schemas rather than allOf over the update body: its
        # additionalProperties would refuse "ids" and "id".
        values = schemas[f"{name}Update"]["properties"]
        schemas[f"{name}UpdateMany"] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["ids"],
            "properties": {
                "ids": {"type": "array", "items": ident, "minItems": 1},
                **values,
            },
        }
        schemas[f"{name}UpdateItem"] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["id"],
            "properties": {"id": ident, **values},
        }
        bulk = {
            "oneOf": [
                _ref(f"{name}UpdateMany"),
                {"type": "array", "minItems": 1, "items": _ref(f"{name}UpdateItem")},
            ]
        }
        collection["patch"] = operation(
            "update",
            f"Update many {model}",
            {
                "200": _json(
                    _envelope({"type": "array", "items": _ref(f"{name}Record")})
                ),
                **_errors(*WRITE_ERRORS),
            },
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": bulk}},
            },
            variant="update_many",
        )
        for verb in ("patch", "put"):
            item[verb] = operation(
                "update",
                f"Update one {model}" + (" (PUT)" if verb == "put" else ""),
                {
                    "200": _json(_envelope(_ref(f"{name}Record"))),
                    **_errors(*WRITE_ERRORS),
                },
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": _ref(f"{name}Update")}},
                },
                variant="update" if verb == "patch" else "replace",
            )
    if "read" in ops:
        item["get"] = operation(
            "read",
            f"Read one {model}",
            {
                "200": _json(_envelope(_ref(f"{name}Record"))),
                "304": {"description": "Not modified (If-None-Match matched)"},
                **_errors("400", "401", "403", "404", "405", "500"),
            },
            parameters=[
                {
                    "name": "fields",
                    "in": "query",
                    "schema": {"type": "string", "pattern": names_pattern(aliases)},
                },
                IF_NONE_MATCH,
            ],
        )
    if "delete" in ops:
        deleted = _json(_envelope({"type": "array", "items": ident}))
        item["delete"] = operation(
            "delete",
            f"Delete one {model}",
            {
                "200": deleted,
                **_errors("401", "403", "404", "405", "409", "422", "500"),
            },
        )
        collection["delete"] = operation(
            "delete",
            f"Delete many {model}",
            {
                "200": deleted,
                **_errors(*WRITE_ERRORS),
            },
            variant="delete_many",
            requestBody={
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["ids"],
                            "additionalProperties": False,
                            "properties": {
                                "ids": {"type": "array", "items": ident, "minItems": 1}
                            },
                        }
                    }
                },
            },
        )
    _add_upsert_paths(paths, base, model, name, fields, operation, ops)
    _add_write_headers(collection, item=False)
    _add_write_headers(item, item=True)
    if collection:
        paths[base] = collection
    if item:
        item["parameters"] = [id_param]
        paths[f"{base}/{{id}}"] = item
    if "rpc" in ops:
        call_body = {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "args": {"type": "array"},
                            "kwargs": {"type": "object"},
                        },
                    }
                }
            },
        }
        for method in sorted(
            mspec.get("methods", {}).values(), key=lambda m: m["name"]
        ):
            path = (
                f"{base}/{{id}}/{method['name']}"
                if method["on_records"]
                else f"{base}/call/{method['name']}"
            )
            entry = {
                "post": operation(
                    "rpc",
                    f"Call {method['name']} on {model}",
                    {
                        "200": _json(_envelope({})),
                        **_errors(
                            "400", "401", "403", "404", "405", "409", "422", "500"
                        ),
                    },
                    requestBody=call_body,
                    variant=f"call_{method['name']}",
                )
            }
            if method["on_records"]:
                entry["parameters"] = [id_param]
            paths[path] = entry


def token_paths():
    """Paths of the token server (opaque and JWT tokens, RFC 7009 revocation,
    RFC 7662 introspection), in every document."""
    credentials = {
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
    }
    token_form = {
        "type": "object",
        "required": ["client_id", "client_secret"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            **credentials,
            "scope": {"type": "string"},
        },
    }
    token_form_body = {"application/x-www-form-urlencoded": {"schema": token_form}}
    oauth_errors = {
        "400": _json(_ref("OAuthError"), "RFC 6749 5.2 error"),
        "401": _json(_ref("OAuthError"), "invalid_client"),
        "413": _json(_ref("OAuthError"), "Body larger than the configured maximum"),
        "429": _json(_ref("OAuthError"), "Too many failed attempts; see Retry-After"),
    }

    def token_operation(operation_id, summary, body, response, description=""):
        return {
            "post": {
                "tags": ["Authentication"],
                "summary": summary,
                "description": description,
                "operationId": operation_id,
                "security": [],
                "requestBody": {"required": True, "content": body},
                "responses": {"200": response, **oauth_errors},
            }
        }

    token_with = {
        "type": "object",
        "required": ["client_id", "client_secret", "token"],
        "properties": {**credentials, "token": {"type": "string"}},
    }
    with_token = {"application/x-www-form-urlencoded": {"schema": token_with}}
    return {
        "/api/oauth2/token": token_operation(
            "oauth2_token",
            "Client credentials token (RFC 6749 4.4)",
            token_form_body,
            _json(_ref("TokenResponse")),
            "Also takes HTTP Basic client authentication (RFC 6749 2.3.1).",
        ),
        "/api/jwt/token": token_operation(
            "jwt_token",
            "JWT access token",
            {"application/json": {"schema": token_form}},
            _json(_ref("TokenResponse")),
            "The same credentials as JSON; the token is a JWT (HS256/384/512).",
        ),
        "/api/oauth2/revoke": token_operation(
            "oauth2_revoke",
            "Revoke one of this client's tokens (RFC 7009)",
            with_token,
            _json({"type": "object"}, "Revoked, or unknown to this client"),
        ),
        "/api/oauth2/introspect": token_operation(
            "oauth2_introspect",
            "Introspect one of this client's tokens (RFC 7662)",
            with_token,
            _json(
                {
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
            ),
        ),
    }
