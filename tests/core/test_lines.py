"""Lines of a one2many written with their header (core.lines)."""

import json

import pytest

from core import lines
from core import serializer as s
from core.exceptions import BadRequest
from core.hashid import IdCodec

LINES = [
    {"name": "name", "alias": "name", "type": "char", "writable": True},
    {"name": "email", "alias": "mail", "type": "char", "writable": True},
    {
        "name": "country_id",
        "alias": "country",
        "type": "many2one",
        "relation": "res.country",
        "writable": True,
    },
    {"name": "ref", "alias": "ref", "type": "char", "writable": False},
]
SPEC = {
    "model": "res.partner",
    "fields": [
        {"name": "name", "alias": "name", "type": "char", "writable": True},
        {
            "name": "child_ids",
            "alias": "contacts",
            "type": "one2many",
            "relation": "res.partner",
            "writable": True,
            "lines": LINES,
        },
        {
            "name": "bank_ids",
            "alias": "banks",
            "type": "one2many",
            "relation": "res.partner.bank",
            "writable": True,
            "lines": None,
        },
    ],
}


def plain(model):
    return IdCodec(False, "", model)


def obfuscated(model):
    return IdCodec(True, "salt", model, 8)


def refused(payload, creating, codec_for=plain):
    with pytest.raises(BadRequest) as caught:
        s.values_in(payload, SPEC, codec_for, creating=creating)
    return caught.value


def test_create_takes_a_list_of_lines_as_create_commands():
    vals = s.values_in(
        {"name": "Co", "contacts": [{"name": "A"}, {"name": "B", "country": 21}]},
        SPEC,
        plain,
        creating=True,
    )
    assert vals["child_ids"] == [
        (0, 0, {"name": "A"}),
        (0, 0, {"name": "B", "country_id": 21}),
    ]


def test_update_takes_add_update_and_remove():
    vals = s.values_in(
        {
            "contacts": {
                "add": [{"name": "New"}],
                "update": [{"id": 7, "mail": "x@example.com"}],
                "remove": [8, 9],
            }
        },
        SPEC,
        plain,
    )
    assert vals["child_ids"] == [
        (0, 0, {"name": "New"}),
        (1, 7, {"email": "x@example.com"}),
        (2, 8, 0),
        (2, 9, 0),
    ]


def test_line_ids_use_the_line_models_codec():
    codec = obfuscated("res.partner")
    country = obfuscated("res.country")
    vals = s.values_in(
        {
            "contacts": {
                "update": [{"id": codec.encode(7), "country": country.encode(21)}],
                "remove": [codec.encode(8)],
            }
        },
        SPEC,
        obfuscated,
    )
    assert vals["child_ids"] == [(1, 7, {"country_id": 21}), (2, 8, 0)]
    error = refused({"contacts": {"remove": [country.encode(8)]}}, False, obfuscated)
    assert (error.name, error.data["path"]) == ("invalid_id", "contacts.remove[0]")


@pytest.mark.parametrize(
    ("line", "name", "path"),
    [
        ({"name": "A", "zip": "1000"}, "invalid_field", "contacts[2].zip"),
        ({"ref": "R"}, "readonly_field", "contacts[2].ref"),
        ({"mail": 5}, "invalid_value", "contacts[2].mail"),
        ({"country": "abc"}, "invalid_id", "contacts[2].country"),
        ({"id": 5}, "invalid_field", "contacts[2].id"),
        ("not an object", "invalid_body", "contacts[2]"),
    ],
)
def test_a_failing_line_is_named_by_its_path(line, name, path):
    error = refused({"contacts": [{"name": "A"}, {"name": "B"}, line]}, True)
    assert (error.name, error.data["path"]) == (name, path)
    assert error.message.startswith(f"{path}: ")


def test_update_paths_name_the_list_and_the_index():
    error = refused({"contacts": {"update": [{"id": 1}, {"id": 2, "ref": "x"}]}}, False)
    assert error.data["path"] == "contacts.update[1].ref"
    error = refused({"contacts": {"update": [{"name": "no id"}]}}, False)
    assert (error.name, error.data["path"]) == ("invalid_id", "contacts.update[0].id")
    error = refused({"contacts": {"add": [{"name": "A"}, {"zz": 1}]}}, False)
    assert error.data["path"] == "contacts.add[1].zz"


def test_a_bulk_index_prefixes_the_path():
    error = refused({"contacts": [{"zz": 1}]}, True).at_index(1)
    assert error.data == {"path": "[1].contacts[0].zz", "index": 1}
    assert str(error.message).startswith("Item 1: contacts[0].zz: ")


@pytest.mark.parametrize(
    ("value", "creating"),
    [
        ({"add": []}, True),
        ([{"name": "A"}], False),
        ({"add": [], "replace": []}, False),
        ({"add": {"name": "A"}}, False),
        ([1, 2], True),
    ],
)
def test_shapes_other_than_the_contracts_are_refused(value, creating):
    error = refused({"contacts": value}, creating)
    assert error.name in ("invalid_value", "invalid_body")
    assert error.data["path"].startswith("contacts")


