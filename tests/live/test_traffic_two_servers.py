"""Traffic policy across servers: two more Odoo servers with two workers each
on the live database, and bursts spread over both. The counters live in
PostgreSQL, so together they let through exactly the limit.

The servers are started by the ``start_odoo`` fixture (tests/live/conftest.py).
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import PARTNERS, PREFIX, TIMEOUT, get_token

# Aligned 31-day windows: a burst of a few seconds never straddles two.
WINDOW = 31 * 86400


@pytest.fixture(scope="module")
def two_servers(start_odoo):
    return [start_odoo()[0] for _index in range(2)]


@pytest.fixture(scope="module")
def limited_client(admin, live):
    """A new client app of its own (new counters on every run; the suite's
    app stays unlimited)."""
    user = admin.call("secure.api.client", "read", [live["app_id"]], ["user_id"])
    app_id = admin.call(
        "secure.api.client",
        "create",
        {
            "name": f"{PREFIX} traffic {time.time_ns()}",
            "user_id": user[0]["user_id"][0],
            "scope_search": True,
            "scope_read": True,
        },
    )
    action = admin.call(
        "secure.api.client",
        "action_generate_secret",
        [app_id],
        context={"secure_api_show_secret": True},
    )
    admin.call(
        "secure.api", "write", [live["partners_api"]], {"client_ids": [(4, app_id)]}
    )
    context = action["context"]
    yield app_id, context["default_client_id"], context["default_client_secret"]
    admin.call("secure.api.client", "write", [app_id], {"active": False})


def _burst(urls, token, count):
    """``count`` searches spread over ``urls``, eight at a time."""
    headers = {"Authorization": f"Bearer {token}"}

    def one(index):
        url = urls[index % len(urls)]
        return requests.get(
            f"{url}/api/{PARTNERS}",
            params={"limit": 1},
            headers=headers,
            timeout=TIMEOUT,
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def test_a_rate_limit_lets_exactly_its_limit_through_two_servers(
    admin, two_servers, limited_client
):
    app_id, client_id, secret = limited_client
    admin.call(
        "secure.api.client",
        "write",
        [app_id],
        {"rate_limit": 25, "rate_window": WINDOW, "quota_daily": 0},
    )
    token = get_token(two_servers[0], client_id, secret)
    statuses = _burst(two_servers, token, 60)
    assert statuses.count(200) == 25, statuses
    assert statuses.count(429) == 35, statuses


def test_a_daily_quota_lets_exactly_its_quota_through_two_servers(
    admin, two_servers, limited_client
):
    app_id, client_id, secret = limited_client
    admin.call(
        "secure.api.client", "write", [app_id], {"rate_limit": 0, "quota_daily": 30}
    )
    token = get_token(two_servers[1], client_id, secret)
    statuses = _burst(two_servers, token, 50)
    assert statuses.count(200) == 30, statuses
    assert statuses.count(429) == 20, statuses
