"""Fixtures of the replica suite: an Odoo (18.0 or later) whose read-only
requests run on a streaming replica, and the replica's replay, which the
tests pause to make it lag, then resume.

Plain HTTP and ``psql``, as in the live suite, whose helpers (the JSON-RPC
client, the token, the API setup: tests/live/_http.py) this suite imports
through its pytest.ini's ``pythonpath``; it never imports Odoo.
tools/test.sh creates the replica and starts the server with
``--db_replica_host``.

Environment:
    SECURE_API_REPLICA_URL       the server, e.g. http://127.0.0.1:8069 (required)
    SECURE_API_REPLICA_DB        its database
    SECURE_API_REPLICA_LOGIN     an administrator's login (default: admin)
    SECURE_API_REPLICA_PASSWORD  that administrator's password (default: admin)
    SECURE_API_REPLICA_PRIMARY   libpq conninfo of the database on the primary
    SECURE_API_REPLICA_STANDBY   libpq conninfo of the database on the replica,
                                 as a superuser (who may pause replay)
"""

import hashlib
import itertools
import os
import subprocess
import time

import pytest
import requests
from _http import (
    SCOPES,
    TIMEOUT,
    JsonRpc,
    execution_user_values,
    get_token,
    publish_api,
    request_token,
    server_settings,
)

PREFIX = "secure_api_replica"
# Requests repeated so that both workers of the server answer (each has its
# own caches): every one of them must give the expected answer.
REPEAT = 6
_COUNTER = itertools.count(1)


class Cluster:
    """The primary and its replica, through ``psql``."""

    def __init__(self, primary, standby):
        self.primary = primary
        self.standby = standby
        self.paused = False

    @staticmethod
    def _sql(conninfo, query):
        done = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-Atc", query, conninfo],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"psql failed on {conninfo!r}: {done.stderr.strip()}")
        return done.stdout.strip()

    def on_primary(self, query):
        return self._sql(self.primary, query)

    def on_replica(self, query):
        return self._sql(self.standby, query)

    def catch_up(self, timeout=60):
        """Wait until the replica replayed everything the primary wrote."""
        target = self.on_primary("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        query = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        while self.on_replica(query) != "t":
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the replica did not replay {target} in {timeout} s"
                )
            time.sleep(0.02)

    def pause(self):
        """Stop the replica's replay: from here on it lags."""
        self.catch_up()
        self.on_replica("SELECT pg_wal_replay_pause()")
        self.paused = True
        # Once requested, no further WAL record is replayed.
        assert self.on_replica("SELECT pg_get_wal_replay_pause_state()") != "not paused"

    def resume(self, catch_up=True):
        self.on_replica("SELECT pg_wal_replay_resume()")
        self.paused = False
        if catch_up:
            self.catch_up()


class Admin(JsonRpc):
    """The web client's JSON-RPC as an administrator.

    The web client's reads are read-only requests too: they run on the
    replica and see the administrator's writes once it replayed them, so
    every call first waits for that, unless replay is paused on purpose.
    """

    def __init__(self, cluster, *args):
        self.cluster = cluster
        super().__init__(*args)

    def call(self, model, method, *args, **kwargs):
        if not self.cluster.paused:
            self.cluster.catch_up()
        return super().call(model, method, *args, **kwargs)


@pytest.fixture(scope="session")
def server():
    return server_settings(
        "SECURE_API_REPLICA",
        "the replica suite needs an Odoo served with a paused-able read "
        "replica (tools/test.sh starts one)",
    )


@pytest.fixture(scope="session")
def cluster(server):
    primary = os.environ.get("SECURE_API_REPLICA_PRIMARY")
    standby = os.environ.get("SECURE_API_REPLICA_STANDBY")
    assert primary and standby, "SECURE_API_REPLICA_PRIMARY and _STANDBY are required"
    cluster = Cluster(primary, standby)
    assert cluster.on_replica("SELECT pg_is_in_recovery()") == "t"
    assert cluster.on_primary("SELECT pg_is_in_recovery()") == "f"
    yield cluster
    cluster.resume(catch_up=False)


