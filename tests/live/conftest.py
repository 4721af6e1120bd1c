"""Fixtures of the live suite: a running Odoo with secure_api installed.

Everything is plain HTTP: the suite configures an API and a client app through
the web client's JSON-RPC as an administrator, as a script would, then acts as
an external client would. It never imports Odoo.

Environment:
    SECURE_API_LIVE_URL       the server, e.g. http://127.0.0.1:8069 (required)
    SECURE_API_LIVE_DB        its database (required unless it serves one only)
    SECURE_API_LIVE_LOGIN     an administrator's login (default: admin)
    SECURE_API_LIVE_PASSWORD  that administrator's password (default: admin)
    SECURE_API_LIVE_ODOO      the odoo-bin command with its database options, as
                              a JSON list, for the tests that start servers of
                              their own (``start_odoo``)
"""

import json
import os
import socket
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
    server_settings,
)

PREFIX = "secure_api_live"
# The API every test uses: plain integer ids, one field of each kind.
PARTNERS = "live/partners"
# A second API with obfuscated (Hashids) ids, so that ids are strings there.
CONTACTS = "live/contacts"


def _execution_user(admin):
    """An internal user who may manage contacts: never an administrator."""
    login = f"{PREFIX}_user"
    found = admin.call(
        "res.users", "search", [("login", "=", login)], context={"active_test": False}
    )
    values = {**execution_user_values(admin, "Live test user"), "active": True}
    if found:
        admin.call("res.users", "write", found, values)
        return found[0]
    return admin.call("res.users", "create", {**values, "login": login})


def _client_app(admin, user_id):
    """The client app, all scopes; returns (record id, client_id, secret)."""
    name = f"{PREFIX} client"
    values = {
        "name": name,
        "user_id": user_id,
        "token_lifetime": 3600,
        "allow_opaque": True,
        "allow_jwt": True,
        "active": True,
        **{f"scope_{scope}": True for scope in SCOPES},
    }
    found = admin.call(
        "secure.api.client",
        "search",
        [("name", "=", name)],
        context={"active_test": False},
    )
    if found:
        admin.call("secure.api.client", "write", found, values)
        app_id = found[0]
    else:
        app_id = admin.call("secure.api.client", "create", values)
    # The form's "Generate Secret" button: the secret comes back once, in the
    # dialog that shows it, and only its hash is stored.
    action = admin.call(
        "secure.api.client",
        "action_generate_secret",
        [app_id],
        context={"secure_api_show_secret": True},
    )
    assert action["res_model"] == "secure.api.client.secret.show", action
    shown = action["context"]
    client_id = admin.call("secure.api.client", "read", [app_id], ["client_id"])[0][
        "client_id"
    ]
    assert shown["default_client_id"] == client_id
    secret = shown["default_client_secret"]
    assert secret, "the dialog shows no secret"
    return app_id, client_id, secret


def configure(admin):
    """The user, client app and APIs the suite calls, ready for requests."""
    user_id = _execution_user(admin)
    app_id, client_id, secret = _client_app(admin, user_id)

    def line(model, field, **flags):
        return (0, 0, {"field_id": admin.field_id(model, field), **flags})

    partner_lines = [
        line("res.partner", "name", searchable=True, writable=True),
        line(
            "res.partner",
            "email",
            alias="mail",
            searchable=True,
            writable=True,
            upsert_key=True,
        ),
        line("res.partner", "is_company", searchable=True, writable=True),
        line(
            "res.partner",
            "country_id",
            searchable=True,
            writable=True,
            related_field_ids=[
                (
                    6,
                    0,
                    [
                        admin.field_id("res.country", "name"),
                        admin.field_id("res.country", "code"),
                    ],
                )
            ],
        ),
        line("res.partner", "partner_latitude", alias="latitude", writable=True),
        line("res.partner", "color", writable=True),
    ]
    contact_lines = [
        line("res.partner", "name", searchable=True, writable=True),
        line("res.partner", "phone", writable=True),
    ]
    partners = publish_api(
        admin, PARTNERS, "Live partners", partner_lines, app_id, obfuscate=False
    )
    contacts = publish_api(
        admin, CONTACTS, "Live contacts", contact_lines, app_id, obfuscate=True
    )
    belgium = admin.call("res.country", "search", [("code", "=", "BE")])[0]
    return {
        "app_id": app_id,
        "client_id": client_id,
        "client_secret": secret,
        "partners_api": partners,
        "contacts_api": contacts,
        "belgium": belgium,
    }


@pytest.fixture(scope="session")
def server():
    return server_settings(
        "SECURE_API_LIVE",
        "the live suite needs a running Odoo with secure_api installed "
        "(tools/test.sh starts one)",
    )


@pytest.fixture(scope="session")
def admin(server):
    return JsonRpc(server["url"], server["db"], server["login"], server["password"])


@pytest.fixture(scope="session")
def live(admin):
    installed = admin.call(
        "ir.module.module",
        "search_count",
        [("name", "=", "secure_api"), ("state", "=", "installed")],
    )
    assert installed, "secure_api is not installed in this database"
    return configure(admin)


@pytest.fixture(scope="session")
def token(server, live):
    return get_token(server["url"], live["client_id"], live["client_secret"])


@pytest.fixture(scope="session")
def openapi_document(server, token):
    response = requests.get(
        f"{server['url']}/api/openapi.json",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text[:1000]
    return response.json()


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


def _stop(processes):
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def start_odoo(server, tmp_path_factory):
    """``start_odoo(*options)``: one more Odoo server on the live database,
    with two workers, on a free loopback port; returns its URL and process
    once it serves (its log file is ``process.log_path``). A test may stop
    it itself; those still running are stopped at the end of the module.

    The command comes from ``SECURE_API_LIVE_ODOO`` (tools/test.sh sets it).
    """
    command = json.loads(os.environ.get("SECURE_API_LIVE_ODOO") or "[]")
    if not command:
        pytest.skip(
            "!!! SECURE_API_LIVE_ODOO is not set: the tests that start Odoo "
            "servers of their own need the odoo-bin command (tools/test.sh sets it) !!!"
        )
    logs = tmp_path_factory.mktemp("odoo_servers")
    started = []

    def start(*options):
        port = _free_port()
        log_path = logs / f"odoo-{len(started)}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [
                    *command,
                    *options,
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
        process.log_path = log_path
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_until_served(url, process)
        return url, process

    try:
        yield start
    finally:
        _stop(started)
