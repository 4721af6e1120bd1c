import datetime

import pytest

from core import serializer as s
from core.exceptions import BadRequest
from core.hashid import IdCodec

SPEC = {
    "model": "res.partner",
    "fields": [
        {
            "name": "name",
            "alias": "name",
            "type": "char",
            "writable": True,
            "required": True,
        },
        {"name": "email", "alias": "mail", "type": "char", "writable": True},
        {
            "name": "is_company",
            "alias": "is_company",
            "type": "boolean",
            "writable": True,
        },
        {"name": "color", "alias": "color", "type": "integer", "writable": True},
        {
            "name": "type",
            "alias": "type",
            "type": "selection",
            "writable": True,
            "selection": ["contact", "other"],
        },
        {"name": "date", "alias": "date", "type": "date", "writable": True},
        {
            "name": "write_date",
            "alias": "updated",
            "type": "datetime",
            "writable": False,
        },
        {"name": "image_128", "alias": "image_128", "type": "binary", "writable": True},
        {
            "name": "country_id",
            "alias": "country",
            "type": "many2one",
            "relation": "res.country",
            "writable": True,
            "related": [
                {"name": "name", "type": "char"},
                {"name": "code", "type": "char"},
            ],
        },
        {
            "name": "parent_id",
            "alias": "parent_id",
            "type": "many2one",
            "relation": "res.partner",
            "writable": True,
        },
        {
            "name": "category_id",
            "alias": "tags",
            "type": "many2many",
            "relation": "res.partner.category",
            "writable": True,
        },
    ],
}


def codec_for(model):
    return IdCodec(True, "salt", model, 5)


def test_record_output_with_related_and_binary_url():
    writer = s.RecordWriter(SPEC, codec_for, 3, "url")
    row = {
        "id": 7,
        "name": "Azure",
        "email": False,
        "is_company": False,
        "color": 0,
        "type": "contact",
        "date": datetime.date(2024, 1, 2),
        "write_date": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "image_128": b"12 Kb",
        "country_id": (21, "Belgium"),
        "parent_id": False,
        "category_id": [4, 5],
    }
    related = {"country_id": {21: {"id": 21, "name": "Belgium", "code": "BE"}}}
    out = writer.record(row, SPEC["fields"], related)
    pid = codec_for("res.partner").encode(7)
    assert out["id"] == pid
    assert out["mail"] == ""
    assert out["date"] == "2024-01-02"
    assert out["updated"] == "2024-01-02 03:04:05"
    assert out["image_128"] == f"/api/image/3/res.partner/{pid}/image_128"
    assert out["country"] == [
        codec_for("res.country").encode(21),
        {"name": "Belgium", "code": "BE"},
    ]
    assert out["parent_id"] == []
    assert out["tags"] == [codec_for("res.partner.category").encode(i) for i in (4, 5)]


def test_binary_base64_and_empty():
    writer = s.RecordWriter(SPEC, codec_for, 3, "base64")
    spec = [f for f in SPEC["fields"] if f["name"] == "image_128"]
    assert (
        writer.record({"id": 1, "image_128": b"aGVsbG8="}, spec)["image_128"]
        == "aGVsbG8="
    )
    assert writer.record({"id": 1, "image_128": False}, spec)["image_128"] == ""


def test_values_in_translates_aliases_and_decodes_relations():
    country = codec_for("res.country").encode(21)
    tag = codec_for("res.partner.category").encode(4)
    vals = s.values_in(
        {
            "name": "A",
            "mail": "a@x",
            "country": country,
            "tags": [tag],
            "date": "2024-02-29",
            "type": "other",
            "image_128": "aGVsbG8=",
        },
        SPEC,
        codec_for,
    )
    assert vals == {
        "name": "A",
        "email": "a@x",
        "country_id": 21,
        "category_id": [(6, 0, [4])],
        "date": "2024-02-29",
        "type": "other",
        "image_128": "aGVsbG8=",
    }
    assert s.values_in({"country": None, "tags": []}, SPEC, codec_for) == {
        "country_id": False,
        "category_id": [(6, 0, [])],
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "x"},
        {"context": {"active_test": False}},
        {"groups_id": [1]},
        {"company_id": 1},
        {"email": "real name is refused"},
        {"updated": "2024-01-01 00:00:00"},
        {"tags": [(0, 0, {"name": "x"})]},
        {"tags": [[6, 0, [1]]]},
        {"tags": "abc"},
        {"country": 21},
        {"country": codec_for("res.partner").encode(21)},
        {"is_company": "yes"},
        {"color": "1"},
        {"color": 2**40},
        {"color": True},
        {"type": "nope"},
        {"date": "2024-02-30"},
        {"date": "tomorrow"},
        {"name": None},
        {"name": 5},
        {"name": "nul\x00"},
        {"image_128": "not base64!"},
    ],
)
def test_values_in_refuses(payload):
    with pytest.raises(BadRequest):
        s.values_in(payload, SPEC, codec_for)


def test_values_in_needs_object():
    for bad in ([], "x", 1, None):
        with pytest.raises(BadRequest):
            s.values_in(bad, SPEC, codec_for)


def test_decode_ids():
    codec = codec_for("res.partner")
    assert s.decode_ids([codec.encode(1), codec.encode(2)], codec) == [1, 2]
    with pytest.raises(BadRequest) as info:
        s.decode_ids([codec.encode(1), "bad"], codec)
    assert info.value.data == {"index": 1}
    for bad in ([], "x", [codec.encode(1)] * 2, [1]):
        with pytest.raises(BadRequest):
            s.decode_ids(bad, codec)


def test_datetimes_before_year_1000_keep_four_digits():
    value = s.scalar_out("datetime", datetime.datetime(1, 1, 1, 0, 0, 0))
    assert value == "0001-01-01 00:00:00"
