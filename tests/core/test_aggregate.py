"""Aggregates without Odoo: parameters, groups, routing, documents."""

import datetime

import pytest
import test_documents as fixtures

from core import aggregate as agg
from core import domain as core_domain
from core import operations, routing
from core.exceptions import BadRequest, CompanyNotAllowed, MethodNotAllowed
from core.hashid import IdCodec
from core.openapi import build_openapi
from core.params import parse_company_ids
from core.postman import build_postman

FIELDS = [
    {"alias": "name", "name": "name", "type": "char", "searchable": True},
    {"alias": "mail", "name": "email", "type": "char", "searchable": False},
    {"alias": "color", "name": "color", "type": "integer", "searchable": True},
    {"alias": "lat", "name": "partner_latitude", "type": "float", "searchable": False},
    {"alias": "since", "name": "date", "type": "date", "searchable": True},
    {"alias": "created", "name": "create_date", "type": "datetime", "searchable": True},
    {
        "alias": "country_id",
        "name": "country_id",
        "type": "many2one",
        "relation": "res.country",
        "searchable": True,
        "related": [
            {"name": "code", "type": "char", "relation": None, "searchable": True},
            {"name": "name", "type": "char", "relation": None, "searchable": True},
            {
                "name": "currency_id",
                "type": "many2one",
                "relation": "res.currency",
                "searchable": True,
            },
            {"name": "image_url", "type": "char", "searchable": False},
        ],
    },
    {
        "alias": "tags",
        "name": "category_id",
        "type": "many2many",
        "relation": "res.partner.category",
        "searchable": True,
        "related": [{"name": "name", "type": "char", "relation": None}],
    },
    {
        "alias": "children",
        "name": "child_ids",
        "type": "one2many",
        "relation": "res.partner",
        "searchable": True,
    },
    {"alias": "image", "name": "image_128", "type": "binary", "searchable": False},
    {
        "alias": "computed",
        "name": "commercial_company_name",
        "type": "char",
        "searchable": True,
        "stored": False,
    },
    {"alias": "count", "name": "ref", "type": "char", "searchable": True},
]


def codec_for(model):
    return IdCodec(True, "s3cret", model, 5)


def refused(function, *args):
    with pytest.raises(BadRequest) as caught:
        function(*args)
    return caught.value


# ----------------------------------------------------------------------
# groupby
# ----------------------------------------------------------------------


def test_groupby_translates_aliases_and_granularities():
    items = agg.parse_groupby("country_id,since:year, created:day", FIELDS)
    assert [item.spec for item in items] == [
        "country_id",
        "date:year",
        "create_date:day",
    ]
    assert [item.alias for item in items] == ["country_id", "since", "created"]
    assert agg.parse_groupby(["tags"], FIELDS)[0].spec == "category_id"
    assert agg.parse_groupby("", FIELDS) == []


def test_a_date_without_granularity_groups_by_month_as_in_odoo():
    assert agg.parse_groupby("since", FIELDS)[0].spec == "date:month"


@pytest.mark.parametrize(
    ("groupby", "field", "name"),
    [
        ("mail", "mail", "invalid_field"),  # exposed, not searchable
        ("nope", "nope", "invalid_field"),  # unknown alias
        ("country_id.code", "country_id.code", "invalid_field"),  # dotted
        ("since:hour", "since", "invalid_parameter"),  # bad granularity
        ("since:fortnight", "since", "invalid_parameter"),
        ("name:month", "name", "invalid_parameter"),  # not a date
        ("children", "children", "invalid_field"),  # one2many
        ("computed", "computed", "invalid_field"),  # not stored
        ("count", "count", "invalid_field"),  # the count's key
        ("name,name", "name", "invalid_parameter"),  # twice
        ("name,color,since,created", "created", "invalid_parameter"),  # too many
    ],
)
def test_groupby_refusals_name_the_field(groupby, field, name):
    error = refused(agg.parse_groupby, groupby, FIELDS)
    assert error.status == 400
    assert error.name == name
    assert error.data == {"parameter": "groupby", "field": field}
    assert field in error.message


