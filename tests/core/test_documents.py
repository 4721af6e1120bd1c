import json

import pytest
from openapi_spec_validator import validate

from core.openapi import build_openapi
from core.postman import build_postman

FIELDS = [
    {
        "name": "name",
        "alias": "name",
        "type": "char",
        "searchable": True,
        "writable": True,
        "required": True,
        "string": "Name",
        "related": [],
    },
    {
        "name": "email",
        "alias": "mail",
        "type": "char",
        "searchable": True,
        "writable": True,
        "related": [],
    },
    {
        "name": "type",
        "alias": "type",
        "type": "selection",
        "selection": ["contact", "other"],
        "writable": True,
        "related": [],
    },
    {"name": "date", "alias": "date", "type": "date", "writable": True, "related": []},
    {"name": "write_date", "alias": "updated", "type": "datetime", "related": []},
    {
        "name": "color",
        "alias": "color",
        "type": "integer",
        "writable": True,
        "related": [],
    },
    {
        "name": "image_128",
        "alias": "image",
        "type": "binary",
        "writable": True,
        "related": [],
    },
    {
        "name": "country_id",
        "alias": "country_id",
        "type": "many2one",
        "relation": "res.country",
        "writable": True,
        "related": [{"name": "name", "type": "char"}, {"name": "code", "type": "char"}],
    },
    {
        "name": "parent_id",
        "alias": "parent_id",
        "type": "many2one",
        "relation": "res.partner",
        "related": [],
    },
    {
        "name": "category_id",
        "alias": "tags",
        "type": "many2many",
        "relation": "res.partner.category",
        "writable": True,
        "related": [{"name": "name", "type": "char"}],
    },
    {
        "name": "child_ids",
        "alias": "children",
        "type": "one2many",
        "relation": "res.partner",
        "related": [],
    },
]
ALL_OPS = ("search", "read", "create", "update", "delete", "rpc")


def api(route, obfuscate, multi=False, auth="user", endpoints_off=()):
    models = {
        "res.partner": {
            "fields": FIELDS,
            "methods": {
                "address_get": {"name": "address_get", "on_records": True},
                "name_create": {"name": "name_create", "on_records": False},
            },
        }
    }
    if multi:
        models["res.country"] = {
            "fields": [
                {
                    "name": "code",
                    "alias": "code",
                    "type": "char",
                    "searchable": True,
                    "related": [],
                }
            ],
            "methods": {},
        }
    return {
        "id": 1,
        "name": f"API {route}",
        "route": route,
        "description": "d",
        "multi_model": multi,
        "models": models,
        "operations": ALL_OPS,
        "auth_mode": auth,
        "obfuscate": obfuscate,
        "default_limit": 80,
        "max_limit": 500,
        "endpoints": {
            op: {"id": i, "active": op not in endpoints_off}
            for i, op in enumerate(ALL_OPS)
        },
    }


APIS = [
    api("partner/rest", True),
    api("partner/plain", False, auth="public", endpoints_off=("delete",)),
    api("multi", True, multi=True),
]


def test_openapi_document_validates():
    openapi_spec_validator = pytest.importorskip("openapi_spec_validator")
    document = build_openapi(APIS, "http://localhost:8069")
    openapi_spec_validator.validate(document)
    paths = document["paths"]
    assert "/api/partner/rest" in paths and "/api/partner/rest/{id}" in paths
    assert (
        "/api/partner/rest/{id}/address_get" in paths
        and "/api/partner/rest/call/name_create" in paths
    )
    assert "/api/multi/res.country" in paths and "/api/multi/res.partner/{id}" in paths
    assert "delete" not in paths["/api/partner/plain/{id}"], (
        "switched-off endpoints are not documented"
    )
    assert paths["/api/partner/plain"]["get"]["security"] == []
    search = paths["/api/partner/rest"]["get"]
    assert {p["name"] for p in search["parameters"]} == {
        "domain",
        "offset",
        "limit",
        "order",
        "fields",
        "count",
        "cursor",
        "changed_since",
    }
    create = paths["/api/partner/rest"]["post"]
    assert {p["name"] for p in create["parameters"]} == {"Idempotency-Key", "Prefer"}
    update = paths["/api/partner/rest/{id}"]["patch"]
    assert {"If-Match", "Idempotency-Key"} <= {p["name"] for p in update["parameters"]}
    assert {"204", "412"} <= set(update["responses"])
    schemas = document["components"]["schemas"]
    record = schemas["PartnerRestResPartnerRecord"]["properties"]
    assert (
        record["id"]["type"] == "string" and "mail" in record and "email" not in record
    )
    assert (
        schemas["PartnerPlainResPartnerRecord"]["properties"]["id"]["type"] == "integer"
    )
    assert record["country_id"]["items"]["oneOf"][1]["properties"].keys() == {
        "name",
        "code",
    }
    inputs = schemas["PartnerRestResPartnerUpdate"]
    assert (
        inputs["additionalProperties"] is False
        and "updated" not in inputs["properties"]
    )
    schemes = document["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"].endswith(
        "/api/oauth2/token"
    )
    assert set(schemes) == {"oauth2", "bearerJWT", "sessionCookie"}


