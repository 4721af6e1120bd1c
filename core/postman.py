"""Postman collection v2.1 of a set of APIs, from their plain descriptions.

The collection runs as a whole in Postman's runner and in ``newman``: it
gets a token, then, per API and model, searches (by page and by cursor),
counts records by groups (where the API aggregates), creates a record with
an ``Idempotency-Key`` and retries it (replayed), reads it, updates it
with ``If-Match`` and deletes it, passing the token, the new id and the ETag
through collection variables, with ``pm.test`` checks on every request.
Only the client credentials need filling in (``client_id``,
``client_secret``).
"""

import json
import re

from . import aggregate as core_aggregate

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
EXAMPLES = {
    "char": "Postman {{$timestamp}}",
    "text": "Created from Postman",
    "html": "<p>Created from Postman</p>",
    "integer": 1,
    "float": 1.5,
    "monetary": 10.0,
    "boolean": True,
    "date": "2024-01-31",
    "datetime": "2024-01-31 12:00:00",
}
TOKEN_TESTS = [
    "pm.test('a token is issued', function () {",
    "    pm.response.to.have.status(200);",
    "    const body = pm.response.json();",
    "    pm.expect(body.token_type).to.eql('Bearer');",
    "    pm.collectionVariables.set('access_token', body.access_token);",
    "});",
]


def example_value(fspec, examples=None):
    """A value Odoo accepts for a field, or ``None`` when none is safe to
    invent (relations need real ids, binaries real files)."""
    examples = examples or EXAMPLES
    ftype = fspec["type"]
    if ftype == "selection":
        return (fspec.get("selection") or [None])[0]
    if ftype in ("char", "text") and "mail" in fspec["name"]:
        return examples.get("email", "postman@example.com")
    return examples.get(ftype)


def example_body(fields, examples=None):
    """A create body from the writable fields that take invented values
    (``examples``: values by field type, Postman's by default)."""
    body = {}
    for fspec in fields:
        if not fspec.get("writable"):
            continue
        if fspec.get("lines") is not None:
            # One line, from the writable line fields that take invented values.
            line = example_body(fspec["lines"], examples)
            if line:
                body[fspec["alias"]] = [line]
            continue
        value = example_value(fspec, examples)
        if value is not None:
            body[fspec["alias"]] = value
    return body


def update_example(body, fields):
    """An update body from a create body: its first value; lines, which a
    create lists, are added (``{"add": [...]}``)."""
    lines = {f["alias"] for f in fields if f.get("lines") is not None}
    for alias, value in list(body.items())[:1]:
        return {alias: {"add": value} if alias in lines else value}
    return {}


def variable_name(api, model):
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{api['route']}_{model}_id").strip("_")


def _url(path, query=()):
    raw = "{{base_url}}" + path
    url = {
        "raw": raw,
        "host": ["{{base_url}}"],
        "path": [p for p in path.strip("/").split("/") if p],
    }
    if query:
        url["query"] = [{"key": key, "value": value} for key, value in query]
        url["raw"] += "?" + "&".join(f"{key}={value}" for key, value in query)
    return url


def _tests(lines, prerequest=()):
    events = [{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}]
    if prerequest:
        events.append(
            {
                "listen": "prerequest",
                "script": {"type": "text/javascript", "exec": list(prerequest)},
            }
        )
    return events


def _request(
    name,
    method,
    path,
    tests,
    body=None,
    query=(),
    auth=True,
    headers=(),
    prerequest=(),
):
    request = {
        "method": method,
        "header": [{"key": key, "value": value} for key, value in headers],
        "url": _url(path, query),
    }
    if body is not None:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {
            "mode": "raw",
            "raw": body if isinstance(body, str) else json.dumps(body, indent=2),
            "options": {"raw": {"language": "json"}},
        }
    if not auth:
        request["auth"] = {"type": "noauth"}
    return {"name": name, "event": _tests(tests, prerequest), "request": request}


def _relation_aliases(fields):
    """Aliases of the writable many2one fields: their example value is a real
    id, taken from the records the collection's search finds."""
    return [
        fspec["alias"]
        for fspec in fields
        if fspec.get("writable") and fspec["type"] == "many2one"
    ]


