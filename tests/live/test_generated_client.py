"""A Python client generated from the OpenAPI document that a client app gets
(``GET /api/openapi.json`` with its Bearer token) drives the live server:
tokens, search, create, read, update and delete, through the generated code
only. Every answer is also checked against the document's own schema for its
operation and status, so the document says what the server does."""

import importlib
import json
import os
import subprocess
import sys
import uuid

import pytest
from conftest import CONTACTS, PARTNERS
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

PACKAGE = "secure_api_live_client"


def slug(route):
    return route.replace("/", "_")


def operation_ids(document):
    return {
        operation["operationId"]
        for entry in document["paths"].values()
        for verb, operation in entry.items()
        if verb != "parameters"
    }


def check_shape(document, path, verb, response):
    """The answer matches the document's schema for that operation and status."""
    responses = document["paths"][path][verb]["responses"]
    spec = responses.get(str(response.status_code))
    assert spec is not None, (
        f"{verb.upper()} {path} answered {response.status_code}, "
        f"which the document does not list ({sorted(responses)})"
    )
    if "$ref" in spec:
        spec = document["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
    if "content" not in spec:
        assert not response.content, "a body the document does not describe"
        return
    schema = spec["content"]["application/json"]["schema"]
    # $refs resolve against the root: give the schema the document's components.
    OAS30Validator({**schema, "components": document["components"]}).validate(
        json.loads(response.content)
    )


@pytest.fixture(scope="module")
def client_package(openapi_document, tmp_path_factory):
    """Generate the client with openapi-python-client and import it."""
    work = tmp_path_factory.mktemp("generated")
    source = work / "openapi.json"
    source.write_text(json.dumps(openapi_document, indent=2), encoding="utf-8")
    # The generator formats its output with the ruff installed beside it.
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(source),
        "--output-path",
        str(work / PACKAGE),
        "--meta",
        "none",
        "--fail-on-warning",
    ]
    run = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"openapi-python-client failed:\n{output}"
    assert "Warning" not in output, f"the generator warned:\n{output}"
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(work))


def load(name):
    return importlib.import_module(f"{PACKAGE}.{name}")


def api_module(tag, operation_id):
    return load(f"api.{tag}.{operation_id}")


@pytest.fixture()
def client(client_package, server, token):
    authenticated = client_package.AuthenticatedClient(
        base_url=server["url"], token=token, raise_on_unexpected_status=True
    )
    with authenticated as opened:
        yield opened


def test_document_is_valid_and_scoped_to_the_client(openapi_document):
    validate_spec(openapi_document)
    assert openapi_document["openapi"] == "3.0.3"
    paths = set(openapi_document["paths"])
    for route in (PARTNERS, CONTACTS):
        assert {f"/api/{route}", f"/api/{route}/{{id}}"} <= paths
    # Exactly what this client app may call: its two APIs, and the token server.
    allowed = (f"/api/{PARTNERS}", f"/api/{CONTACTS}", "/api/oauth2/", "/api/jwt/")
    assert [p for p in paths if not p.startswith(allowed)] == []
    ids = operation_ids(openapi_document)
    for route in (PARTNERS, CONTACTS):
        base = slug(route)
        assert {
            f"{base}_search",
            f"{base}_create",
            f"{base}_update_many",
            f"{base}_delete_many",
            f"{base}_read",
            f"{base}_update",
            f"{base}_replace",
            f"{base}_delete",
            f"{base}_aggregate",
        } <= ids
    assert {"oauth2_token", "jwt_token", "oauth2_revoke", "oauth2_introspect"} <= ids
    schemas = openapi_document["components"]["schemas"]
    record = schemas["LivePartnersResPartnerRecord"]["properties"]
    assert record["id"]["type"] == "integer"
    assert set(record) == {
        "id",
        "name",
        "mail",
        "is_company",
        "country_id",
        "latitude",
        "color",
    }
    assert schemas["LiveContactsResPartnerRecord"]["properties"]["id"]["type"] == (
        "string"
    )