def test_postman_collection_structure():
    collection = build_postman(APIS, "http://localhost:8069")
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert collection["auth"]["type"] == "bearer"
    assert {v["key"] for v in collection["variable"]} >= {"base_url", "access_token"}
    folders = {f["name"]: f for f in collection["item"]}
    assert "Authentication" in folders
    token_request = folders["Authentication"]["item"][0]
    assert token_request["request"]["url"]["raw"] == "{{base_url}}/api/oauth2/token"
    rest = [
        i["request"]["method"] + " " + i["request"]["url"]["raw"]
        for i in folders["API partner/rest"]["item"]
    ]
    var = "{{partner_rest_res_partner_id}}"
    # One record's life, chained through a collection variable.
    assert rest == [
        "GET {{base_url}}/api/partner/rest?limit=5",
        "GET {{base_url}}/api/partner/rest?limit=2&cursor=",
        "POST {{base_url}}/api/partner/rest",
        "POST {{base_url}}/api/partner/rest",
        f"GET {{{{base_url}}}}/api/partner/rest/{var}",
        f"PATCH {{{{base_url}}}}/api/partner/rest/{var}",
        f"DELETE {{{{base_url}}}}/api/partner/rest/{var}",
    ]
    create = folders["API partner/rest"]["item"][2]
    assert "pm.collectionVariables.set('partner_rest_res_partner_id', record.id);" in (
        "\n".join(create["event"][0]["script"]["exec"])
    )
    body = json.loads(create["request"]["body"]["raw"])
    assert all(not isinstance(v, list) for v in body.values())
    for folder in collection["item"]:
        for item in folder["item"]:
            assert item["event"][0]["listen"] == "test", item["name"]
    plain = folders["API partner/plain"]["item"]
    assert all(i["request"]["auth"]["type"] == "noauth" for i in plain)
    assert not any(i["request"]["method"] == "DELETE" for i in plain)
    create = next(
        i
        for i in folders["API partner/rest"]["item"]
        if i["request"]["method"] == "POST"
    )
    assert '"mail": "postman@example.com"' in create["request"]["body"]["raw"]


def script(item, listen):
    return "\n".join(
        line
        for event in item["event"]
        if event["listen"] == listen
        for line in event["script"]["exec"]
    )


def test_postman_retries_the_create_with_its_idempotency_key():
    folders = {f["name"]: f for f in build_postman(APIS)["item"]}
    items = {i["name"]: i for i in folders["API partner/rest"]["item"]}
    create, retry = (
        items["Create res.partner"],
        items["Retry create res.partner (replayed)"],
    )
    key = {"key": "Idempotency-Key", "value": "{{partner_rest_res_partner_id_key}}"}
    assert key in create["request"]["header"] and key in retry["request"]["header"]
    # The retry sends the very body the create sent, settled before it ran.
    assert "partner_rest_res_partner_id_body" in script(create, "prerequest")
    assert retry["request"]["body"]["raw"] == "{{partner_rest_res_partner_id_body}}"
    assert "Idempotent-Replayed" in script(retry, "test")
    # Public APIs take no key: no header and no retry.
    plain = [i["name"] for i in folders["API partner/plain"]["item"]]
    assert not any(name.startswith("Retry") for name in plain)


def test_postman_updates_with_the_etag_it_read():
    folders = {f["name"]: f for f in build_postman(APIS)["item"]}
    items = {i["name"]: i for i in folders["API partner/rest"]["item"]}
    assert "'partner_rest_res_partner_id_etag'" in script(
        items["Read res.partner"], "test"
    )
    assert {
        "key": "If-Match",
        "value": "{{partner_rest_res_partner_id_etag}}",
    } in items["Update res.partner"]["request"]["header"]