def test_groupby_syntax_refusals():
    for value in ("name,,color", ",", {"a": 1}, "x" * 2000):
        error = refused(agg.parse_groupby, value, FIELDS)
        assert error.data["parameter"] == "groupby"


# ----------------------------------------------------------------------
# measures and order
# ----------------------------------------------------------------------


def test_measures_of_numbers_and_distinct_counts_of_any_stored_field():
    items = agg.parse_measures(
        "color:sum,lat:avg,color:max,lat:min,mail:count_distinct", FIELDS
    )
    assert [(m.key, m.spec) for m in items] == [
        ("color:sum", "color:sum"),
        ("lat:avg", "partner_latitude:avg"),
        ("color:max", "color:max"),
        ("lat:min", "partner_latitude:min"),
        ("mail:count_distinct", "email:count_distinct"),
    ]
    # A measure asked twice is measured once.
    assert len(agg.parse_measures("color:sum,color:sum", FIELDS)) == 1


@pytest.mark.parametrize(
    ("measures", "field", "name"),
    [
        ("name:sum", "name", "invalid_field"),  # not a number
        ("since:avg", "since", "invalid_field"),
        ("country_id:max", "country_id", "invalid_field"),
        ("tags:count_distinct", "tags", "invalid_field"),  # x2many
        ("image:count_distinct", "image", "invalid_field"),
        ("computed:count_distinct", "computed", "invalid_field"),
        ("color", "color", "invalid_parameter"),  # no function
        ("color:median", "color", "invalid_parameter"),
        ("nope:sum", "nope", "invalid_field"),
        ("country_id.code:count_distinct", "country_id.code", "invalid_field"),
    ],
)
def test_measure_refusals_name_the_field(measures, field, name):
    error = refused(agg.parse_measures, measures, FIELDS)
    assert (error.name, error.data) == (
        name,
        {"parameter": "measures", "field": field},
    )


def test_order_over_groups_count_and_measures():
    groupbys = agg.parse_groupby("country_id,since:year", FIELDS)
    measures = agg.parse_measures("color:sum", FIELDS)
    assert (
        agg.parse_order("count desc, since, color:sum desc", groupbys, measures)
        == "__count desc, date:year asc, color:sum desc"
    )
    assert agg.parse_order("", groupbys, measures) is None
    error = refused(agg.parse_order, "name", groupbys, measures)
    assert error.data == {"parameter": "order", "field": "name"}
    error = refused(agg.parse_order, "color:avg", groupbys, measures)
    assert error.data["field"] == "color:avg"
    assert refused(agg.parse_order, "count; drop", groupbys, measures).status == 400


# ----------------------------------------------------------------------
# groups
# ----------------------------------------------------------------------


def test_groups_show_relations_as_encoded_ids_with_names_and_empty_as_null():
    groupbys = agg.parse_groupby("country_id,since:month,name", FIELDS)
    measures = agg.parse_measures("color:sum,lat:avg", FIELDS)
    rows = [
        (21, datetime.date(2024, 1, 1), "Azure", 3, 7, 1.5),
        (False, False, False, 2, False, None),
    ]
    groups = agg.render_groups(
        rows, groupbys, measures, codec_for, {"country_id": {21: "Belgium"}}
    )
    assert groups[0] == {
        "country_id": [codec_for("res.country").encode(21), "Belgium"],
        "since": "2024-01-01",
        "name": "Azure",
        "count": 3,
        "color:sum": 7,
        "lat:avg": 1.5,
    }
    assert groups[1] == {
        "country_id": [],
        "since": None,
        "name": None,
        "count": 2,
        "color:sum": None,
        "lat:avg": None,
    }


def test_datetimes_group_as_the_api_writes_them():
    groupbys = agg.parse_groupby("created:day", FIELDS)
    rows = [(datetime.datetime(2024, 3, 2), 4)]
    assert agg.render_groups(rows, groupbys, [], codec_for, {}) == [
        {"created": "2024-03-02 00:00:00", "count": 4}
    ]


