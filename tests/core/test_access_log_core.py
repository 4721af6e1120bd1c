import json

from core import access_log
from core.access_log import LogBuffer


def test_a_client_level_overrides_its_apis_and_empty_follows_it():
    assert access_log.effective_level("all", None) == "all"
    assert access_log.effective_level("all", "none") == "none"
    assert access_log.effective_level("none", "errors") == "errors"
    assert access_log.effective_level(None, None) == "none"
    assert access_log.effective_level("bogus") == "none"


def test_levels_decide_by_status():
    assert not access_log.wanted("none", 500)
    assert not access_log.wanted("errors", 399)
    assert access_log.wanted("errors", 400)
    assert access_log.wanted("all", 200)


def test_credentials_in_the_query_are_masked_and_the_rest_kept():
    path = access_log.clean_path(
        "x/y", [("limit", "5"), ("access_token", "abc"), ("client_secret", "s")]
    )
    assert path == "/api/x/y?limit=5&access_token=***&client_secret=***"
    assert access_log.clean_path("x", []) == "/api/x"
    assert len(access_log.clean_path("x" * 5000, [])) == access_log.MAX_PATH_CHARS


def test_only_the_apis_query_parameters_keep_their_values():
    query = [
        ("domain", '[("name", "=", "x")]'),
        ("fields", "name"),
        ("order", "id"),
        ("offset", "0"),
        ("count", "exact"),
        ("X-Auth", "S1"),
        ("weird", "S2"),
    ]
    path = access_log.clean_path("x", query)
    assert "S1" not in path and "S2" not in path
    assert path.endswith("&X-Auth=***&weird=***")
    assert "order=id&offset=0&count=exact" in path


def test_a_bare_query_key_is_masked():
    path = access_log.clean_path("x", [("limit", "1"), ("QSEC5", "")])
    assert path == "/api/x?limit=1&***"


def test_secret_fields_are_masked_at_any_depth():
    masked = access_log.mask(
        {
            "name": "n",
            "Password": "p",
            "new_passwd": "p",
            "list": [{"refresh_token": "r", "ok": 1}],
            "client_secret": "s",
            "apiKey": "k",
            "empty_token": "",
        }
    )
    assert masked == {
        "name": "n",
        "Password": "***",
        "new_passwd": "***",
        "list": [{"refresh_token": "***", "ok": 1}],
        "client_secret": "***",
        "apiKey": "***",
        "empty_token": "",
    }


FORM = "application/x-www-form-urlencoded"


def test_a_form_body_is_masked_by_its_decoded_keys():
    for body in (
        b"name=x&client_secret=S",
        b"name=x&client%5Fsecret=S",
        b"name=x&pass%77ord=S",
        b"name=x&password=S+S",
    ):
        text = access_log.masked_body(raw=body, content_type=FORM, method="POST")
        assert "S" not in text.replace("***", ""), body
        assert text.startswith("name=x&") and text.endswith("=***"), text
    pairs = access_log.masked_body(form=[("token", "t"), ("q", "1")])
    assert json.loads(pairs) == [["token", "***"], ["q", "1"]]
    assert access_log.masked_body() is False


def test_a_get_form_without_content_type_is_masked_as_a_form():
    text = access_log.masked_body(raw=b"password=hunter2&name=x", method="GET")
    assert text == "password=***&name=x"


def test_a_body_that_does_not_parse_is_not_kept():
    for body, content_type in (
        (b'{"name":"x","password":"S",}', "application/json"),
        (b"{'name':'x','password':'S'}", "application/json"),
        (b'{"name":"x","pass\\u0077ord":"S",}', "application/json"),
        (b'{"name":"x","' + b"a" * 120 + b'_password":"S",}', "application/json"),
        (b'{"name":"\xe9","password":"S"}', "application/json"),
        (b"a=1&password=S", "text/plain"),
        (b"name=x&S", FORM),
        (b'{"password": "S", ', "application/json; charset=utf-8"),
    ):
        text = access_log.masked_body(raw=body, content_type=content_type)
        media = content_type.split(";")[0]
        assert text == f"<unparsed body: {len(body)} bytes, {media}>", body


def test_the_placeholder_names_only_a_well_formed_media_type():
    text = access_log.masked_body(raw=b"x", content_type="S/S; x S")
    assert text == "<unparsed body: 1 bytes, s/s>"
    text = access_log.masked_body(raw=b"x", content_type="token S")
    assert text == "<unparsed body: 1 bytes, no content type>"


def test_an_escaped_secret_key_that_parses_is_masked():
    text = access_log.masked_body(raw=b'{"pass\\u0077ord": "S", "n": 1}')
    assert json.loads(text) == {"password": "***", "n": 1}


