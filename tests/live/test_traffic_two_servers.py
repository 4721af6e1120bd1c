"""Traffic policy across servers: two more Odoo servers with two workers each
on the live database, and bursts spread over both. The counters live in
PostgreSQL, so together they let through exactly the limit.

The servers are started from ``SECURE_API_LIVE_ODOO`` (a JSON list: the
odoo-bin command with its database options, as tools/test.sh runs it).
"""

import json
import os
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import PARTNERS, PREFIX, TIMEOUT, get_token

# Aligned 31-day windows: a burst of a few seconds never straddles two.
WINDOW = 31 * 86400


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_served(url, process, deadline=180):
    end = time.time() + deadline
    while time.time() < end:
        if process.poll() is not None:
            raise RuntimeError(f"Odoo exited before serving {url}")
        try:
            if requests.get(f"{url}/web/login", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Odoo did not serve {url} within {deadline} s")


@pytest.fixture(scope="module")
def two_servers(server, tmp_path_factory):
    command = json.loads(os.environ.get("SECURE_API_LIVE_ODOO") or "[]")
    if not command:
        pytest.skip(
            "!!! SECURE_API_LIVE_ODOO is not set: the two-server checks need the "
            "odoo-bin command (tools/test.sh sets it) !!!"
        )
    logs = tmp_path_factory.mktemp("two_servers")
    started = []
    try:
        for index in range(2):
            port = _free_port()
            log = open(logs / f"odoo-{index}.log", "w")  # noqa: SIM115
            process = subprocess.Popen(
                [
                    *command,
                    "-d",
                    server["db"],
                    f"--db-filter=^{server['db']}$",
                    "--http-interface=127.0.0.1",
                    f"--http-port={port}",
                    f"--gevent-port={_free_port()}",
                    "--workers=2",
                    "--max-cron-threads=0",
                    "--log-level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append((process, log))
            url = f"http://127.0.0.1:{port}"
            _wait_until_served(url, process)
            started[-1] = (process, log, url)
        yield [entry[2] for entry in started]
    finally:
        for entry in started:
            entry[0].terminate()
        for entry in started:
            try:
                entry[0].wait(timeout=60)
            except subprocess.TimeoutExpired:
                entry[0].kill()
            entry[1].close()


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
