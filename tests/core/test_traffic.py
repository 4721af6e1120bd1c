import calendar

import pytest

from core import traffic
from core.traffic import ClientPolicy, Limit, Usage

NOON = calendar.timegm((2026, 12, 7, 12, 0, 30))


def test_rate_windows_are_aligned_on_their_length():
    assert Limit("k", 5, "rate", 60).bounds(NOON) == (NOON - 30, NOON + 30)


def test_daily_quota_window_is_the_utc_day():
    start, end = Limit("k", 5, "daily").bounds(NOON)
    assert start == calendar.timegm((2026, 12, 7, 0, 0, 0))
    assert end - start == 86400


def test_monthly_quota_window_is_the_calendar_month_across_the_year_end():
    start, end = Limit("k", 5, "monthly").bounds(NOON)
    assert start == calendar.timegm((2026, 12, 1, 0, 0, 0))
    assert end == calendar.timegm((2027, 1, 1, 0, 0, 0))


def test_no_limit_means_no_counter():
    assert traffic.limits_for(3, (0, 60), ClientPolicy(), "app:7") == ()
    assert traffic.limits_for(3, (0, 60), None, "ip:127.0.0.1") == ()


def test_api_limit_is_counted_per_caller_and_client_limits_per_app():
    policy = ClientPolicy(
        rate_limit=10, rate_window=1, quota_daily=100, quota_monthly=9
    )
    keys = [limit.key for limit in traffic.limits_for(3, (5, 60), policy, "app:7")]
    assert keys == ["api:3:app:7", "app:7", "day:7", "month:7"]
    public = traffic.limits_for(3, (5, 60), None, "ip:::1")
    assert [limit.key for limit in public] == ["api:3:ip:::1"]


def test_headers_describe_the_rate_limit_with_least_remaining():
    wide = Usage(Limit("a", 100, "rate", 60), 10, NOON + 30)
    tight = Usage(Limit("b", 5, "rate", 10), 4, NOON + 10)
    quota = Usage(Limit("c", 5, "daily"), 5, NOON + 999)
    headers = traffic.rate_headers([wide, tight, quota], NOON)
    assert headers == {
        "RateLimit-Policy": "5;w=10",
        "RateLimit": "limit=5, remaining=1, reset=10",
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "1",
        "X-RateLimit-Reset": str(NOON + 10),
    }


def test_quotas_alone_give_no_rate_headers():
    assert traffic.rate_headers([Usage(Limit("c", 5, "daily"), 1, NOON)], NOON) == {}


def test_allowlist_takes_addresses_and_networks_of_both_families():
    networks = traffic.parse_allowlist(
        "203.0.113.7\n10.0.0.0/8  # office\n\n2001:db8::/32"
    )
    assert traffic.address_allowed(networks, "203.0.113.7")
    assert traffic.address_allowed(networks, "10.200.1.1")
    assert traffic.address_allowed(networks, "2001:db8::42")
    assert not traffic.address_allowed(networks, "203.0.113.8")
    assert not traffic.address_allowed(networks, "2001:db9::1")


def test_ipv4_mapped_ipv6_addresses_match_their_ipv4_entry():
    networks = traffic.parse_allowlist("192.0.2.0/24")
    assert traffic.address_allowed(networks, "::ffff:192.0.2.9")


def test_empty_allowlist_allows_every_address_and_garbage_address_is_refused():
    assert traffic.address_allowed((), "198.51.100.1")
    assert not traffic.address_allowed(traffic.parse_allowlist("::1"), "not-an-ip")


def test_a_bad_allowlist_line_is_named():
    with pytest.raises(ValueError, match="Line 2"):
        traffic.parse_allowlist("127.0.0.1\n300.1.1.1")


def test_retry_after_is_rounded_up_so_a_client_that_waits_gets_through():
    from core.exceptions import TooManyRequests

    assert TooManyRequests(5.2).headers["Retry-After"] == "6"
    assert TooManyRequests(0.1).headers["Retry-After"] == "1"


def test_an_ipv4_entry_written_in_ipv6_means_its_ipv4_network():
    networks = traffic.parse_allowlist("::ffff:192.0.2.0/120")
    assert traffic.address_allowed(networks, "192.0.2.77")
    assert traffic.address_allowed(networks, "::ffff:192.0.2.78")
    assert not traffic.address_allowed(networks, "192.0.3.1")


def test_an_allowlist_entry_with_a_zone_id_is_refused():
    with pytest.raises(ValueError, match="Line 1"):
        traffic.parse_allowlist("fe80::1%eth0")


def test_anonymous_ipv6_callers_count_per_64_and_ipv4_per_address():
    one = traffic.caller_key(address="2001:db8:1:2:aaaa::1")
    other = traffic.caller_key(address="2001:db8:1:2:bbbb::9")
    assert one == other == "ip:2001:db8:1:2::/64"
    assert traffic.caller_key(address="2001:db8:1:3::1") != one
    assert traffic.caller_key(address="::ffff:192.0.2.1") == "ip:192.0.2.1"
    assert traffic.caller_key(address="192.0.2.1") == "ip:192.0.2.1"
    assert traffic.caller_key(address="garbage") == "ip:-"


def test_apps_and_session_users_are_counted_by_id():
    assert traffic.caller_key(app_id=7, uid=3, address="::1") == "app:7"
    assert traffic.caller_key(uid=3, address="::1") == "user:3"