def test_authorization_keeps_its_scheme_only():
    text = access_log.masked_headers(
        {"authorization": "Bearer abc.def", "cookie": "session_id=1", "accept": "*/*"}
    )
    assert "abc.def" not in text and "session_id=1" not in text
    assert "authorization: Bearer ***" in text
    assert "accept: */*" in text
    text = access_log.masked_headers({"authorization": "S1 S2"})
    assert text == "authorization: ***"


def test_only_harmless_headers_keep_their_values():
    headers = {
        "x-auth": "S1",
        "x-api-key": "S2",
        "proxy-authorization": "Basic S3",
        "x-anything": "S4",
        "user-agent": "curl/8",
        "x-request-id": "r-1",
        "content-type": "application/json",
        "x-company-id": "1,2",
    }
    text = access_log.masked_headers(headers)
    for secret in ("S1", "S2", "S3", "S4"):
        assert secret not in text
    assert "x-auth: ***" in text and "proxy-authorization: Basic ***" in text
    for name in ("user-agent", "x-request-id", "content-type", "x-company-id"):
        assert f"{name}: {headers[name]}" in text


def test_a_referer_keeps_no_query_nor_credentials():
    text = access_log.masked_headers(
        {
            "referer": "https://u:S1@x.example/p?access_token=S2#S3",
            "origin": "https://x.example:8443",
        }
    )
    assert "S1" not in text and "S2" not in text and "S3" not in text
    assert "referer: https://x.example/p?***" in text
    assert "origin: https://x.example:8443" in text


def test_bodies_are_cut_at_16_kib_on_a_character_boundary():
    text = access_log.cut("é" * 20000)
    assert len(text.encode("utf-8")) <= access_log.MAX_BODY_BYTES
    assert text.endswith("[cut: 40000 bytes]")
    assert access_log.cut("short") == "short"


def test_a_failed_flush_puts_its_rows_back_in_front():
    buffer = LogBuffer()
    for row in ("a", "b"):
        buffer.add(row)
    taken = buffer.drain()
    buffer.add("c")
    buffer.restore(taken)
    assert buffer.drain() == ["a", "b", "c"]
    assert len(buffer) == 0


def test_text_postgresql_cannot_store_is_replaced():
    assert access_log.storable("/api/p/\x00x") == "/api/p/\ufffdx"
    assert access_log.storable('{"name":"\ud800"}') == '{"name":"\ufffd"}'
    assert access_log.storable("é ok") == "é ok"


def test_every_text_value_of_a_row_is_made_storable():
    row = ("GET", "/api/\x00", 401, None, [1, 2], ["res.partner,\udfff"], b"x")
    assert access_log.storable_row(row) == (
        "GET",
        "/api/\ufffd",
        401,
        None,
        [1, 2],
        ["res.partner,\ufffd"],
        b"x",
    )


def test_a_utf16_body_is_stored_without_nul():
    body = '{"name":"x"}'.encode("utf-16")
    text = access_log.masked_body(raw=body)
    assert "\x00" not in text


def test_a_json_body_with_a_lone_surrogate_is_kept_storable():
    assert access_log.masked_body(raw=b'{"name": "\\ud800"}') == '{"name":"\ufffd"}'
    assert access_log.masked_body(value={"name": "\udc00"}) == '{"name":"\ufffd"}'


def test_a_deeply_nested_json_body_is_masked_without_recursion():
    deep = {"password": "p", "list": []}
    inner = deep["list"]
    for _level in range(5000):
        inner.append([])
        inner = inner[0]
    inner.append({"token": "t"})
    masked = access_log.mask(deep)
    assert masked["password"] == "***"
    inner = masked["list"]
    for _level in range(5000):
        inner = inner[0]
    assert inner == [{"token": "***"}]


def test_a_body_nested_deeper_than_the_bound_is_not_kept():
    raw = ("[" * 700 + "]" * 700).encode()
    assert (
        access_log.masked_body(raw=raw, content_type="application/json")
        == "<unparsed body: 1400 bytes, application/json>"
    )
    shallow = ("[" * 20 + "]" * 20).encode()
    assert access_log.masked_body(raw=shallow, content_type="application/json") == (
        "[" * 20 + "]" * 20
    )


def test_a_deep_answer_is_not_kept_either():
    value = []
    for _level in range(700):
        value = [value]
    assert access_log.masked_body(value=value).startswith("<unparsed body:")


def test_a_name_part_that_names_a_secret_masks_the_value():
    for name in (
        "smtp_pass",
        "db-pwd",
        "otp",
        "employee_pin",
        "licenseKey",
        "x.auth",
        "user_credentials",
        "LOGIN_PASSWD",
    ):
        assert access_log.is_secret_name(name), name


def test_ordinary_names_that_merely_contain_a_secret_word_are_kept():
    for name in ("keyword", "passenger", "author", "opinion", "spinner", "name"):
        assert not access_log.is_secret_name(name), name


