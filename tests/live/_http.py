"""Plain-HTTP helpers shared by the live suite (tests/live) and the replica
suite (tests/replica, which finds this folder through its pytest.ini's
``pythonpath``): the server's settings from the environment, the web
client's JSON-RPC as an administrator, a token, and the setup of an API.

Never imports Odoo. Not a conftest: each suite keeps its own fixtures.
"""

import os

import pytest
import requests

TIMEOUT = 60
SCOPES = ("search", "read", "create", "update", "delete", "rpc")
OPERATIONS = ("search", "read", "create", "update", "delete", "aggregate")


def server_settings(prefix, missing):
    """The server named by ``<prefix>_URL``, ``_DB``, ``_LOGIN`` and
    ``_PASSWORD``; skips, saying ``missing``, without a URL."""
    url = os.environ.get(f"{prefix}_URL", "").rstrip("/")
    if not url:
        pytest.skip(f"!!! {prefix}_URL is not set: {missing} !!!")
    return {
        "url": url,
        "db": os.environ.get(f"{prefix}_DB", ""),
        "login": os.environ.get(f"{prefix}_LOGIN", "admin"),
        "password": os.environ.get(f"{prefix}_PASSWORD", "admin"),
    }


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


def execution_user_values(admin, name):
    """The values of an internal user who may manage contacts (an execution
    user, never an administrator), under the groups field of the series."""
    groups = [
        admin.xmlid("base", "group_user"),
        admin.xmlid("base", "group_partner_manager"),
    ]
    user_fields = admin.call("res.users", "fields_get", [], attributes=["type"])
    groups_field = "group_ids" if "group_ids" in user_fields else "groups_id"
    return {"name": name, groups_field: [(6, 0, groups)]}


def request_token(base, client_id, secret):
    """The token endpoint's raw answer to the client credentials grant."""
    return requests.post(
        f"{base}/api/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
        },
        timeout=TIMEOUT,
    )


def get_token(base, client_id, secret):
    response = request_token(base, client_id, secret)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    return body["access_token"]


def publish_api(admin, route, name, lines, app_id, obfuscate):
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
