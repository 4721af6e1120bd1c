import pytest

from core import params as p
from core.exceptions import BadRequest


def test_limit_defaults_and_clamps():
    assert p.parse_limit(None, 80, 200) == 80
    assert p.parse_limit("10", 80, 200) == 10
    assert p.parse_limit(1_000_000, 80, 200) == 200
    assert p.parse_limit("1000000", 80, 200) == 200
    for bad in ("0", "-1", "ten", "1.5", True, 1.5, "9" * 40):
        with pytest.raises(BadRequest):
            p.parse_limit(bad, 80, 200)


def test_offset():
    assert p.parse_offset(None) == 0
    assert p.parse_offset("20") == 20
    for bad in ("-1", "x", str(10**10)):
        with pytest.raises(BadRequest):
            p.parse_offset(bad)


def test_fields_by_alias():
    readable = {"name": 1, "mail": 2}
    assert p.parse_fields(None, readable) == ["name", "mail"]
    assert p.parse_fields("mail,name", readable) == ["mail", "name"]
    assert p.parse_fields('["mail"]', readable) == ["mail"]
    assert p.parse_fields(["id", "mail", "mail"], readable) == ["mail"]
    with pytest.raises(BadRequest):
        p.parse_fields("email", readable)
    with pytest.raises(BadRequest):
        p.parse_fields([1], readable)


def test_order():
    sortable = {"name": "name", "mail": "email"}
    assert p.parse_order(None, sortable, "name asc") == "name asc"
    assert p.parse_order("mail desc, id", sortable) == "email desc, id asc"
    for bad in (
        "email",
        "name; drop table",
        "name asc nulls",
        "name DESCX",
        "(select 1)",
    ):
        with pytest.raises(BadRequest):
            p.parse_order(bad, sortable)


def test_count_and_collect():
    assert p.parse_count(None) == "exact"
    assert p.parse_count("none") == "none"
    with pytest.raises(BadRequest):
        p.parse_count("planned")
    assert p.collect_params([("a", "1")], {"b": 2}) == {"a": "1", "b": 2}
    with pytest.raises(BadRequest):
        p.collect_params([("a", "1"), ("a", "2")])
    with pytest.raises(BadRequest):
        p.collect_params([("a", "1")], {"a": 2})
