"""The access log on real servers: rows are searchable within 10 seconds,
and a server with two workers loses none when it stops right after a burst:
SIGTERM to its master, to its workers, or to all of them at once (systemd).

The stopped servers are started by the ``start_odoo`` fixture
(tests/live/conftest.py), with a flush interval of an hour: only the flush
when a process stops writes its rows.
"""

import contextlib
import json
import os
import signal
import subprocess
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


@contextlib.contextmanager
def _prefork_server(start_odoo, tmp_path):
    """A server of its own with two workers and a flush interval of an
    hour: only a flush when a process stops writes the rows. Yields its URL
    and process; stopped (SIGKILL) at the end if still running, and its log
    must hold no traceback."""
    config = tmp_path / "odoo.conf"
    config.write_text("[options]\nsecure_api_log_interval = 3600\n")
    url, process = start_odoo(f"--config={config}")
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = process.log_path.read_text()
    assert "Traceback" not in text, text[-3000:]


def _workers(master):
    """The HTTP workers of ``master``: not its gevent process (``odoo-bin
    gevent ...``; every process has ``--gevent-port`` in its arguments)."""
    output = subprocess.check_output(["ps", "-o", "pid=", "--ppid", str(master)])
    workers = []
    for pid in (int(pid) for pid in output.split()):
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            if b"gevent" not in cmdline.read().split(b"\0"):
                workers.append(pid)
    return workers


def _burst_buffered(url, admin, live, count=40):
    """``count`` logged requests, buffered in the workers; their marker."""
    token = get_token(url, live["client_id"], live["client_secret"])
    marker = f"live-stop-{uuid.uuid4().hex}"
    assert _burst(url, token, marker, count) == [200] * count
    # Buffered in the two workers: nothing written yet.
    assert _rows(admin, marker) == 0
    return marker


def _wait_for_rows(admin, marker, count, seconds=15):
    deadline = time.time() + seconds
    while _rows(admin, marker) < count and time.time() < deadline:
        time.sleep(0.5)
    return _rows(admin, marker)


def test_no_row_is_lost_when_a_server_stops_after_a_burst(
    admin, live, logged_api, start_odoo, tmp_path
):
    with _prefork_server(start_odoo, tmp_path) as (url, process):
        marker = _burst_buffered(url, admin, live)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    assert _rows(admin, marker) == 40


def test_no_row_is_lost_when_a_worker_gets_sigterm(
    admin, live, logged_api, start_odoo, tmp_path
):
    with _prefork_server(start_odoo, tmp_path) as (url, process):
        marker = _burst_buffered(url, admin, live)
        workers = _workers(process.pid)
        assert len(workers) == 2
        for pid in workers:
            os.kill(pid, signal.SIGTERM)
        # Each worker flushes, then dies of the signal; the master replaces it.
        assert _wait_for_rows(admin, marker, 40) == 40
        for pid in workers:
            _wait_gone(pid)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)


def test_no_row_is_lost_when_master_and_workers_get_sigterm_at_once(
    admin, live, logged_api, start_odoo, tmp_path
):
    # What systemd does (KillMode=control-group): SIGTERM to every process.
    with _prefork_server(start_odoo, tmp_path) as (url, process):
        marker = _burst_buffered(url, admin, live)
        for pid in [process.pid, *_workers(process.pid)]:
            os.kill(pid, signal.SIGTERM)
        process.wait(timeout=120)
    assert _rows(admin, marker) == 40


def _wait_gone(pid, seconds=10):
    """``pid`` ended within ``seconds`` (a worker stuck after SIGTERM would
    not): its master reaped it."""
    deadline = time.time() + seconds
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{pid}"), f"worker {pid} still alive"
