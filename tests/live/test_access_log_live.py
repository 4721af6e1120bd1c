"""The access log on real servers: rows are searchable within 10 seconds,
and a server with two workers stopped right after a burst loses none.

The stopped server is started by the ``start_odoo`` fixture
(tests/live/conftest.py), with a flush interval of an hour: only the flush at
exit can write its rows.
"""

import json
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import PARTNERS, TIMEOUT, get_token


@pytest.fixture
def logged_api(admin, live):
    """The suite's partners API with every request logged, for one test."""
    api = live["partners_api"]
    admin.call("secure.api", "write", [api], {"log_level": "all"})
    yield api
    admin.call("secure.api", "write", [api], {"log_level": "none"})


def _burst(url, token, marker, count):
    """``count`` searches whose query carries ``marker``, eight at a time."""
    headers = {"Authorization": f"Bearer {token}"}
    domain = json.dumps([["name", "=", marker]])

    def one(_index):
        return requests.get(
            f"{url}/api/{PARTNERS}",
            params={"limit": 1, "domain": domain},
            headers=headers,
            timeout=TIMEOUT,
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def _rows(admin, marker):
    return admin.call("secure.api.log", "search_count", [("path", "ilike", marker)])


def test_rows_are_searchable_within_10_seconds(server, admin, live, logged_api):
    token = get_token(server["url"], live["client_id"], live["client_secret"])
    marker = f"live-log-{uuid.uuid4().hex}"
    assert _burst(server["url"], token, marker, 20) == [200] * 20
    deadline = time.time() + 10
    while _rows(admin, marker) < 20 and time.time() < deadline:
        time.sleep(0.5)
    assert _rows(admin, marker) == 20


def test_no_row_is_lost_when_a_server_stops_after_a_burst(
    admin, live, logged_api, start_odoo, tmp_path
):
    config = tmp_path / "odoo.conf"
    config.write_text("[options]\nsecure_api_log_interval = 3600\n")
    url, process = start_odoo(f"--config={config}")
    token = get_token(url, live["client_id"], live["client_secret"])
    marker = f"live-stop-{uuid.uuid4().hex}"
    assert _burst(url, token, marker, 40) == [200] * 40
    # Buffered in the two workers: nothing written yet.
    assert _rows(admin, marker) == 0
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    assert _rows(admin, marker) == 40