def test_tokens_through_the_generated_client(client_package, server, live):
    models = load("models")
    anonymous = client_package.Client(
        base_url=server["url"], raise_on_unexpected_status=True
    )
    credentials = {
        "client_id": live["client_id"],
        "client_secret": live["client_secret"],
    }
    with anonymous as opened:
        response = api_module("authentication", "oauth2_token").sync_detailed(
            client=opened,
            body=models.Oauth2TokenBody(
                grant_type=models.Oauth2TokenBodyGrantType.CLIENT_CREDENTIALS,
                **credentials,
            ),
        )
        assert response.status_code == 200, response.content
        opaque = response.parsed
        assert isinstance(opaque, models.TokenResponse)
        assert opaque.token_type == models.TokenResponseTokenType.BEARER
        assert set(opaque.scope.split()) == {
            "search",
            "read",
            "create",
            "update",
            "delete",
            "rpc",
        }
        assert opaque.expires_in > 0
        response = api_module("authentication", "jwt_token").sync_detailed(
            client=opened, body=models.JwtTokenBody(**credentials)
        )
        assert response.status_code == 200, response.content
        jwt = response.parsed
        assert isinstance(jwt, models.TokenResponse)
        assert jwt.access_token.count(".") == 2
        response = api_module("authentication", "oauth2_introspect").sync_detailed(
            client=opened,
            body=models.Oauth2IntrospectBody(token=jwt.access_token, **credentials),
        )
        assert response.status_code == 200, response.content
        assert isinstance(response.parsed, models.Oauth2IntrospectResponse200)
        assert response.parsed.active is True
        assert response.parsed.client_id == live["client_id"]
        # A revoked token no longer works, and the error parses as Error.
        response = api_module("authentication", "oauth2_revoke").sync_detailed(
            client=opened,
            body=models.Oauth2RevokeBody(token=jwt.access_token, **credentials),
        )
        assert response.status_code == 200, response.content
    revoked = client_package.AuthenticatedClient(
        base_url=server["url"], token=jwt.access_token
    )
    with revoked as opened:
        response = api_module(slug(PARTNERS), f"{slug(PARTNERS)}_search").sync_detailed(
            client=opened, limit=1
        )
    assert response.status_code == 401
    assert isinstance(response.parsed, models.Error)
    assert response.parsed.error.code == 401


def test_crud_through_the_generated_client(client, openapi_document, live):
    """Search, create, read, update and delete one partner, typed all along."""
    models = load("models")
    tag, base = slug(PARTNERS), slug(PARTNERS)
    collection, item = f"/api/{PARTNERS}", f"/api/{PARTNERS}/{{id}}"
    record_type = models.LivePartnersResPartnerRecord
    country_type = models.LivePartnersResPartnerRecordCountryIdItemType1
    name = f"Live {uuid.uuid4().hex[:10]}"
    fields = "name,mail,is_company,country_id,latitude,color"

    # create
    body = models.LivePartnersResPartnerCreate(
        name=name,
        mail="live@example.com",
        is_company=True,
        country_id=live["belgium"],
        latitude=50.8503,
        color=3,
    )
    response = api_module(tag, f"{base}_create").sync_detailed(client=client, body=body)
    assert response.status_code == 201, response.content
    check_shape(openapi_document, collection, "post", response)
    assert isinstance(response.parsed, models.LivePartnersCreateResponse201)
    created = response.parsed.result
    assert isinstance(created, record_type)
    assert isinstance(created.id, int) and created.id > 0
    assert (created.name, created.mail, created.is_company) == (
        name,
        "live@example.com",
        True,
    )
    assert created.latitude == pytest.approx(50.8503)
    assert created.color == 3
    country_id, country = created.country_id
    assert country_id == live["belgium"]
    assert isinstance(country, country_type)
    assert (country.code, country.name) == ("BE", "Belgium")
    partner_id = created.id

    # search
    response = api_module(tag, f"{base}_search").sync_detailed(
        client=client,
        domain=f'[("name", "=", "{name}")]',
        fields=fields,
        order="id desc",
        count=models.LivePartnersSearchCount.EXACT,
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, collection, "get", response)
    assert isinstance(response.parsed, models.LivePartnersSearchResponse200)
    result = response.parsed.result
    assert isinstance(result, models.LivePartnersResPartnerSearchResult)
    assert result.length == 1
    assert [type(r) for r in result.records] == [record_type]
    assert result.records[0].id == partner_id
    assert result.records[0].to_dict() == created.to_dict()

    # read
    read = api_module(tag, f"{base}_read")
    response = read.sync_detailed(partner_id, client=client)
    assert response.status_code == 200, response.content
    check_shape(openapi_document, item, "get", response)
    assert isinstance(response.parsed, models.LivePartnersReadResponse200)
    assert isinstance(response.parsed.result, record_type)
    assert response.parsed.result.to_dict() == created.to_dict()
    assert response.headers.get("etag")

    # update: values of each type, and a relation emptied
    renamed = f"{name} b"
    response = api_module(tag, f"{base}_update").sync_detailed(
        partner_id,
        client=client,
        body=models.LivePartnersResPartnerUpdate(
            name=renamed, is_company=False, country_id=False, latitude=-1.25, color=7
        ),
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, item, "patch", response)
    assert isinstance(response.parsed, models.LivePartnersUpdateResponse200)
    updated = response.parsed.result
    assert isinstance(updated, record_type)
    assert updated.id == partner_id
    assert (updated.name, updated.mail, updated.is_company) == (
        renamed,
        "live@example.com",
        False,
    )
    assert updated.country_id == []
    assert updated.latitude == pytest.approx(-1.25)
    assert updated.color == 7
    response = read.sync_detailed(partner_id, client=client, fields="name,country_id")
    assert response.status_code == 200, response.content
    check_shape(openapi_document, item, "get", response)
    assert response.parsed.result.to_dict() == {
        "id": partner_id,
        "name": renamed,
        "country_id": [],
    }

    # delete
    response = api_module(tag, f"{base}_delete").sync_detailed(
        partner_id, client=client
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, item, "delete", response)
    assert isinstance(response.parsed, models.LivePartnersDeleteResponse200)
    assert response.parsed.result == [partner_id]

    # gone: a typed 404
    response = read.sync_detailed(partner_id, client=client)
    assert response.status_code == 404, response.content
    check_shape(openapi_document, item, "get", response)
    assert isinstance(response.parsed, models.Error)
    assert response.parsed.error.code == 404
    assert response.parsed.error.data.name == "not_found"


