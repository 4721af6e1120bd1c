import pytest

from core import domain as d
from core.exceptions import BadRequest
from core.hashid import IdCodec

SEARCHABLE = {
    "name": {"name": "name", "type": "char", "relation": None},
    "country": {"name": "country_id", "type": "many2one", "relation": "res.country"},
    "tags": {
        "name": "category_id",
        "type": "many2many",
        "relation": "res.partner.category",
    },
}


def codec_for(model):
    return IdCodec(True, "s3cret", model, 5)


def plain(model):
    return IdCodec(False)


def test_parse_python_and_json_literals():
    assert d.parse_literal('[("name","ilike","azure")]') == [("name", "ilike", "azure")]
    assert d.parse_literal('[["active","=",true]]') == [["active", "=", True]]
    assert d.parse_literal("") == []


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('id')",
        "[('name','=',open('/etc/passwd').read())]",
        "[('name','=',x)]",
        "{'a': 1}",
        "'text'",
        "[" * 1000 + "]" * 1000,
        "[('name','=','" + "a" * 1_000_000 + "')]",
        "[(1,",
    ],
)
def test_hostile_text_refused(text):
    with pytest.raises(BadRequest):
        d.validate(d.parse_literal(text), SEARCHABLE, codec_for, "res.partner")


def test_dangling_or_cannot_escape_forced_domain():
    with pytest.raises(BadRequest):
        d.normalize(["|", ("name", "=", "x")])
    with pytest.raises(BadRequest):
        d.normalize(["|"])
    forced = [("customer_rank", ">", 0)]
    client = d.validate(
        ["|", ("name", "=", "a"), ("name", "=", "b")],
        SEARCHABLE,
        codec_for,
        "res.partner",
    )
    combined = d.and_domains(forced, client)
    assert combined[0] == "&"
    assert combined[1] == ["customer_rank", ">", 0]
    assert combined[2:] == ["|", ["name", "=", "a"], ["name", "=", "b"]]


def test_implicit_and_is_made_explicit():
    assert d.normalize([("a", "=", 1), ("b", "=", 2)]) == [
        "&",
        ["a", "=", 1],
        ["b", "=", 2],
    ]
    assert d.and_domains([], [("a", "=", 1)]) == [["a", "=", 1]]
    assert d.and_domains() == []


@pytest.mark.parametrize(
    "domain",
    [
        [("email", "=", "x")],  # not whitelisted
        [("country.name", "=", "x")],  # dotted path
        [("country_id.name", "=", "x")],
        [("name", "child_of", "x")],
        [("name", "=?", "x")],
        [("tags", "any", [])],
        [(1, "=", 1)],
        [("name", "=", ("a",))],
        [("name", "in", "abc")],
        [("name", "=", {"a": 1})],
        [("name", "=")],
        ["&&"],
        [("country", "ilike", "bel")],
        [("country", "=", 5)],  # raw integer while obfuscated
        [("id", "=", "nonsense")],
    ],
)
def test_refused_terms(domain):
    with pytest.raises(BadRequest):
        d.validate(domain, SEARCHABLE, codec_for, "res.partner")


def test_ids_decoded_on_relation_fields_only():
    country = codec_for("res.country").encode(21)
    partner = codec_for("res.partner").encode(9)
    result = d.validate(
        [("country", "=", country), ("id", "in", [partner]), ("name", "=", country)],
        SEARCHABLE,
        codec_for,
        "res.partner",
    )
    assert result == [
        "&",
        "&",
        ["country_id", "=", 21],
        ["id", "in", [9]],
        ["name", "=", country],
    ]
    # Another model's hashid does not decode on this field.
    with pytest.raises(BadRequest):
        d.validate([("country", "=", partner)], SEARCHABLE, codec_for, "res.partner")


def test_plain_ids_and_empty_relation():
    assert d.validate([("country", "=", False)], SEARCHABLE, plain, "res.partner") == [
        ["country_id", "=", False]
    ]
    assert d.validate([("id", "in", [1, "2"])], SEARCHABLE, plain, "res.partner") == [
        ["id", "in", [1, 2]]
    ]


def test_too_many_leaves():
    with pytest.raises(BadRequest):
        d.validate([("name", "=", "x")] * (d.MAX_LEAVES + 1), SEARCHABLE, plain, "m")


def test_forced_domain_check():
    assert d.check_forced_domain("[('name','!=',False)]", {"name"}) == [
        ["name", "!=", False]
    ]
    assert d.check_forced_domain("[('parent_id.name','=','x')]", {"parent_id"})
    assert d.check_forced_domain("", {"name"}) == []
    with pytest.raises(BadRequest):
        d.check_forced_domain("[('nope','=',1)]", {"name"})
    with pytest.raises(BadRequest):
        d.check_forced_domain("['|', ('name','=',1)]", {"name"})


def test_id_comparisons_only_on_plain_ids():
    assert d.validate([("id", ">", 0)], SEARCHABLE, plain, "res.partner") == [
        ["id", ">", 0]
    ]
    assert d.validate([("id", "<=", "7")], SEARCHABLE, plain, "res.partner") == [
        ["id", "<=", 7]
    ]
    with pytest.raises(BadRequest):
        d.validate([("id", ">", 0)], SEARCHABLE, codec_for, "res.partner")
    with pytest.raises(BadRequest):
        d.validate([("id", ">", "x")], SEARCHABLE, plain, "res.partner")


TYPED = {
    "name": {"name": "name", "type": "char", "relation": None},
    "count": {"name": "color", "type": "integer", "relation": None},
    "flag": {"name": "is_company", "type": "boolean", "relation": None},
    "day": {"name": "date", "type": "date", "relation": None},
    "kind": {"name": "type", "type": "selection", "relation": None},
}


@pytest.mark.parametrize(
    "term",
    [
        ("name", "<", True),
        ("name", "=", 5),
        ("count", "=", "5"),
        ("count", "ilike", 5),
        ("flag", "=", "yes"),
        ("flag", "<", True),
        ("day", "=", "yesterday"),
        ("day", "like", "2024-01-01"),
        ("kind", "<", "a"),
        ("name", "<", False),
        ("count", "in", [1, "2"]),
    ],
)
def test_values_must_fit_the_field_type(term):
    with pytest.raises(BadRequest):
        d.validate([term], TYPED, plain, "m")


def test_well_typed_values_pass():
    terms = [
        ("name", "ilike", "a"),
        ("name", "=", False),
        ("count", ">=", 2.5),
        ("flag", "=", True),
        ("day", "<", "2024-01-01"),
        ("day", ">", "2024-01-01 10:00:00"),
        ("kind", "in", ["contact", "other"]),
    ]
    assert len(d.validate(terms, TYPED, plain, "m")) == 2 * len(terms) - 1