@pytest.fixture(autouse=True)
def _replay_resumed(cluster):
    """Every test starts and ends with the replica caught up, even when it
    failed while replay was paused."""
    cluster.catch_up()
    yield
    cluster.resume()


@pytest.fixture(scope="session")
def admin(server, cluster):
    return Admin(
        cluster, server["url"], server["db"], server["login"], server["password"]
    )


def make_user(admin, label):
    """An internal user who may manage contacts: an execution user."""
    values = execution_user_values(admin, f"Replica test user {label}")
    return admin.call("res.users", "create", {**values, "login": f"{PREFIX}_{label}"})


@pytest.fixture(scope="session")
def execution_user(admin):
    return make_user(admin, f"runner_{os.getpid()}")


@pytest.fixture
def make_app(server, admin, execution_user):
    """``make_app(own_user=False)``: a client app of its own (all scopes, both
    token types) allowed on an API of its own on res.partner (name, phone,
    email as "mail"), so that a test may break them at will."""

    def make(own_user=False):
        number = f"{os.getpid()}_{next(_COUNTER)}"
        user_id = make_user(admin, f"user_{number}") if own_user else execution_user
        name = f"{PREFIX} {number}"
        app_id = admin.call(
            "secure.api.client",
            "create",
            {
                "name": name,
                "user_id": user_id,
                "token_lifetime": 3600,
                "allow_opaque": True,
                "allow_jwt": True,
                **{f"scope_{scope}": True for scope in SCOPES},
            },
        )
        shown = admin.call(
            "secure.api.client",
            "action_generate_secret",
            [app_id],
            context={"secure_api_show_secret": True},
        )["context"]

        def line(field, **flags):
            return (0, 0, {"field_id": admin.field_id("res.partner", field), **flags})

        route = f"replica/t{number}".replace("_", "-")
        api_id = publish_api(
            admin,
            route,
            name,
            [
                line("name", searchable=True, writable=True),
                line("phone", writable=True),
                line("email", alias="mail", writable=True),
            ],
            app_id,
            obfuscate=False,
        )
        lines = admin.call(
            "secure.api.field", "search_read", [("api_id", "=", api_id)], ["field_name"]
        )
        return App(
            server["url"],
            {
                "app_id": app_id,
                "user_id": user_id,
                "client_id": shown["default_client_id"],
                "secret": shown["default_client_secret"],
                "route": route,
                "api_id": api_id,
                "lines": {row["field_name"]: row["id"] for row in lines},
            },
        )

    return make


class App:
    """A client app and its API, as a client calls them."""

    def __init__(self, url, values):
        self.url = url
        self.__dict__.update(values)

    def token(self, kind="opaque"):
        if kind == "jwt":
            response = requests.post(
                f"{self.url}/api/jwt/token",
                json={"client_id": self.client_id, "client_secret": self.secret},
                timeout=TIMEOUT,
            )
            assert response.status_code == 200, response.text
            return response.json()["access_token"]
        return get_token(self.url, self.client_id, self.secret)

    def request_token(self):
        """The token endpoint's raw answer."""
        return request_token(self.url, self.client_id, self.secret)

    def call(self, method, path="", token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # A new connection per request: either worker may answer it.
        return requests.request(
            method,
            f"{self.url}/api/{self.route}{path}",
            headers=headers,
            timeout=TIMEOUT,
            **kwargs,
        )

    def statuses(self, method, path="", token=None, **kwargs):
        """The statuses of the same request made :data:`REPEAT` times."""
        return {
            self.call(method, path, token, **kwargs).status_code for _ in range(REPEAT)
        }


def token_hash(token):
    """The hash a token's row is found by (core.tokens.hash_token)."""
    return hashlib.sha256(token.encode()).hexdigest()