def test_the_same_line_twice_is_refused():
    error = refused({"contacts": {"update": [{"id": 3}], "remove": [3]}}, False)
    assert (error.name, error.data["path"]) == ("invalid_body", "contacts.remove[0]")


def test_too_many_lines_are_refused():
    error = refused({"contacts": [{"name": "x"}] * (s.MAX_BULK + 1)}, True)
    assert error.name == "invalid_body"


def test_without_lines_a_one2many_still_takes_ids_only():
    vals = s.values_in({"banks": [3, 4]}, SPEC, plain, creating=True)
    assert vals == {"bank_ids": [(6, 0, [3, 4])]}
    error = refused({"banks": [{"acc_number": "x"}]}, True)
    assert error.name == "invalid_value"
    assert "path" not in error.data


def test_command_paths_follow_the_commands():
    commands = lines.lines_in(
        SPEC["fields"][1],
        {"add": [{}, {}], "update": [{"id": 4}], "remove": [5]},
        plain,
        creating=False,
    )
    assert lines.command_paths("contacts", commands, False) == [
        "contacts.add[0]",
        "contacts.add[1]",
        "contacts.update[0]",
        "contacts.remove[0]",
    ]
    assert lines.command_paths("contacts", [(0, 0, {})] * 2, True) == [
        "contacts[0]",
        "contacts[1]",
    ]


def test_reads_render_lines_with_their_line_fields():
    writer = s.RecordWriter(SPEC, plain, 1)
    rows = {
        4: {"id": 4, "name": "A", "email": False, "country_id": (21, "Belgium")},
        5: {"id": 5, "name": "B", "email": "b@x", "country_id": False},
    }
    out = writer.record(
        {"id": 1, "child_ids": [4, 5, 6]},
        [SPEC["fields"][1]],
        {"child_ids": rows},
    )
    assert out == {
        "id": 1,
        "contacts": [
            {"id": 4, "name": "A", "mail": "", "country": [21, "Belgium"], "ref": ""},
            {"id": 5, "name": "B", "mail": "b@x", "country": [], "ref": ""},
        ],
    }


def lines_api(obfuscate=True):
    fields = [
        {**spec, "related": [], "searchable": False}
        for spec in SPEC["fields"]
        if spec["alias"] != "banks"
    ]
    for spec in fields:
        if spec.get("lines"):
            spec["lines"] = [{**line, "related": []} for line in spec["lines"]]
    ops = ("search", "read", "create", "update", "delete")
    return {
        "id": 1,
        "name": "Lines",
        "route": "lines",
        "multi_model": False,
        "models": {"res.partner": {"fields": fields, "methods": {}}},
        "operations": ops,
        "auth_mode": "user",
        "obfuscate": obfuscate,
        "default_limit": 80,
        "max_limit": 500,
        "endpoints": {op: {"id": i, "active": True} for i, op in enumerate(ops)},
    }


def test_the_openapi_document_describes_lines_and_validates():
    validator = pytest.importorskip("openapi_spec_validator")
    from core.openapi import build_openapi

    document = build_openapi([lines_api()], "http://localhost:8069")
    validator.validate(document)
    schemas = document["components"]["schemas"]
    line = "#/components/schemas/LinesResPartnerContactsLine"
    record = schemas["LinesResPartnerRecord"]["properties"]["contacts"]
    assert record["items"] == {"$ref": line}
    create = schemas["LinesResPartnerCreate"]["properties"]["contacts"]
    assert create["items"] == {"$ref": line + "Create"}
    update = schemas["LinesResPartnerUpdate"]["properties"]["contacts"]
    assert update["properties"]["update"]["items"] == {"$ref": line + "Update"}
    assert schemas["LinesResPartnerContactsLineUpdate"]["required"] == ["id"]
    assert "ref" not in schemas["LinesResPartnerContactsLineCreate"]["properties"]
    assert "ref" in schemas["LinesResPartnerContactsLine"]["properties"]


def test_the_postman_collection_creates_and_adds_lines():
    from core.postman import build_postman

    collection = build_postman([lines_api()], "http://localhost:8069")
    requests = {}

    def walk(node):
        if isinstance(node, dict):
            if "request" in node and "body" in node["request"]:
                requests[node["name"]] = node["request"]["body"].get("raw")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(collection)
    create = next(raw for name, raw in requests.items() if name.startswith("Create"))
    assert isinstance(json.loads(create)["contacts"], list)
    fields = lines_api()["models"]["res.partner"]["fields"]
    from core.postman import update_example

    assert update_example({"contacts": [{"name": "x"}]}, fields) == {
        "contacts": {"add": [{"name": "x"}]}
    }