def build_postman(apis, base_url="http://localhost:8069", name="Secure API"):
    """Return a Postman v2.1 collection (a dict): one folder per API."""
    token = {
        "name": "Get an access token (client credentials)",
        "event": _tests(TOKEN_TESTS),
        "request": {
            "method": "POST",
            "auth": {"type": "noauth"},
            "header": [],
            "body": {
                "mode": "urlencoded",
                "urlencoded": [
                    {"key": "grant_type", "value": "client_credentials"},
                    {"key": "client_id", "value": "{{client_id}}"},
                    {"key": "client_secret", "value": "{{client_secret}}"},
                ],
            },
            "url": _url("/api/oauth2/token"),
        },
    }
    folders = [{"name": "Authentication", "item": [token]}]
    variables = [
        {"key": "base_url", "value": base_url},
        {"key": "access_token", "value": ""},
        {"key": "client_id", "value": ""},
        {"key": "client_secret", "value": ""},
    ]
    for api in sorted(apis, key=lambda a: a["route"]):
        items = []
        public = api["auth_mode"] == "public"
        for model, mspec in sorted(api["models"].items()):
            items.extend(_model_items(api, model, mspec, public))
            variables.append({"key": variable_name(api, model), "value": ""})
        folders.append(
            {
                "name": api["name"],
                "description": api.get("description") or "",
                "item": items,
            }
        )
    return {
        "info": {
            "name": name,
            "schema": SCHEMA,
            "description": "Generated by secure_api. Fill in client_id and "
            "client_secret, then run the whole collection: it gets a token, "
            "then searches, creates, reads, updates and deletes one record per "
            "API and model.",
        },
        "auth": {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{access_token}}", "type": "string"}],
        },
        "variable": variables,
        "item": folders,
    }


class _Life:
    """What the requests of one API model share: the paths, the collection
    variable of the record they create, and how they authenticate."""

    def __init__(self, api, model, mspec, public):
        self.model = model
        self.base = f"/api/{api['route']}" + (f"/{model}" if api["multi_model"] else "")
        active = {op for op, endpoint in api["endpoints"].items() if endpoint["active"]}
        self.ops = [op for op in api["operations"] if op in active]
        self.var = variable_name(api, model)
        self.record_path = f"{self.base}/{{{{{self.var}}}}}"
        self.auth = not public
        self.relations = _relation_aliases(mspec["fields"])
        self.body = example_body(mspec["fields"])
        # Public APIs take no Idempotency-Key: their callers share one identity.
        self.key_header = (
            (("Idempotency-Key", f"{{{{{self.var}_key}}}}"),) if self.auth else ()
        )


def _model_items(api, model, mspec, public):
    """Search, then create, read, update and delete one record, chained; the
    create is retried with the same ``Idempotency-Key`` (replayed) and the
    update sends the read's ``ETag`` as ``If-Match``."""
    life = _Life(api, model, mspec, public)
    items = _search_items(life) if "search" in life.ops else []
    if "aggregate" in life.ops:
        items.append(_aggregate_item(life, mspec["fields"]))
    if "create" not in life.ops or not life.body:
        # Without a record of its own, the collection changes nothing.
        return items
    items += _create_items(life)
    if "read" in life.ops:
        items.append(_read_item(life))
    update = update_example(life.body, mspec["fields"])
    if "update" in life.ops and update:
        items.append(_update_item(life, update))
    if "delete" in life.ops:
        items.append(_delete_item(life))
    return items


def _search_items(life):
    """A page of records (remembering related ids for the create) and a
    page by cursor."""
    var = life.var
    remember = [
        line
        for index, alias in enumerate(life.relations)
        for line in (
            f"    const found_{index} = result.records.find("
            f"(r) => Array.isArray(r['{alias}']) && r['{alias}'].length);",
            f"    if (found_{index}) pm.collectionVariables.set("
            f"'{var}_{alias}', JSON.stringify(found_{index}['{alias}'][0]));",
        )
    ]
    search = _request(
        f"Search {life.model}",
        "GET",
        life.base,
        [
            "pm.test('search answers records', function () {",
            "    pm.response.to.have.status(200);",
            "    const result = pm.response.json().result;",
            "    pm.expect(result.records).to.be.an('array');",
            *remember,
            "});",
        ],
        query=[("limit", "5")],
        auth=life.auth,
    )
    by_cursor = _request(
        f"Search {life.model} by cursor",
        "GET",
        life.base,
        [
            "pm.test('a cursor page tells where the next one starts', function () {",
            "    pm.response.to.have.status(200);",
            "    const result = pm.response.json().result;",
            "    pm.expect(result).to.have.property('next_cursor');",
            "    pm.expect(result.records.length).to.be.at.most(2);",
            "});",
        ],
        query=[("limit", "2"), ("cursor", "")],
        auth=life.auth,
    )
    return [search, by_cursor]


