"""The /api/docs page's data: endpoints from the operation registry, example
bodies, and the sync features an API offers."""

import json

from core.docs import endpoints, sync_notes

FIELDS = [
    {"name": "name", "alias": "name", "type": "char", "writable": True},
    {
        "name": "ref",
        "alias": "sku",
        "type": "char",
        "writable": True,
        "upsert_key": True,
    },
    {"name": "country_id", "alias": "country", "type": "many2one", "writable": True},
]
OPS = ("search", "read", "create", "update", "delete", "rpc")


def spec(auth_mode="user", active=OPS):
    return {
        "auth_mode": auth_mode,
        "operations": list(OPS),
        "endpoints": {op: {"active": op in active} for op in OPS},
    }


MODEL = {"fields": FIELDS, "methods": {"ping": {"on_records": False}}}


def test_every_active_operation_has_its_endpoints_and_curl_lines():
    found = endpoints(spec(), MODEL, "/api/shop", "https://odoo.example")
    pairs = [(e["label"], e["method"], e["path"]) for e in found]
    assert pairs == [
        ("Search", "GET", "/api/shop"),
        ("Read", "GET", "/api/shop/{id}"),
        ("Create", "POST", "/api/shop"),
        ("Update", "PATCH", "/api/shop/{id}"),
        ("Delete", "DELETE", "/api/shop/{id}"),
        ("RPC", "POST", "/api/shop/call/ping"),
        ("Upsert", "PUT", "/api/shop/by/sku/{value}"),
    ]
    create = found[2]
    assert json.loads(create["body"]) == {"name": "Example", "sku": "Example"}
    assert create["curl"].startswith("curl -g -X POST")
    assert '-H "Idempotency-Key: $(uuidgen)"' in create["curl"]
    assert "Authorization: Bearer" in found[0]["curl"]
    assert found[0]["try_path"] == "/api/shop?limit=10"


def test_disabled_operations_and_public_apis_show_less():
    found = endpoints(spec("public", ("search",)), MODEL, "/api/p", "")
    assert [e["operation"] for e in found] == ["search"]
    assert "Authorization" not in found[0]["curl"]
    notes = dict(sync_notes(spec("public", ("search", "create"))))
    assert "Idempotency-Key" not in notes
    assert {"cursor", "changed_since", "count=estimated"} <= set(notes)


def test_sync_notes_follow_the_enabled_operations():
    notes = dict(sync_notes(spec(active=("read", "update"))))
    assert set(notes) == {
        "ETag / If-None-Match",
        "If-Match",
        "Idempotency-Key",
        "Prefer: return=minimal",
    }
    assert all(note.template for note in notes.values())


def test_curl_lines_split_back_into_what_they_send():
    import shlex

    from core.docs import curl_line

    line = curl_line(
        "POST",
        "https://odoo.example/api/shop?domain=[('name','=','x')]",
        bearer=True,
        body_text='{"name": "O\'Neil"}',
        headers=(("Idempotency-Key", "$(uuidgen)"),),
    )
    assert shlex.split(line) == [
        "curl",
        "-g",
        "-X",
        "POST",
        "-H",
        "Authorization: Bearer $TOKEN",
        "-H",
        "Idempotency-Key: $(uuidgen)",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name": "O\'Neil"}',
        "https://odoo.example/api/shop?domain=[('name','=','x')]",
    ]
    # The shell expands the token and the key: they sit in double quotes.
    assert '"Authorization: Bearer $TOKEN"' in line