def test_a_secret_value_in_a_body_domain_is_masked():
    masked = access_log.mask(
        {
            "domain": [
                ["login", "=", "x"],
                "|",
                ["password", "=", "S"],
                ("partner_id.x_pin", "in", ["1"]),
            ]
        }
    )
    assert masked == {
        "domain": [
            ["login", "=", "x"],
            "|",
            ["password", "=", "***"],
            ["partner_id.x_pin", "in", "***"],
        ]
    }


def test_a_secret_value_in_a_query_domain_is_masked():
    path = access_log.clean_path("ms", [("domain", '[("smtp_pass", "=", "SEC")]')])
    assert path == '/api/ms?domain=[["smtp_pass","%3D","***"]]'
    kept = access_log.clean_path("ms", [("domain", '[("name", "=", "x")]')])
    assert kept == '/api/ms?domain=[("name",%20"%3D",%20"x")]'


def test_a_query_domain_that_does_not_parse_is_masked():
    path = access_log.clean_path("ms", [("domain", '[("name", "=", "x")];password=S')])
    assert path == "/api/ms?domain=***"


def test_a_parameter_value_not_shaped_like_its_parameter_is_masked():
    query = [
        ("limit", "1;access_token=Q"),
        ("order", "name desc;x=Q"),
        ("count", "exact;Q"),
    ]
    path = access_log.clean_path("p", query)
    assert path == "/api/p?limit=***&order=***&count=***"


def test_parameter_values_shaped_like_their_parameter_are_kept():
    query = [
        ("limit", "10"),
        ("offset", "0"),
        ("order", "name desc, id"),
        ("fields", "name,country_id"),
        ("groupby", "date:month,country_id"),
        ("measures", "amount:sum"),
        ("count", "estimated"),
        ("cursor", "eyJrIjoxfQ-_"),
        ("changed_since", "2024-01-01T00:00:00+00:00"),
    ]
    path = access_log.clean_path("p", query)
    assert MASK_TEXT not in path


MASK_TEXT = access_log.MASK


ALIASED_SPEC = {
    "res.users": {
        "fields": [
            {"name": "login", "alias": "login", "lines": None},
            {"name": "password", "alias": "new_pass", "lines": None},
            {
                "name": "child_ids",
                "alias": "kids",
                "lines": [{"name": "x_api_secret", "alias": "code", "lines": None}],
            },
        ]
    }
}


def test_the_aliases_of_secret_fields_are_secret_names():
    assert access_log.secret_aliases(ALIASED_SPEC) == frozenset({"new_pass", "code"})


def test_a_secret_field_under_an_alias_is_masked_in_bodies_and_domains():
    names = access_log.secret_aliases(ALIASED_SPEC)
    body = b'{"login": "zz", "new_pass": "ALIASSEC1", "kids": [{"code": "C"}]}'
    kept = access_log.masked_body(
        raw=body, content_type="application/json", secret_names=names
    )
    assert kept == '{"login":"zz","new_pass":"***","kids":[{"code":"***"}]}'
    path = access_log.clean_path(
        "u", [("domain", '[("new_pass", "=", "S")]')], secret_names=names
    )
    assert path == '/api/u?domain=[["new_pass","%3D","***"]]'


def test_the_positional_arguments_of_a_method_call_are_masked():
    body = b'{"args": ["old", ["NEW"], 3], "kwargs": {"name": "n", "password": "p"}}'
    kept = access_log.masked_body(raw=body, content_type="application/json")
    assert kept == '{"args":"***","kwargs":{"name":"n","password":"***"}}'


def test_no_query_value_makes_the_path_fail_it_is_masked_instead():
    """A domain that parses as a literal but cannot be written back (a dict
    with tuple keys, an integer too long for str()) once stopped the row."""
    huge = "0x" + "f" * 4000
    for domain in (
        "[('name','=',{(1,):(1,)})]",
        f"[('name','in',({huge},))]",
        "[('password','=',{(1,):'S'})]",
    ):
        path = access_log.clean_path("p/12", [("domain", domain)])
        assert path.startswith("/api/p/12?domain=")
        assert "S'" not in path


def test_a_path_without_its_query_is_the_fallback():
    assert access_log.bare_path("p/12", [("x", "1")]) == "/api/p/12?***"
    assert access_log.bare_path("p/12", []) == "/api/p/12"


def test_method_arguments_are_masked_whatever_the_operation():
    """Positional arguments have no names to judge them by: ``args`` is
    masked in any request body (405s and 404s of RPC-like paths too)."""
    for raw, media in (
        (b'{"args": ["OLD", "NEW"]}', "application/json"),
        (b'{"args": {"a": "DICT"}}', "application/json"),
        (b'{"args": "STR"}', "application/json"),
        (b'[{"args": ["LIST"]}]', "application/json"),
        (b"args=FORM1&args=FORM2", "application/x-www-form-urlencoded"),
    ):
        kept = access_log.masked_body(raw=raw, content_type=media)
        for secret in ("OLD", "NEW", "DICT", "STR", "LIST", "FORM1", "FORM2"):
            assert secret not in kept, (raw, kept)
