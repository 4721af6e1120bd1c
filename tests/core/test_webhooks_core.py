"""Pure webhook helpers: connecting to the address that was checked."""

import pytest

from core.webhooks import pinned


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
        (
            "https://user:pw@hooks.example.com/in",
            "93.184.216.34",
            "https://user:pw@93.184.216.34/in",
            "hooks.example.com",
        ),
        ("http://[::1]:81/h", "::1", "http://[::1]:81/h", "[::1]:81"),
    ],
)
def test_pinned_url_connects_to_the_checked_address_and_keeps_the_host(
    url, address, expected_url, host
):
    assert pinned(url, address) == (expected_url, host)
