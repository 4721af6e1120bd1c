"""Fixtures of the live suite: a running Odoo with secure_api installed.

Everything is plain HTTP: the suite configures an API and a client app through
the web client's JSON-RPC as an administrator, as a script would, then acts as
an external client would. It never imports Odoo.

Environment:
    SECURE_API_LIVE_URL       the server, e.g. http://127.0.0.1:8069 (required)
    SECURE_API_LIVE_DB        its database (required unless it serves one only)
    SECURE_API_LIVE_LOGIN     an administrator's login (default: admin)
    SECURE_API_LIVE_PASSWORD  that administrator's password (default: admin)
"""

import os

import pytest
import requests

TIMEOUT = 60
PREFIX = "secure_api_live"
# The API every test uses: plain integer ids, one field of each kind.
PARTNERS = "live/partners"
# A second API with obfuscated (Hashids) ids, so that ids are strings there.
CONTACTS = "live/contacts"
SCOPES = ("search", "read", "create", "update", "delete", "rpc")
OPERATIONS = ("search", "read", "create", "update", "delete", "aggregate")


class JsonRpc:
    """The web client's JSON-RPC, with a session cookie."""

    def __init__(self, base, db, login, password):
        self.base = base
        self.http = requests.Session()
        params = {"db": db, "login": login, "password": password}
        response = self.http.post(
            f"{base}/web/session/authenticate",
            json={"jsonrpc": "2.0", "method": "call", "params": params},
            timeout=TIMEOUT,
        )
        body = response.json()
        if response.status_code != 200 or "error" in body or not body.get("result"):
            raise RuntimeError(f"login failed for {login}: {response.text[:500]}")
        self.uid = body["result"]["uid"]

    def call(self, model, method, *args, **kwargs):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": kwargs,
            },
        }
        response = self.http.post(
            f"{self.base}/web/dataset/call_kw/{model}/{method}",
            json=payload,
            timeout=TIMEOUT,
        )
        body = response.json()
        if response.status_code != 200 or "error" in body:
            raise RuntimeError(f"{model}.{method} failed: {response.text[:1000]}")
        return body["result"]

    def xmlid(self, module, name):
        return self.call("ir.model.data", "check_object_reference", module, name)[1]

    def field_id(self, model, name):
        domain = [("model", "=", model), ("name", "=", name)]
        found = self.call("ir.model.fields", "search", domain)
        assert found, f"{model}.{name} does not exist on this Odoo series"
        return found[0]


def _execution_user(admin):
    """An internal user who may manage contacts: never an administrator."""
    login = f"{PREFIX}_user"
    groups = [
        admin.xmlid("base", "group_user"),
        admin.xmlid("base", "group_partner_manager"),
    ]
    user_fields = admin.call("res.users", "fields_get", [], attributes=["type"])
    groups_field = "group_ids" if "group_ids" in user_fields else "groups_id"
    found = admin.call(
        "res.users", "search", [("login", "=", login)], context={"active_test": False}
    )
    values = {"name": "Live test user", "active": True, groups_field: [(6, 0, groups)]}
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


def _publish_api(admin, route, name, lines, app_id, obfuscate):
    """Create or reconfigure one API on res.partner, all CRUD operations."""
    model_id = admin.call("ir.model", "search", [("model", "=", "res.partner")])[0]
    values = {
        "name": name,
        "route": route,
        "model_id": model_id,
        "auth_mode": "user",
        "obfuscate_ids": obfuscate,
        "default_order": "id",
        "client_ids": [(6, 0, [app_id])],
        "test_mode": False,
        **{f"allow_{op}": True for op in OPERATIONS},
        "allow_rpc": False,
    }
    found = admin.call(
        "secure.api", "search", [("route", "=", route)], context={"active_test": False}
    )
    if found:
        admin.call("secure.api", "action_reset_to_draft", found)
        admin.call(
            "secure.api",
            "write",
            found,
            {**values, "active": True, "field_ids": [(5, 0, 0), *lines]},
        )
        api_id = found[0]
    else:
        api_id = admin.call("secure.api", "create", {**values, "field_ids": lines})
    admin.call("secure.api", "action_publish", [api_id])
    return api_id


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
    partners = _publish_api(
        admin, PARTNERS, "Live partners", partner_lines, app_id, obfuscate=False
    )
    contacts = _publish_api(
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
    url = os.environ.get("SECURE_API_LIVE_URL", "").rstrip("/")
    if not url:
        pytest.skip(
            "!!! SECURE_API_LIVE_URL is not set: the live suite needs a running "
            "Odoo with secure_api installed (tools/test.sh starts one) !!!"
        )
    return {
        "url": url,
        "db": os.environ.get("SECURE_API_LIVE_DB", ""),
        "login": os.environ.get("SECURE_API_LIVE_LOGIN", "admin"),
        "password": os.environ.get("SECURE_API_LIVE_PASSWORD", "admin"),
    }


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


def get_token(base, client_id, secret):
    response = requests.post(
        f"{base}/api/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    return body["access_token"]


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