def test_postman_takes_related_ids_from_what_the_search_found():
    folders = {f["name"]: f for f in build_postman(APIS)["item"]}
    items = {i["name"]: i for i in folders["API partner/rest"]["item"]}
    assert "'partner_rest_res_partner_id_country_id'" in script(
        items["Search res.partner"], "test"
    )
    assert "body['country_id']" in script(items["Create res.partner"], "prerequest")


def test_webhook_events_are_described_as_x_webhooks():
    apis = [dict(api, webhooks=True) for api in APIS]
    document = build_openapi(apis, "http://localhost:8069")
    validate(document)
    event = document["x-webhooks"]["partner/rest res.partner"]["post"]
    body = event["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["record"] == {
        "$ref": "#/components/schemas/PartnerRestResPartnerRecord"
    }
    assert "x-webhooks" not in build_openapi(APIS, "http://localhost:8069")


def operations_of(document):
    return {
        op["operationId"]
        for entry in document["paths"].values()
        for verb, op in entry.items()
        if verb != "parameters"
    }


def test_operation_ids_are_stable_names_a_generated_client_uses():
    ids = operations_of(build_openapi(APIS, "http://localhost:8069"))
    assert {
        "partner_rest_search",
        "partner_rest_read",
        "partner_rest_create",
        "partner_rest_update",
        "partner_rest_replace",
        "partner_rest_update_many",
        "partner_rest_delete",
        "partner_rest_delete_many",
    } <= ids
    assert len(ids) == sum(
        1
        for entry in build_openapi(APIS)["paths"].values()
        for verb in entry
        if verb != "parameters"
    )


def test_named_schemas_per_api_and_model():
    schemas = build_openapi(APIS)["components"]["schemas"]
    for suffix in (
        "Record",
        "Create",
        "Update",
        "UpdateMany",
        "UpdateItem",
        "SearchResult",
    ):
        assert f"PartnerRestResPartner{suffix}" in schemas
    # name is required by Odoo and has no default; the others are optional.
    assert schemas["PartnerRestResPartnerCreate"]["required"] == ["name"]
    assert "required" not in schemas["PartnerRestResPartnerUpdate"]


def test_documented_answers_validate_what_the_server_sends():
    from openapi_schema_validator import OAS30Validator

    document = build_openapi(APIS)
    components = document["components"]

    def valid(schema, value):
        return OAS30Validator({**schema, "components": components}).is_valid(value)

    created = document["paths"]["/api/partner/rest"]["post"]["responses"]["201"]
    schema = created["content"]["application/json"]["schema"]
    # A bulk create with Prefer: return=minimal answers the ids only.
    assert valid(schema, {"jsonrpc": "2.0", "id": None, "result": ["abc", "def"]})
    many = components["schemas"]["PartnerRestResPartnerUpdateMany"]
    assert valid(many, {"ids": ["abc"], "name": "Renamed"})
    assert not valid(many, {"ids": ["abc"], "unknown": 1})
    item = components["schemas"]["PartnerRestResPartnerUpdateItem"]
    assert valid(item, {"id": "abc", "mail": "a@example.com"})


def test_routes_that_read_alike_keep_names_of_their_own():
    base = next(api for api in APIS if api["route"] == "partner/rest")
    twins = [dict(base, route=route) for route in ("t/b", "t_b", "t-b")]
    document = build_openapi(twins)
    ids = [
        op["operationId"]
        for entry in document["paths"].values()
        for verb, op in entry.items()
        if verb != "parameters"
    ]
    assert len(ids) == len(set(ids))
    records = [
        name for name in document["components"]["schemas"] if name.endswith("Record")
    ]
    assert len(records) == 3
    # A route alone in its document keeps the readable name.
    alone = build_openapi([twins[0]])
    assert "TBResPartnerRecord" in alone["components"]["schemas"]


def test_every_success_and_429_documents_the_rate_limit_headers():
    document = build_openapi([api("partner/rest", True)], "http://x")
    headers = document["components"]["headers"]
    assert {"RateLimit-Policy", "RateLimit", "X-RateLimit-Reset", "Retry-After"} <= set(
        headers
    )
    too_many = document["components"]["responses"]["Error429"]["headers"]
    assert "Retry-After" in too_many and "RateLimit" in too_many
    for path, entry in document["paths"].items():
        for verb, operation in entry.items():
            if verb == "parameters" or path.startswith("/api/oauth2/"):
                continue
            responses = operation["responses"]
            assert responses["429"] == {"$ref": "#/components/responses/Error429"}
            for status, response in responses.items():
                if status.startswith("2"):
                    assert "X-RateLimit-Remaining" in response["headers"], (path, verb)
    validate(document)
