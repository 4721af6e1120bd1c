import threading

import pytest

from core import cors, operations, routing
from core.exceptions import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    TooManyRequests,
    render_error,
)
from core.stats import StatsBuffer, hour_bucket


def test_render_error_maps_status_and_hides_internals():
    status, headers, body = render_error(NotFound())
    assert status == 404 and body["error"]["data"]["name"] == "not_found"
    assert body["jsonrpc"] == "2.0" and body["id"] is None and "result" not in body
    status, headers, body = render_error(MethodNotAllowed(["GET", "POST"]))
    assert status == 405 and headers["Allow"] == "GET, POST"
    status, headers, body = render_error(TooManyRequests(12))
    assert status == 429 and headers["Retry-After"] == "12"
    status, headers, body = render_error(
        KeyError("SELECT secret FROM x"), request_id="r1"
    )
    assert (
        status == 500 and "SELECT" not in str(body) and "r1" in body["error"]["message"]
    )
    status, _, body = render_error(BadRequest("bad", data={"index": 6}))
    assert status == 400 and body["error"]["data"] == {
        "name": "bad_request",
        "index": 6,
    }


def test_route_syntax_and_reserved():
    assert routing.check_route("partner/rest") is None
    assert routing.check_route("v1/partners-2") is None
    for bad in (
        "",
        "/x",
        "x/",
        "Partner",
        "a//b",
        "web/x",
        "json",
        "odoo/x",
        "a b",
        "a/../b",
        "oauth2",
    ):
        assert routing.check_route(bad), bad


def test_split_route_longest_prefix():
    routes = {"partner": 1, "partner/rest": 2}
    assert routing.split_route("partner/rest/abc", routes) == (2, ["abc"])
    assert routing.split_route("partner/xyz", routes) == (1, ["xyz"])
    for bad in ("other", "partner//x", "", "x" * 5000):
        with pytest.raises(NotFound):
            routing.split_route(bad, routes)


def test_operation_for():
    assert routing.operation_for("GET", []) == ("search", None, None)
    assert routing.operation_for("GET", ["7"]) == ("read", "7", None)
    assert routing.operation_for("PUT", ["7"]) == ("update", "7", None)
    assert routing.operation_for("POST", ["call", "do_it"]) == ("rpc", None, "do_it")
    assert routing.operation_for("POST", ["7", "do_it"]) == ("rpc", "7", "do_it")
    with pytest.raises(MethodNotAllowed) as info:
        routing.operation_for("POST", ["7"])
    assert "POST" not in info.value.headers["Allow"]
    with pytest.raises(NotFound):
        routing.operation_for("POST", ["7", "_private"])
    with pytest.raises(NotFound):
        routing.operation_for("GET", ["a", "b", "c"])
    assert operations.methods_of("collection", {"search", "read"}) == (
        "GET",
        "HEAD",
        "OPTIONS",
    )


def test_cors_decision():
    settings = {
        "enabled": True,
        "origins": cors.parse_origins("https://a.example\nhttps://b.example/"),
        "methods": "GET",
        "headers": "Authorization",
        "max_age": 600,
    }
    allowed = cors.cors_headers("https://b.example", settings)
    assert (
        allowed["Access-Control-Allow-Origin"] == "https://b.example"
        and allowed["Vary"] == "Origin"
    )
    refused = cors.cors_headers("https://evil.example", settings)
    assert "Access-Control-Allow-Origin" not in refused
    pre = cors.cors_headers("https://a.example", settings, preflight=True)
    assert (
        pre["Access-Control-Max-Age"] == "600"
        and pre["Access-Control-Allow-Methods"] == "GET"
    )
    star = cors.cors_headers("https://any.example", dict(settings, origins=("*",)))
    assert (
        star["Access-Control-Allow-Origin"] == "*"
        and "Access-Control-Allow-Credentials" not in star
    )
    assert cors.cors_headers("https://a.example", dict(settings, enabled=False)) == {}
    assert cors.origin_allowed("https://a.example", settings)
    assert not cors.origin_allowed(
        "https://any.example", dict(settings, origins=("*",))
    )


