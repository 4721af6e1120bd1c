"""Shared plumbing of tools/benchmark.py and tools/loadtest.py (stdlib only).

Starts Odoo servers on loopback, configures the addon through JSON-RPC as the
admin, and runs bounded, threaded HTTP workloads that record latencies.
"""

import base64
import contextlib
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import quote, urlencode

HOST = "127.0.0.1"


# Where the servers' ports start (--port-base), else any free port.
PORT_BASE = {"next": None}


def free_port():
    """A free loopback port: from ``PORT_BASE`` upward when it is set."""
    start = PORT_BASE["next"]
    for port in range(start, start + 100) if start else (0,):
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            found = sock.getsockname()[1]
        if start:
            PORT_BASE["next"] = found + 1
        return found
    raise RuntimeError(f"no free port from {start}")


def odoo_command(odoo_bin, python=None):
    real = os.path.realpath(shutil.which(odoo_bin) or odoo_bin)
    root = os.path.dirname(real)
    venv = os.path.join(root, ".venv", "bin", "python")
    if python:
        return [python, real], root
    if os.path.exists(os.path.join(root, "odoo", "release.py")) and os.path.exists(
        venv
    ):
        return [venv, real], root
    return [real], root


BENCH_ADDONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_addons")
# The test-only addon of the limit rows (tools/bench_addons/).
LIMIT_MODULE = "secure_api_bench_limit"


def addons_path(root, extra=None, bench_addons=False):
    """The addons path: secure_api (through a link named after it), the
    tree's addons, ``extra`` and, with ``bench_addons``, tools/bench_addons."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # One link per checkout: two checkouts benchmarked at once (worktrees)
    # must not load each other's addon.
    checkout = hashlib.sha1(here.encode()).hexdigest()[:8]
    link_dir = os.path.join("/tmp", f"secure_api_bench_addons_{os.getuid()}_{checkout}")
    os.makedirs(link_dir, exist_ok=True)
    link = os.path.join(link_dir, "secure_api")
    if not os.path.islink(link) or os.path.realpath(link) != here:
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(here, link)
    paths = [link_dir]
    if os.path.isdir(os.path.join(root, "addons")):
        paths.append(os.path.join(root, "addons"))
    if extra:
        paths.append(extra)
    if bench_addons:
        paths.append(BENCH_ADDONS)
    return ",".join(paths)


class OdooServer:
    """An Odoo server process on loopback, stopped on exit."""

    def __init__(
        self, command, db, addons, db_args, workers=2, dbfilter=None, extra=()
    ):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        args = [
            *command,
            *db_args,
            f"--addons-path={addons}",
            f"--http-interface={HOST}",
            f"--http-port={self.port}",
            f"--workers={workers}",
            "--max-cron-threads=0",
            "--log-level=warn",
            "--limit-time-real=600",
            "--limit-time-cpu=600",
            *extra,
        ]
        args += [f"--db-filter={dbfilter}"] if dbfilter else ["-d", db]
        self.log = open(f"/tmp/secure_api_bench_{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                status, _h, _b = request(self.url, "GET", "/web/login")
                if status in (200, 303):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Odoo did not start on {self.url}; see {self.log.name}")

    def workers(self):
        """``{pid: kind}`` of the server's child processes: ``http`` workers
        (and ``cron`` ones), the ``gevent`` websocket server, read from /proc."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    stat = handle.read()
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    cmdline = (
                        handle.read().replace(b"\0", b" ").decode(errors="replace")
                    )
            except OSError:
                continue
            # The second field (the name) may hold spaces: split after it.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != self.process.pid:
                continue
            found[int(entry)] = "gevent" if "gevent" in cmdline else "worker"
        return found

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def request(base, method, path, body=None, headers=None, timeout=60):
    """One HTTP request on a fresh connection: ``(status, headers, body bytes)``."""
    host, port = base.split("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class JsonRpc:
    """The web client's JSON-RPC, with a session cookie."""

    def __init__(self, base, db, login, password):
        self.base = base
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"db": db, "login": login, "password": password},
        }
        status, headers, raw = request(
            base,
            "POST",
            "/web/session/authenticate",
            json.dumps(body),
            {"Content-Type": "application/json"},
        )
        result = json.loads(raw)
        if status != 200 or "error" in result:
            raise RuntimeError(f"login failed for {login}: {raw[:300]!r}")
        cookie = headers.get("Set-Cookie") or headers.get("set-cookie") or ""
        self.session = cookie.split(";", 1)[0]
        self.uid = result["result"]["uid"]

    def call(self, model, method, *args, **kwargs):
        status, body = self.call_raw(model, method, list(args), kwargs)
        if status != 200 or "error" in body:
            raise RuntimeError(f"{model}.{method} failed: {json.dumps(body)[:500]}")
        return body["result"]

    def call_raw(self, model, method, args, kwargs):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": kwargs,
            },
        }
        status, _h, raw = request(
            self.base,
            "POST",
            f"/web/dataset/call_kw/{model}/{method}",
            json.dumps(payload),
            {"Content-Type": "application/json", "Cookie": self.session},
        )
        return status, json.loads(raw)