# ----------------------------------------------------------------------
# dotted domain leaves
# ----------------------------------------------------------------------


SEARCHABLE = {f["alias"]: f for f in FIELDS if f["searchable"]}
RELATED = {f["alias"]: f for f in FIELDS if f.get("related")}


def validate(domain):
    return core_domain.validate(
        domain, SEARCHABLE, codec_for, "res.partner", related=RELATED
    )


def test_a_dotted_leaf_goes_through_a_configured_related_field():
    assert validate([("country_id.code", "=", "BE")]) == [
        ["country_id.code", "=", "BE"]
    ]
    assert validate([("tags.name", "ilike", "vip")]) == [
        ["category_id.name", "ilike", "vip"]
    ]
    currency = codec_for("res.currency").encode(1)
    assert validate([("country_id.currency_id", "in", [currency])]) == [
        ["country_id.currency_id", "in", [1]]
    ]


@pytest.mark.parametrize(
    "leaf",
    [
        ("country_id.phone_code", "=", 32),  # not configured
        ("country_id.image_url", "=", "x"),  # configured, not searchable
        ("country_id.code.x", "=", "BE"),  # nothing else dotted
        ("name.x", "=", "a"),  # not a relation with related fields
        ("mail.x", "=", "a"),
        ("country_id.", "=", "a"),
        (".code", "=", "a"),
    ],
)
def test_other_dotted_leaves_are_refused_naming_the_field(leaf):
    error = refused(validate, [leaf])
    assert error.name == "invalid_field"
    assert error.data == {"field": leaf[0]}
    assert leaf[0] in error.message


def test_dotted_leaves_check_values_of_the_sub_field_type():
    error = refused(validate, [("country_id.code", "=", 5)])
    assert (error.name, error.data) == ("invalid_domain", {"field": "country_id.code"})
    error = refused(validate, [("country_id.currency_id", "=", 1)])
    assert (error.name, error.data) == (
        "invalid_id",
        {"field": "country_id.currency_id"},
    )
    assert refused(validate, [("country_id.code", "like", ["a"])]).status == 400


def test_without_related_specs_nothing_is_dotted():
    with pytest.raises(BadRequest):
        core_domain.validate(
            [("country_id.code", "=", "BE")], SEARCHABLE, codec_for, "res.partner"
        )


# ----------------------------------------------------------------------
# routing: "aggregate" is the operation, never an id
# ----------------------------------------------------------------------


def test_the_aggregate_word_routes_to_the_operation():
    assert routing.operation_for("GET", ["aggregate"]) == ("aggregate", None, None)
    assert routing.operation_for("HEAD", ["aggregate"])[0] == "aggregate"
    with pytest.raises(MethodNotAllowed) as caught:
        routing.operation_for("PATCH", ["aggregate"])
    assert caught.value.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert routing.operation_for("GET", ["aggregat"])[0] == "read"
    assert operations.endpoint_values("aggregate", "/api/x") == {
        "http_method": "GET",
        "path": "/api/x/aggregate",
    }


def test_a_route_cannot_end_with_the_operation_word():
    assert routing.check_route("shop/aggregate") is not None
    assert routing.check_route("aggregate") is None
    assert routing.check_route("shop/aggregates") is None


@pytest.mark.parametrize("min_length", [0, 1, 6, 9, 32])
@pytest.mark.parametrize("salt", ["s3cret", "another salt", "0" * 32])
def test_no_hashid_is_the_aggregate_word(salt, min_length):
    codec = IdCodec(True, salt, "res.partner", min_length)
    # A single number's hashid never holds a separator letter, and "t" is one.
    separators = set(codec._hashids._separators)
    assert "t" in separators
    assert codec.decode(routing.AGGREGATE) is None
    for number in (1, 7, 42, 1000, 65535, 2**31 - 1):
        assert not separators & set(codec.encode(number))


# ----------------------------------------------------------------------
# X-Company-Id
# ----------------------------------------------------------------------