def test_bulk_and_obfuscated_ids_through_the_generated_client(client, openapi_document):
    """Hashids ids are strings end to end; bulk create and delete are typed."""
    models = load("models")
    tag, base = slug(CONTACTS), slug(CONTACTS)
    collection, item = f"/api/{CONTACTS}", f"/api/{CONTACTS}/{{id}}"
    record_type = models.LiveContactsResPartnerRecord
    stem = f"Contact {uuid.uuid4().hex[:8]}"
    body = [
        models.LiveContactsResPartnerCreate(name=f"{stem} {n}", phone=f"+32 2 00{n}")
        for n in range(3)
    ]
    response = api_module(tag, f"{base}_create").sync_detailed(client=client, body=body)
    assert response.status_code == 201, response.content
    check_shape(openapi_document, collection, "post", response)
    created = response.parsed.result
    assert isinstance(created, list) and len(created) == 3
    assert all(isinstance(r, record_type) for r in created)
    ids = [r.id for r in created]
    assert all(isinstance(i, str) and not i.isdigit() for i in ids), ids
    assert [r.name for r in created] == [f"{stem} {n}" for n in range(3)]

    response = api_module(tag, f"{base}_search").sync_detailed(
        client=client, domain=f'[("name", "ilike", "{stem}")]', order="id"
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, collection, "get", response)
    assert [r.id for r in response.parsed.result.records] == ids

    response = api_module(tag, f"{base}_read").sync_detailed(ids[1], client=client)
    assert response.status_code == 200, response.content
    check_shape(openapi_document, item, "get", response)
    assert response.parsed.result.to_dict() == created[1].to_dict()

    response = api_module(tag, f"{base}_replace").sync_detailed(
        ids[1],
        client=client,
        body=models.LiveContactsResPartnerUpdate(phone="+32 2 999"),
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, item, "put", response)
    assert response.parsed.result.phone == "+32 2 999"
    assert response.parsed.result.id == ids[1]

    response = api_module(tag, f"{base}_delete_many").sync_detailed(
        client=client, body=models.LiveContactsDeleteManyBody(ids=ids)
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, collection, "delete", response)
    assert sorted(response.parsed.result) == sorted(ids)
    response = api_module(tag, f"{base}_search").sync_detailed(
        client=client, domain=f'[("name", "ilike", "{stem}")]'
    )
    assert response.status_code == 200, response.content
    assert response.parsed.result.records == []
    assert response.parsed.result.length == 0