def configure(admin, prefix="bench", seed=10000, user_password="bench-user-pw"):
    """Users, partners, APIs and a client app for the workloads."""
    env_ids = {}
    groups = [
        admin.call("ir.model.data", "check_object_reference", "base", "group_user")[1],
        admin.call(
            "ir.model.data", "check_object_reference", "base", "group_partner_manager"
        )[1],
    ]
    login = f"{prefix}_user"
    user_fields = admin.call("res.users", "fields_get", [], attributes=["type"])
    groups_field = "group_ids" if "group_ids" in user_fields else "groups_id"
    users = admin.call("res.users", "search", [("login", "=", login)])
    if users:
        user_id = users[0]
    else:
        user_id = admin.call(
            "res.users",
            "create",
            {"name": "Bench user", "login": login, groups_field: [(6, 0, groups)]},
        )
    admin.call("res.users", "write", [user_id], {"password": user_password})
    env_ids["user_id"] = user_id
    have = admin.call(
        "res.partner", "search_count", [("name", "=like", f"{prefix} partner %")]
    )
    countries = admin.call("res.country", "search", [], limit=50)
    while have < seed:
        batch = min(1000, seed - have)
        admin.call(
            "res.partner",
            "create",
            [
                {
                    "name": f"{prefix} partner {have + i:05d}",
                    "email": f"p{have + i}@{prefix}.example.com",
                    "phone": f"+32 2 {have + i:06d}",
                    "country_id": countries[(have + i) % len(countries)],
                }
                for i in range(batch)
            ],
        )
        have += batch

    def field(model, name):
        domain = [("model", "=", model), ("name", "=", name)]
        return admin.call("ir.model.fields", "search", domain)[0]

    client_ids = admin.call(
        "secure.api.client", "search", [("name", "=", f"{prefix} client")]
    )
    if client_ids:
        client_id = client_ids[0]
    else:
        client_id = admin.call(
            "secure.api.client",
            "create",
            {
                "name": f"{prefix} client",
                "user_id": user_id,
                "token_lifetime": 3600,
                **{
                    f"scope_{s}": True
                    for s in ("search", "read", "create", "update", "delete", "rpc")
                },
            },
        )
    secret = admin.call("secure.api.client", "action_generate_secret", [client_id])
    env_ids["client"] = admin.call(
        "secure.api.client", "read", [client_id], ["client_id"]
    )[0]["client_id"]
    env_ids["secret"] = secret
    env_ids["client_db_id"] = client_id
    model_id = admin.call("ir.model", "search", [("model", "=", "res.partner")])[0]
    routes = (
        ("api", f"{prefix}/partners", False, True),
        ("rel_api", f"{prefix}/partners-rel", True, True),
        ("nostats_api", f"{prefix}/partners-nostats", False, False),
    )
    for key, route, related, statistics in routes:
        found = admin.call("secure.api", "search", [("route", "=", route)])
        lines = [
            (
                0,
                0,
                {
                    "field_id": field("res.partner", "name"),
                    "searchable": True,
                    "writable": True,
                },
            ),
            (
                0,
                0,
                {
                    "field_id": field("res.partner", "email"),
                    "searchable": True,
                    "writable": True,
                },
            ),
            (0, 0, {"field_id": field("res.partner", "phone"), "writable": True}),
        ]
        if related:
            lines.append(
                (
                    0,
                    0,
                    {
                        "field_id": field("res.partner", "country_id"),
                        "related_field_ids": [
                            (
                                6,
                                0,
                                [
                                    field("res.country", "name"),
                                    field("res.country", "code"),
                                ],
                            )
                        ],
                    },
                )
            )
        values = {
            "name": route,
            "route": route,
            "model_id": model_id,
            "auth_mode": "user",
            "obfuscate_ids": True,
            "statistics_enabled": statistics,
            "max_limit": 500,
            "default_order": "id",
            "client_ids": [(6, 0, [client_id])],
            **{
                f"allow_{op}": True
                for op in ("search", "read", "create", "update", "delete", "rpc")
            },
        }
        if found:
            replace_lines = {**values, "field_ids": [(5, 0, 0), *lines]}
            admin.call("secure.api", "write", found, replace_lines)
            api_id = found[0]
        else:
            api_id = admin.call("secure.api", "create", {**values, "field_ids": lines})
        admin.call("secure.api", "action_publish", [api_id])
        env_ids[key] = api_id
    env_ids["login"] = login
    env_ids["password"] = user_password
    return env_ids


