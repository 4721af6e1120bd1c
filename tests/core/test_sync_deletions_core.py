"""Deletions in sync, the framework-free part: cursors that carry the
position of the last removal delivered, the retention check and the
documented answer."""

import base64
import datetime
import hmac
import json

import pytest
import test_documents as fixtures

from core import operations
from core.exceptions import BadRequest, ResyncRequired, render_error
from core.hashid import IdCodec
from core.openapi import build_openapi
from core.sync import (
    CURSOR_VERSION,
    CURSOR_VERSION_REMOVED,
    check_retention,
    decode_cursor,
    derive_key,
    encode_cursor,
    query_binding,
)

KEY = derive_key("database-secret", "cursor", 1)
BINDING = query_binding(1, "res.partner", "[]", "2026-01-01T00:00:00Z")
CODEC = IdCodec(True, "salt", "res.partner", 8)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(body):
    payload = json.dumps(body).encode()
    signature = hmac.new(KEY, payload, "sha256").digest()[:16]
    return b64(payload) + "." + b64(signature)


def test_a_cursor_carries_the_removal_position_it_was_made_with():
    cursor = encode_cursor(KEY, BINDING, CODEC.encode(42), (901, 7))
    decoded = decode_cursor(KEY, BINDING, cursor, CODEC.decode, with_removed=True)
    assert decoded == (42, (901, 7))


def test_a_cursor_before_any_record_starts_the_records_from_the_beginning():
    cursor = encode_cursor(KEY, BINDING, None, (901, 7))
    decoded = decode_cursor(KEY, BINDING, cursor, CODEC.decode, with_removed=True)
    assert decoded == (0, (901, 7))


def test_a_cursor_made_before_removals_reads_as_no_removal_delivered_yet():
    cursor = encode_cursor(KEY, BINDING, CODEC.encode(42))
    decoded = decode_cursor(KEY, BINDING, cursor, CODEC.decode, with_removed=True)
    assert decoded == (42, (0, 0))


@pytest.mark.parametrize(
    "body",
    [
        [CURSOR_VERSION, BINDING, CODEC.encode(42)],
        [CURSOR_VERSION_REMOVED, BINDING, CODEC.encode(42), [0, 0]],
    ],
)
def test_a_signed_cursor_issued_before_encryption_is_still_read(body):
    decoded = decode_cursor(KEY, BINDING, signed(body), CODEC.decode, with_removed=True)
    assert decoded == (42, (0, 0))


@pytest.mark.parametrize(
    "removed", [[1], [1, 2, 3], [-1, 2], [True, 2], ["1", 2], 5, None, {"x": 1}]
)
def test_a_signed_cursor_whose_removal_position_is_malformed_is_refused(removed):
    cursor = signed([CURSOR_VERSION_REMOVED, BINDING, CODEC.encode(1), removed])
    with pytest.raises(BadRequest) as caught:
        decode_cursor(KEY, BINDING, cursor, CODEC.decode, with_removed=True)
    assert caught.value.name == "invalid_cursor"


def all_bytes(cursor):
    """Everything anyone can read of a cursor: its text and each part's
    bytes, base64-decoded."""
    out = cursor.encode()
    for part in cursor.split("."):
        out += base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    return out


def test_a_cursor_reveals_neither_its_position_nor_its_removal_position():
    cursor = encode_cursor(KEY, BINDING, 735000123, (2929912345, 25123))
    seen = all_bytes(cursor)
    for secret in (b"735000123", b"2929912345", b"25123", BINDING.encode()):
        assert secret not in seen
    assert decode_cursor(KEY, BINDING, cursor, with_removed=True) == (
        735000123,
        (2929912345, 25123),
    )


def test_two_cursors_of_the_same_position_differ():
    one = encode_cursor(KEY, BINDING, 42, (10, 3))
    assert one != encode_cursor(KEY, BINDING, 42, (10, 3))


def test_a_tampered_cursor_is_refused():
    cursor = encode_cursor(KEY, BINDING, 42, (10, 3))
    raw = bytearray(all_bytes(cursor)[len(cursor) :])
    for index in (0, 20, len(raw) - 1):
        forged = bytearray(raw)
        forged[index] ^= 1
        with pytest.raises(BadRequest) as caught:
            decode_cursor(KEY, BINDING, b64(bytes(forged)), with_removed=True)
        assert caught.value.name == "invalid_cursor"
    for text in (b64(bytes(raw[:-1])), b64(bytes(raw[:20])), cursor + "A"):
        with pytest.raises(BadRequest):
            decode_cursor(KEY, BINDING, text, with_removed=True)


def test_a_changed_since_past_the_retention_is_410_resync_required():
    now = datetime.datetime(2026, 3, 31, 12, 0, 0)
    check_retention(now - datetime.timedelta(days=30), now, 30)
    with pytest.raises(ResyncRequired) as caught:
        check_retention(now - datetime.timedelta(days=30, seconds=1), now, 30)
    status, _headers, body = render_error(caught.value, "req-1")
    assert status == 410
    assert body["error"]["data"]["name"] == "resync_required"


def test_a_changed_since_before_the_coverage_or_a_purge_is_410():
    now = datetime.datetime(2026, 3, 31, 12, 0, 0)
    hour = datetime.timedelta(hours=1)
    check_retention(now - hour, now, 30, since=now - 2 * hour, purged=now - 3 * hour)
    for since, purged in ((now - hour / 2, None), (None, now - hour / 2)):
        with pytest.raises(ResyncRequired):
            check_retention(now - hour, now, 30, since=since, purged=purged)
    # A removal dated exactly at changed_since was purged: it would be listed.
    with pytest.raises(ResyncRequired):
        check_retention(now - hour, now, 30, purged=now - hour)


def test_search_documents_410_and_removed_on_apis_that_sync_deletions():
    syncing = dict(fixtures.api("partner/sync", True), sync_deletions=True)
    document = build_openapi([syncing, fixtures.api("partner/rest", True)])
    search = document["paths"]["/api/partner/sync"]["get"]
    assert "410" in search["responses"]
    assert "410" in operations.statuses("search")
    schemas = document["components"]["schemas"]
    removed = schemas["PartnerSyncResPartnerSearchResult"]["properties"]["removed"]
    assert removed["items"]["required"] == ["id", "removed_at"]
    assert "removed" not in schemas["PartnerRestResPartnerSearchResult"]["properties"]