def test_stats_buffer_threads_lose_nothing():
    buffer = StatsBuffer()
    per_thread = 5000

    def work(error):
        for _ in range(per_thread):
            buffer.add(1, 2, 3, 1.5, error, timestamp=7200)

    threads = [threading.Thread(target=work, args=(i % 2,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drained = buffer.drain()
    assert drained == {
        (1, 2, 3, 7200): (4 * per_thread, 2 * per_thread, 1.5 * 4 * per_thread)
    }
    assert len(buffer) == 0
    buffer.restore(drained)
    buffer.add(1, 2, 3, 1.0, False, timestamp=7201)
    assert buffer.drain()[(1, 2, 3, 7200)][0] == 4 * per_thread + 1
    assert hour_bucket(7199) == 3600


def test_parse_body_shapes():
    from core.request import parse_body

    assert parse_body(b"", "application/json", "GET") == (None, None)
    assert parse_body(b'{"a": 1}', None, "POST") == ("json", {"a": 1})
    assert parse_body(b"[1]", "application/json", "POST") == ("json", [1])
    assert parse_body(b'"x"', "application/json", "POST") == ("json", "x")
    # The product page's curl sends a form body labelled as JSON on GET.
    assert parse_body(b"domain=[]&limit=5", "application/json", "GET") == (
        "form",
        [("domain", "[]"), ("limit", "5")],
    )
    assert parse_body(b"a=1&a=2", "application/x-www-form-urlencoded", "POST") == (
        "form",
        [("a", "1"), ("a", "2")],
    )
    for body, ctype, method in [
        (b"{bad", "application/json", "POST"),
        (b"domain=[]", "application/json", "POST"),
        (b"\xff\xfe", "application/json", "POST"),
        (b"[" * 100 + b"]" * 100, "application/json", "POST"),
        (b"<xml/>", "text/xml", "POST"),
    ]:
        with pytest.raises(BadRequest):
            parse_body(body, ctype, method)


def test_rpc_body_and_encoding():
    from core.hashid import IdCodec
    from core.rpc import check_call, encode_result

    assert check_call(None) == ([], {})
    assert check_call({"args": [1], "kwargs": {"a": 2}}) == ([1], {"a": 2})
    for bad in (
        [],
        {"args": {}},
        {"kwargs": []},
        {"kwargs": {"context": {}}},
        {"kwargs": {"_x": 1}},
        {"other": 1},
    ):
        with pytest.raises(BadRequest):
            check_call(bad)

    def codec_for(model):
        return IdCodec(True, "s", model, 4)

    def relation_of(key):
        return {"country_id": "res.country", "child_ids": "res.partner"}.get(key)

    value = {
        "id": 3,
        "country_id": 5,
        "child_ids": [1, 2],
        "partner_id": 7,
        "count": 9,
        "nested": [{"id": 4}],
    }
    by_model = encode_result(value, "model", "res.partner", codec_for, relation_of)
    assert by_model["id"] == codec_for("res.partner").encode(3)
    assert by_model["country_id"] == codec_for("res.country").encode(5)
    assert by_model["child_ids"] == [codec_for("res.partner").encode(i) for i in (1, 2)]
    assert by_model["partner_id"] == 7 and by_model["count"] == 9
    assert by_model["nested"][0]["id"] == codec_for("res.partner").encode(4)
    by_suffix = encode_result(value, "suffix", "res.partner", codec_for, relation_of)
    assert (
        by_suffix["partner_id"] == codec_for("res.partner").encode(7)
        and by_suffix["count"] == 9
    )
    manual = encode_result(
        {"count": 9, "x": 1},
        "manual",
        "res.partner",
        codec_for,
        relation_of,
        keys=("count",),
    )
    assert manual == {"count": codec_for("res.partner").encode(9), "x": 1}
    assert encode_result(value, "none", "res.partner", codec_for, relation_of) == value
    partner = codec_for("res.partner")
    assert encode_result(
        (3, "Name"), "model", "res.partner", codec_for, relation_of
    ) == [
        partner.encode(3),
        "Name",
    ]
    assert encode_result([1, 2], "model", "res.partner", codec_for, relation_of) == [
        partner.encode(1),
        partner.encode(2),
    ]
    assert encode_result(
        7, "model", "res.partner", codec_for, relation_of
    ) == partner.encode(7)
    assert encode_result(True, "model", "res.partner", codec_for, relation_of) is True
    assert encode_result(7, "suffix", "res.partner", codec_for, relation_of) == 7
    plain = encode_result(
        value, "model", "res.partner", lambda m: IdCodec(False), relation_of
    )
    assert plain == value