def test_upsert_and_safe_retries_through_the_generated_client(client, openapi_document):
    """PUT by a key field creates then updates; a create retried with the same
    Idempotency-Key creates one record and replays the first answer."""
    models = load("models")
    tag, base = slug(PARTNERS), slug(PARTNERS)
    upsert_path = f"/api/{PARTNERS}/by/mail/{{value}}"
    upsert = api_module(tag, f"{base}_upsert_by_mail")
    mail = f"upsert-{uuid.uuid4().hex[:10]}@example.com"

    response = upsert.sync_detailed(
        mail, client=client, body=models.LivePartnersResPartnerUpdate(name="Upsert a")
    )
    assert response.status_code == 201, response.content
    check_shape(openapi_document, upsert_path, "put", response)
    first = response.parsed
    assert isinstance(first, models.LivePartnersUpsertByMailResponse201)
    assert isinstance(first.result, models.LivePartnersResPartnerRecord)
    assert (first.result.name, first.result.mail) == ("Upsert a", mail)
    response = upsert.sync_detailed(
        mail, client=client, body=models.LivePartnersResPartnerUpdate(name="Upsert b")
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, upsert_path, "put", response)
    assert isinstance(response.parsed, models.LivePartnersUpsertByMailResponse200)
    assert response.parsed.result.id == first.result.id
    assert response.parsed.result.name == "Upsert b"

    create = api_module(tag, f"{base}_create")
    key = f"live-{uuid.uuid4().hex}"
    body = models.LivePartnersResPartnerCreate(name="Retried once")
    answers = [
        create.sync_detailed(client=client, body=body, idempotency_key=key)
        for _attempt in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201], answers[-1].content
    for answer in answers:
        check_shape(openapi_document, f"/api/{PARTNERS}", "post", answer)
    assert answers[0].parsed.result.id == answers[1].parsed.result.id
    assert answers[1].headers.get("idempotent-replayed") == "true"
    assert answers[0].headers.get("idempotent-replayed") is None

    ids = [first.result.id, answers[0].parsed.result.id]
    response = api_module(tag, f"{base}_delete_many").sync_detailed(
        client=client, body=models.LivePartnersDeleteManyBody(ids=ids)
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, f"/api/{PARTNERS}", "delete", response)
    assert sorted(response.parsed.result) == sorted(ids)


def test_aggregate_through_the_generated_client(client, openapi_document, live):
    """Counts and measures by groups, through a domain that filters through a
    related field, typed as the document describes them."""
    models = load("models")
    tag, base = slug(PARTNERS), slug(PARTNERS)
    stem = f"Aggregate {uuid.uuid4().hex[:8]}"
    create = api_module(tag, f"{base}_create")
    ids = []
    for color in (1, 2, 3):
        response = create.sync_detailed(
            client=client,
            body=models.LivePartnersResPartnerCreate(
                name=f"{stem} {color}", country_id=live["belgium"], color=color
            ),
        )
        assert response.status_code == 201, response.content
        ids.append(response.parsed.result.id)
    aggregate = api_module(tag, f"{base}_aggregate")
    response = aggregate.sync_detailed(
        client=client,
        groupby="country_id",
        measures="color:sum,latitude:avg",
        domain=f'[("country_id.code", "=", "BE"), ("name", "=like", "{stem}%")]',
        accept_language="en-US",
    )
    assert response.status_code == 200, response.content
    check_shape(openapi_document, f"/api/{PARTNERS}/aggregate", "get", response)
    assert response.headers.get("content-language") == "en-US"
    result = response.parsed.result
    assert isinstance(result, models.LivePartnersResPartnerAggregateResult)
    assert result.length == 1
    (group,) = result.groups
    assert isinstance(group, models.LivePartnersResPartnerGroup)
    assert group.count == 3
    assert list(group.country_id) == [live["belgium"], "Belgium"]
    assert group.additional_properties["color:sum"] == 6
    # A refusal names the field.
    response = aggregate.sync_detailed(client=client, groupby="nope")
    assert response.status_code == 400, response.content
    check_shape(openapi_document, f"/api/{PARTNERS}/aggregate", "get", response)
    assert response.parsed.error.data.name == "invalid_field"
    response = api_module(tag, f"{base}_delete_many").sync_detailed(
        client=client, body=models.LivePartnersDeleteManyBody(ids=ids)
    )
    assert response.status_code == 200, response.content


def test_minimal_bulk_create_through_the_generated_client(
    client, openapi_document, admin
):
    models = load("models")
    tag, base = slug(PARTNERS), slug(PARTNERS)
    stem = f"Minimal {uuid.uuid4().hex[:8]}"
    try:
        response = api_module(tag, f"{base}_create").sync_detailed(
            client=client,
            body=[
                models.LivePartnersResPartnerCreate(name=f"{stem} {n}")
                for n in range(2)
            ],
            prefer=models.LivePartnersCreatePrefer.RETURNMINIMAL,
        )
        assert response.status_code == 201, response.content
        check_shape(openapi_document, f"/api/{PARTNERS}", "post", response)
        ids = response.parsed.result
        assert isinstance(ids, list) and all(isinstance(i, int) for i in ids), ids
        assert response.headers.get("preference-applied") == "return=minimal"
    finally:
        found = admin.call("res.partner", "search", [("name", "=like", f"{stem} %")])
        if found:
            admin.call("res.partner", "unlink", found)
