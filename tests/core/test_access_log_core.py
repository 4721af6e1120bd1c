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


def test_bodies_that_are_not_json_are_masked_as_text():
    cut = access_log.masked_body(raw=b'{"password": "hunter2", "name": "x", ')
    assert "hunter2" not in cut and '"name": "x"' in cut
    form = access_log.masked_body(raw=b"password=hunter2&name=x")
    assert form == "password=***&name=x"
    pairs = access_log.masked_body(form=[("token", "t"), ("q", "1")])
    assert json.loads(pairs) == [["token", "***"], ["q", "1"]]
    assert access_log.masked_body() is False


def test_authorization_keeps_its_scheme_only():
    text = access_log.masked_headers(
        {"authorization": "Bearer abc.def", "cookie": "session_id=1", "accept": "*/*"}
    )
    assert "abc.def" not in text and "session_id=1" not in text
    assert "authorization: Bearer ***" in text
    assert "accept: */*" in text


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