def _aggregate_item(life, fields):
    """Counts grouped by the first field that groups (all records in one
    group when none does)."""
    groupable = [f["alias"] for f in fields if core_aggregate.groupable(f)]
    return _request(
        f"Aggregate {life.model}",
        "GET",
        f"{life.base}/aggregate",
        [
            "pm.test('the groups are counted', function () {",
            "    pm.response.to.have.status(200);",
            "    const result = pm.response.json().result;",
            "    pm.expect(result.groups).to.be.an('array');",
            "    pm.expect(result.length).to.be.a('number');",
            "    result.groups.forEach((group) => "
            "pm.expect(group.count).to.be.a('number'));",
            "});",
        ],
        query=[("groupby", groupable[0])] if groupable else (),
        auth=life.auth,
    )


def _create_prerequest(life):
    """The body is settled once (invented values, related ids the search
    found) so that the retry sends exactly the same request."""
    var = life.var
    prepare = [
        "const body = JSON.parse(pm.variables.replaceIn(pm.request.body.raw));",
        *(
            f"if (pm.collectionVariables.get('{var}_{alias}')) body['{alias}'] = "
            f"JSON.parse(pm.collectionVariables.get('{var}_{alias}'));"
            for alias in life.relations
        ),
        f"pm.collectionVariables.set('{var}_body', JSON.stringify(body));",
        "pm.request.body.update(JSON.stringify(body));",
    ]
    if life.auth:
        prepare.append(
            f"pm.collectionVariables.set('{var}_key', "
            "pm.variables.replaceIn('{{$guid}}'));"
        )
    return prepare


def _create_items(life):
    """The create, and its retry with the same key (replayed)."""
    var = life.var
    items = [
        _request(
            f"Create {life.model}",
            "POST",
            life.base,
            [
                "pm.test('the record is created', function () {",
                "    pm.response.to.have.status(201);",
                "    const record = pm.response.json().result;",
                "    pm.expect(record).to.have.property('id');",
                f"    pm.collectionVariables.set('{var}', record.id);",
                "});",
            ],
            body=life.body,
            auth=life.auth,
            headers=life.key_header,
            prerequest=_create_prerequest(life),
        )
    ]
    if life.auth:
        items.append(
            _request(
                f"Retry create {life.model} (replayed)",
                "POST",
                life.base,
                [
                    "pm.test('the retry replays the first answer', function () {",
                    "    pm.response.to.have.status(201);",
                    "    pm.expect(pm.response.headers.get('Idempotent-Replayed'))"
                    ".to.eql('true');",
                    "    pm.expect(String(pm.response.json().result.id))",
                    f"        .to.eql(String(pm.collectionVariables.get('{var}')));",
                    "});",
                ],
                body=f"{{{{{var}_body}}}}",
                auth=life.auth,
                headers=life.key_header,
            )
        )
    return items


def _read_item(life):
    var = life.var
    return _request(
        f"Read {life.model}",
        "GET",
        life.record_path,
        [
            "pm.test('the created record is read', function () {",
            "    pm.response.to.have.status(200);",
            "    pm.expect(String(pm.response.json().result.id))",
            f"        .to.eql(String(pm.collectionVariables.get('{var}')));",
            f"    pm.collectionVariables.set('{var}_etag', "
            "pm.response.headers.get('ETag'));",
            "});",
        ],
        auth=life.auth,
    )


def _update_item(life, update):
    """The update sends the ETag the read remembered as If-Match."""
    if_match = (("If-Match", f"{{{{{life.var}_etag}}}}"),)
    return _request(
        f"Update {life.model}",
        "PATCH",
        life.record_path,
        [
            "pm.test('the record is updated', function () {",
            "    pm.response.to.have.status(200);",
            "    pm.expect(pm.response.json().result).to.have.property('id');",
            "});",
        ],
        body=update,
        auth=life.auth,
        headers=if_match if "read" in life.ops else (),
    )


def _delete_item(life):
    return _request(
        f"Delete {life.model}",
        "DELETE",
        life.record_path,
        [
            "pm.test('the record is deleted', function () {",
            "    pm.response.to.have.status(200);",
            "    pm.expect(pm.response.json().result).to.have.lengthOf(1);",
            "});",
        ],
        auth=life.auth,
    )
