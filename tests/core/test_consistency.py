import pytest

from core import consistency as c
from core.exceptions import BadRequest

KEY = b"k" * 32


def refused(token, key=KEY):
    with pytest.raises(BadRequest) as caught:
        c.decode(token, key)
    assert caught.value.name == "invalid_consistency_token"
    assert caught.value.status == 400


def test_a_token_carries_its_position_back():
    for position in (0, 1, 0x16B374D848, (1 << 64) - 1):
        token = c.encode(position, KEY)
        assert c.decode(token, KEY) == position


def test_tokens_are_short_url_safe_text():
    token = c.encode(0x16B374D848, KEY)
    assert len(token) == 28
    assert c.TOKEN_RE.match(token)


def test_a_token_of_another_key_is_refused():
    refused(c.encode(42, KEY), key=b"x" * 32)


def test_a_changed_position_is_refused():
    token = c.encode(42, KEY)
    forged = c.encode(1 << 40, b"guess")
    assert forged != token
    refused(forged)
    # Any single changed character breaks the signature or the layout.
    for index in range(len(token)):
        swapped = "A" if token[index] != "A" else "B"
        changed = token[:index] + swapped + token[index + 1 :]
        refused(changed)


def test_malformed_tokens_are_refused():
    for token in ("", " ", "0/16B374D8", "a" * 65, "é", "abc", "====", None, 42):
        refused(token)
    refused(c.encode(1, KEY) + "AA")


def test_a_token_is_taken_from_the_header_or_the_parameter():
    assert c.requested({}, []) is None
    assert c.requested({"x-consistency-token": " abc "}, []) == "abc"
    assert c.requested({}, [("consistent_after", "abc")]) == "abc"
    same = c.requested({"x-consistency-token": "abc"}, [("consistent_after", "abc")])
    assert same == "abc"


def test_two_different_tokens_are_refused():
    for headers, query in (
        ({"x-consistency-token": "abc"}, [("consistent_after", "abd")]),
        ({}, [("consistent_after", "abc"), ("consistent_after", "abd")]),
    ):
        with pytest.raises(BadRequest) as caught:
            c.requested(headers, query)
        assert caught.value.name == "invalid_consistency_token"


def test_lsn_text_is_postgresql_s_form():
    assert c.lsn_text(0) == "0/0"
    assert c.lsn_text(0x16B374D848) == "16/B374D848"
    with pytest.raises(ValueError):
        c.lsn_text(-1)
