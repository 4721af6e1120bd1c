import contextlib
import json

from odoo import Command
from odoo.tests import HttpCase, TransactionCase
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

from ..compat import user_groups_field


class SecureApiFixtures:
    """Users, an API on res.partner (plain and obfuscated) and client apps."""

    @classmethod
    def setup_fixtures(cls):
        env = cls.env
        GROUPS = user_groups_field(env)  # noqa: N806
        cls.api_user = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "API Runner",
                    "login": "secure_api_runner",
                    "password": "secure_api_runner_pw",
                    GROUPS: [
                        Command.set(
                            [
                                env.ref("base.group_user").id,
                                env.ref("base.group_partner_manager").id,
                            ]
                        )
                    ],
                }
            )
        )
        cls.reader_user = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "API Reader",
                    "login": "secure_api_reader",
                    GROUPS: [Command.set([env.ref("base.group_user").id])],
                }
            )
        )
        cls.belgium = env.ref("base.be")
        cls.france = env.ref("base.fr")
        cls.tag = env["res.partner.category"].create({"name": "VIP"})
        cls.partner = env["res.partner"].create(
            {
                "name": "Azure Interior API Test",
                "email": "azure@example.com",
                "country_id": cls.belgium.id,
            }
        )
        cls.hidden = env["res.partner"].create(
            {"name": "Hidden Partner", "ref": "HIDDEN"}
        )
        cls.api_plain = cls.make_api("test/plain", obfuscate=False)
        cls.api_obf = cls.make_api("test/obf", obfuscate=True)
        cls.client, cls.secret = cls.make_client(
            "Full client", cls.api_user, scopes="all"
        )
        cls.reader_client, cls.reader_secret = cls.make_client(
            "Reader client", cls.api_user, scopes="read search"
        )
        (cls.api_plain | cls.api_obf).client_ids = [
            Command.set([cls.client.id, cls.reader_client.id])
        ]

    @classmethod
    def field(cls, model, name):
        return cls.env["ir.model.fields"]._get(model, name)

    @classmethod
    def make_api(cls, route, obfuscate, **values):
        field = cls.field
        vals = {
            "name": f"API {route}",
            "route": route,
            "model_id": cls.env["ir.model"]._get_id("res.partner"),
            "auth_mode": "user",
            "obfuscate_ids": obfuscate,
            "domain": "[('ref', '!=', 'HIDDEN')]",
            "allow_search": True,
            "allow_read": True,
            "allow_create": True,
            "allow_update": True,
            "allow_delete": True,
            "allow_rpc": True,
            "default_limit": 80,
            "max_limit": 200,
            "field_ids": [
                Command.create(
                    {
                        "field_id": field("res.partner", "name").id,
                        "searchable": True,
                        "writable": True,
                    }
                ),
                Command.create(
                    {
                        "field_id": field("res.partner", "email").id,
                        "alias": "mail",
                        "searchable": True,
                        "writable": True,
                    }
                ),
                Command.create(
                    {"field_id": field("res.partner", "phone").id, "writable": True}
                ),
                Command.create(
                    {
                        "field_id": field("res.partner", "is_company").id,
                        "searchable": True,
                        "writable": True,
                    }
                ),
                Command.create(
                    {
                        "field_id": field("res.partner", "country_id").id,
                        "searchable": True,
                        "writable": True,
                        "related_field_ids": [
                            Command.set(
                                [
                                    field("res.country", "name").id,
                                    field("res.country", "code").id,
                                ]
                            )
                        ],
                    }
                ),
                Command.create(
                    {
                        "field_id": field("res.partner", "category_id").id,
                        "alias": "tags",
                        "writable": True,
                    }
                ),
                Command.create({"field_id": field("res.partner", "image_128").id}),
                Command.create({"field_id": field("res.partner", "ref").id}),
            ],
            "method_ids": [
                Command.create(
                    {
                        "name": "address_get",
                        "on_records": True,
                        "response_encoding": "manual",
                        "encoded_keys": "contact,invoice,delivery,other",
                    }
                ),
                Command.create(
                    {
                        "name": "name_create",
                        "on_records": False,
                        "response_encoding": "model",
                    }
                ),
            ],
        }
        vals.update(values)
        api = cls.env["secure.api"].create(vals)
        api.action_publish()
        return api

    @classmethod
    def make_client(cls, name, user, scopes="all", **values):
        scope_names = ("search", "read", "create", "update", "delete", "rpc")
        wanted = scope_names if scopes == "all" else scopes.split()
        vals = {"name": name, "user_id": user.id}
        vals.update({f"scope_{scope}": scope in wanted for scope in scope_names})
        vals.update(values)
        client = cls.env["secure.api.client"].create(vals)
        secret = client.action_generate_secret()
        return client, secret


class SecureApiTransactionCase(SecureApiFixtures, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_fixtures()


class SecureApiHttpCase(SecureApiFixtures, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_fixtures()

    def request(
        self,
        method,
        path,
        *,
        token=None,
        json_body=None,
        data=None,
        headers=None,
        raw=None,
    ):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs = {"headers": headers, "timeout": 30, "allow_redirects": False}
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body)
            headers.setdefault("Content-Type", "application/json")
        elif raw is not None:
            kwargs["data"] = raw
        elif data is not None:
            kwargs["data"] = data
        return self.opener.request(method, self.base_url() + path, **kwargs)

    @contextlib.contextmanager
    def raw_requests(self):
        """Let other threads call the test server; yields their cookies.

        19.0 admits test requests only inside ``allow_requests()``, with a
        fresh cookie; 18.0 only needs the cookie set up for the opener.
        """
        allow = getattr(self, "allow_requests", None)
        with allow() if allow else contextlib.nullcontext():
            yield {
                TEST_CURSOR_COOKIE_NAME: self.opener.cookies.get(
                    TEST_CURSOR_COOKIE_NAME
                )
            }

    def token(self, client=None, secret=None, kind="oauth2", scope=None):
        client = client or self.client
        data = {"client_id": client.client_id, "client_secret": secret or self.secret}
        if scope:
            data["scope"] = scope
        if kind == "jwt":
            response = self.request("POST", "/api/jwt/token", json_body=data)
        else:
            response = self.request("POST", "/api/oauth2/token", data=data)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()["access_token"]

    def assertError(self, response, status, name=None):
        self.assertEqual(response.status_code, status, response.text)
        body = response.json()
        self.assertEqual(body["jsonrpc"], "2.0")
        self.assertNotIn("result", body)
        self.assertEqual(body["error"]["code"], status)
        if name:
            self.assertEqual(body["error"]["data"]["name"], name, body)
        self.assertIn("X-Request-Id", response.headers)
        self.assertNotIn("Traceback", response.text)
        return body["error"]

    def result(self, response, status=200):
        self.assertEqual(response.status_code, status, response.text)
        self.assertIn("X-Request-Id", response.headers)
        return response.json()["result"]
