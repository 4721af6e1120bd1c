"""Pure webhook helpers: connecting to the address that was checked."""

import json

import pytest

from core.webhooks import body, destination_problem, encode_record, payload, pinned

PUBLIC = ["93.184.216.34"]


@pytest.mark.parametrize(
    ("url", "address", "expected_url", "host"),
    [
        (
            "https://hooks.example.com/in?x=1",
            "93.184.216.34",
            "https://93.184.216.34/in?x=1",
            "hooks.example.com",
        ),
        (
            "https://hooks.example.com:8443/in",
            "2606:2800:220:1::",
            "https://[2606:2800:220:1::]:8443/in",
            "hooks.example.com:8443",
        ),
        ("http://[::1]:81/h", "::1", "http://[::1]:81/h", "[::1]:81"),
    ],
)
def test_pinned_url_connects_to_the_checked_address_and_keeps_the_host(
    url, address, expected_url, host
):
    assert pinned(url, address) == (expected_url, host)


@pytest.mark.parametrize(
    "url",
    [
        # urlsplit reads the backslash as part of the user info; HTTP
        # clients end the host there: the two must never disagree.
        "https://127.0.0.1:8443\\@hooks.example.com/in",
        "https://intranet\\@hooks.example.com/in",
        "https://user:pw@hooks.example.com/in",
        "https://hooks.example.com@evil.example/in",
        "https://hooks.example.com /in",
        "https://hooks.example.com/in\r\nX: y",
        "https://hooks.example.com\t/in",
    ],
)
def test_urls_that_clients_could_read_differently_are_refused(url):
    assert destination_problem(url, PUBLIC) is not None


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible
        "fec0::1",  # site-local
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "::ffff:10.0.0.1",
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "240.0.0.1",  # reserved
        "100.64.0.1",  # shared address space
    ],
)
def test_addresses_that_reach_private_networks_are_refused(address):
    assert destination_problem("https://hooks.example.com/in", [address]) is not None


def test_a_plain_public_https_url_is_accepted():
    assert destination_problem("https://hooks.example.com:8443/in?a=1", PUBLIC) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://1.1.1.1:443:80/h",
        "https://hooks.example.com:99999/h",
        "https://hooks.example.com:8o/h",
        "https://hooks.example.com:-1/h",
    ],
)
def test_urls_with_impossible_ports_are_refused(url):
    assert destination_problem(url, PUBLIC) is not None


def test_a_delivery_sends_the_record_text_stored_when_the_event_happened():
    record = {"id": "x7Kp", "name": "Zoë & Co", "amount": 1.5, "tags": [], "ok": None}
    stored = encode_record(record)
    sent = body(42, "update", "crm/leads", "2026-11-28T12:00:00Z", stored)
    assert stored.encode() in sent
    assert json.loads(sent) == {
        "id": 42,
        "event": "update",
        "api": "crm/leads",
        "occurred_at": "2026-11-28T12:00:00Z",
        "record": record,
    }
    assert sent == payload(42, "update", "crm/leads", "2026-11-28T12:00:00Z", record)