def test_company_ids_are_read_as_the_api_shows_them():
    plain = IdCodec(False)
    assert parse_company_ids("3, 1,3", plain) == [3, 1]
    codec = codec_for("res.company")
    assert parse_company_ids(f"{codec.encode(2)},{codec.encode(1)}", codec) == [2, 1]


def test_company_ids_that_do_not_decode_are_not_allowed():
    with pytest.raises(CompanyNotAllowed) as caught:
        parse_company_ids("1", codec_for("res.company"))
    assert (caught.value.status, caught.value.name) == (403, "company_not_allowed")
    with pytest.raises(CompanyNotAllowed):
        parse_company_ids("abc", IdCodec(False))


@pytest.mark.parametrize("header", ["", " ", "1,,2", ",".join(["1"] * 40)])
def test_a_malformed_company_list_is_400(header):
    error = refused(parse_company_ids, header, IdCodec(False))
    assert error.data == {"parameter": "X-Company-Id"}


# ----------------------------------------------------------------------
# documents
# ----------------------------------------------------------------------


def aggregating(route="partner/agg", obfuscate=True):
    api = fixtures.api(route, obfuscate)
    api["operations"] = (*api["operations"], "aggregate")
    api["endpoints"] = dict(api["endpoints"], aggregate={"id": 9, "active": True})
    return api


def test_openapi_documents_the_aggregate_operation():
    openapi_spec_validator = pytest.importorskip("openapi_spec_validator")
    document = build_openapi([aggregating(), *fixtures.APIS])
    openapi_spec_validator.validate(document)
    path = document["paths"]["/api/partner/agg/aggregate"]
    operation = path["get"]
    assert operation["operationId"] == "partner_agg_aggregate"
    assert operation["security"][0] == {"oauth2": ["search"]}
    names = [p["name"] for p in operation["parameters"]]
    assert names == ["groupby", "measures", "domain", "order", "limit"]
    groupby = operation["parameters"][0]["schema"]["pattern"]
    assert "name" in groupby and "mail" in groupby
    schemas = document["components"]["schemas"]
    result = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert result["properties"]["result"] == {
        "$ref": "#/components/schemas/PartnerAggResPartnerAggregateResult"
    }
    group = schemas["PartnerAggResPartnerGroup"]
    assert group["required"] == ["count"]
    assert {"name", "mail", "count"} <= set(group["properties"])
    # Searchable fields only group: the fixture's country is not searchable.
    assert "country_id" not in group["properties"]
    assert sorted(operation["responses"]) == list(operations.statuses("aggregate"))
    # Not offered where the API does not aggregate.
    assert "/api/partner/rest/aggregate" not in document["paths"]


def test_openapi_documents_the_company_and_language_headers_on_every_path():
    document = build_openapi([aggregating(), *fixtures.APIS])
    for path, entry in document["paths"].items():
        headers = {
            p["name"] for p in entry.get("parameters", []) if p["in"] == "header"
        }
        assert {"X-Company-Id", "Accept-Language"} <= headers, path
    company = document["paths"]["/api/partner/rest"]["parameters"][0]
    assert company["name"] == "X-Company-Id"
    assert "company_not_allowed" in company["description"]


def test_the_domain_parameter_names_the_dotted_leaves():
    document = build_openapi([aggregating()])
    search = document["paths"]["/api/partner/agg"]["get"]
    domain = next(p for p in search["parameters"] if p["name"] == "domain")
    assert "country_id.name, country_id.code, tags.name" in domain["description"]


def test_postman_counts_groups_where_the_api_aggregates():
    collection = build_postman([aggregating()])
    items = collection["item"][1]["item"]
    aggregate = next(i for i in items if i["name"].startswith("Aggregate"))
    assert aggregate["request"]["url"]["raw"] == (
        "{{base_url}}/api/partner/agg/aggregate?groupby=name"
    )
    plain = build_postman(fixtures.APIS)
    assert not any(
        i["name"].startswith("Aggregate") for f in plain["item"] for i in f["item"]
    )