@contextlib.contextmanager
def system_param(admin, key, value):
    """Set the system parameter ``key`` for the ``with`` block, then restore it.

    Parameters feed the settings caches, which Odoo clears (in every worker)
    when a parameter changes. An unset parameter is removed again afterwards.
    """
    previous = admin.call("ir.config_parameter", "get_param", key)
    admin.call("ir.config_parameter", "set_param", key, value)
    try:
        yield previous
    finally:
        admin.call("ir.config_parameter", "set_param", key, previous)


# The partners the benchmark seeds: writes touch these only (the bench user
# may not edit, say, users' partners).
SEEDED_DOMAIN = '[("name", "=like", "bench partner%")]'


def seeded_rest_ids(base, auth, limit, path="/api/bench/partners"):
    """The ids (as the API shows them) of the first ``limit`` seeded
    partners, in id order."""
    status, _headers, raw = request(
        base,
        "GET",
        f"{path}?limit={limit}&order=id&fields=name&domain={quote(SEEDED_DOMAIN)}",
        headers=auth,
    )
    if status != 200:
        raise RuntimeError(f"seeded search answered {status}: {raw[:300]!r}")
    return [record["id"] for record in json.loads(raw)["result"]["records"]]


def token(base, client, secret, kind="opaque"):
    if kind == "jwt":
        status, _h, raw = request(
            base,
            "POST",
            "/api/jwt/token",
            json.dumps({"client_id": client, "client_secret": secret}),
            {"Content-Type": "application/json"},
        )
    else:
        status, _h, raw = request(
            base,
            "POST",
            "/api/oauth2/token",
            urlencode({"client_id": client, "client_secret": secret}),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
    if status != 200:
        raise RuntimeError(f"token request failed: {status} {raw[:200]!r}")
    return json.loads(raw)["access_token"]


def basic(client, secret):
    return "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()


class Workload:
    """Run ``fn()`` from ``concurrency`` threads for ``duration`` seconds.

    ``fn`` returns the HTTP status. Bounded in time and in count.
    """

    def __init__(self, fn, concurrency, duration, max_requests=200000):
        self.fn, self.concurrency, self.duration, self.max_requests = (
            fn,
            concurrency,
            duration,
            max_requests,
        )
        self.latencies, self.statuses = [], {}
        self.lock = threading.Lock()

    def run(self):
        stop_at = time.perf_counter() + self.duration
        count = [0]

        def worker():
            while time.perf_counter() < stop_at:
                with self.lock:
                    if count[0] >= self.max_requests:
                        return
                    count[0] += 1
                start = time.perf_counter()
                try:
                    status = self.fn()
                except Exception as error:  # noqa: BLE001 - a failed request is a result
                    status = f"exc:{type(error).__name__}"
                elapsed = time.perf_counter() - start
                with self.lock:
                    self.latencies.append(elapsed)
                    self.statuses[status] = self.statuses.get(status, 0) + 1

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.perf_counter() - started
        return self

    @property
    def rps(self):
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q):
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return (
            ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000.0
        )


def rss_kib(pid):
    """The resident set size of a process in KiB (VmRSS), or ``None``."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def log(message):
    print(message, file=sys.stderr, flush=True)
