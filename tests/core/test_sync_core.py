"""Keyset cursors and the server keys that sign them (core.sync)."""

import base64
import hmac
import json

import pytest

from core.exceptions import BadRequest
from core.hashid import IdCodec
from core.sync import (
    CURSOR_VERSION,
    IDEMPOTENCY_MAX_KEYS,
    decode_cursor,
    derive_key,
    encode_cursor,
    max_keys,
    query_binding,
)

SECRET = "database-secret"


def readable(cursor):
    head = cursor.split(".")[0]
    return base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("latin-1")


def test_derived_keys_differ_per_purpose_context_and_secret():
    keys = {
        derive_key(SECRET, "cursor", 1),
        derive_key(SECRET, "cursor", 2),
        derive_key(SECRET, "other", 1),
        derive_key("another secret", "cursor", 1),
    }
    assert len(keys) == 4
    assert derive_key(SECRET, "cursor", 1) == derive_key(SECRET, "cursor", 1)


def test_a_key_is_never_derived_from_no_secret():
    for secret in ("", None):
        with pytest.raises(ValueError):
            derive_key(secret, "cursor", 1)


def test_a_cursor_carries_the_client_facing_id_only():
    codec = IdCodec(True, "salt", "res.partner", 6)
    binding = query_binding(1, "res.partner", "[]", None)
    key = derive_key(SECRET, "cursor", 1)
    cursor = encode_cursor(key, binding, codec.encode(735000123))
    assert "735000123" not in readable(cursor)
    assert decode_cursor(key, binding, cursor, codec.decode) == 735000123


def test_a_cursor_is_refused_with_another_key_binding_or_codec():
    codec = IdCodec(True, "salt", "res.partner", 6)
    binding = query_binding(1, "res.partner", "[]", None)
    key = derive_key(SECRET, "cursor", 1)
    cursor = encode_cursor(key, binding, codec.encode(42))
    other_codec = IdCodec(True, "salt", "res.country", 6)
    for args in (
        (derive_key(SECRET, "cursor", 2), binding, cursor, codec.decode),
        (key, query_binding(1, "res.partner", "[1]", None), cursor, codec.decode),
        (key, binding, cursor, other_codec.decode),
    ):
        with pytest.raises(BadRequest) as caught:
            decode_cursor(*args)
        assert caught.value.name == "invalid_cursor"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("position", [True, None, 1.5, [1], {"id": 1}])
def test_a_signed_cursor_whose_position_is_no_id_is_refused(position):
    key = derive_key(SECRET, "cursor", 1)
    binding = query_binding(1, "m.m", "[]", None)
    payload = json.dumps([CURSOR_VERSION, binding, position]).encode()
    signature = hmac.new(key, payload, "sha256").digest()[:16]
    with pytest.raises(BadRequest):
        decode_cursor(key, binding, b64(payload) + "." + b64(signature))


def test_the_idempotency_cap_is_a_positive_number_or_the_default():
    assert max_keys("25") == 25
    assert max_keys("0") == 1
    for text in (None, "", "many", "1.5"):
        assert max_keys(text) == IDEMPOTENCY_MAX_KEYS
