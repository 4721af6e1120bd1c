import contextlib
import json
import threading
from json import dumps as json_dumps
from unittest.mock import patch
from urllib.parse import parse_qsl, urlsplit

from psycopg2 import errorcodes

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import HttpCase, TransactionCase
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

from ..compat import user_groups_field
from ..core import operations
from ..core.hashid import IdCodec
from ..core.request import Answer, ApiRequest


def internal_user(env, name, login, **values):
    """An internal user who may manage contacts: an execution user."""
    groups = env.ref("base.group_user") | env.ref("base.group_partner_manager")
    return (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": name,
                "login": login,
                user_groups_field(env): [Command.set(groups.ids)],
                **values,
            }
        )
    )


def serve_in_own_transaction(registry, request, tries=8):
    """Serve ``request`` in a transaction of its own, replayed on
    serialization failures as Odoo's request loop does."""
    for _attempt in range(tries):
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                return env["secure.api.engine"]._serve(request)
        except Exception as error:  # noqa: BLE001 - only concurrency is retried
            if getattr(error, "pgcode", None) not in RETRIED:
                raise
    raise AssertionError("still conflicting after retries")


RETRIED = (errorcodes.SERIALIZATION_FAILURE, errorcodes.DEADLOCK_DETECTED)


def run_threads(registry, count, function):
    """Run ``function(index)`` in ``count`` threads started together.

    The test runner holds the registry lock while tests run; the threads only
    look the (already loaded) registry up, which needs no lock.
    """
    results = [None] * count
    errors = []
    barrier = threading.Barrier(count)

    def work(index):
        try:
            barrier.wait(30)
            results[index] = function(index)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    with patch.object(type(registry), "_lock", contextlib.nullcontext()):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    if errors:
        raise errors[0]
    return results


class SecureApiFixtures:
    """Users, an API on res.partner (plain and obfuscated) and client apps."""

    @classmethod
    def setup_fixtures(cls):
        env = cls.env
        GROUPS = user_groups_field(env)  # noqa: N806
        cls.api_user = internal_user(
            env, "API Runner", "secure_api_runner", password="secure_api_runner_pw"
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

    def manager(self):
        """An internal user with Secure API Manager, not an administrator."""
        groups = self.env.ref("base.group_user") | self.env.ref(
            "secure_api.group_secure_api_manager"
        )
        user = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "API Manager",
                    "login": "secure_api_manager_only",
                    user_groups_field(self.env): [Command.set(groups.ids)],
                }
            )
        )
        self.assertFalse(user.has_group("base.group_system"))
        return user

    def partner_count(self):
        """Every contact, archived ones too, as the database holds them."""
        self.env.invalidate_all()
        return self.env["res.partner"].with_context(active_test=False).search_count([])

    def ids(self, api, record):
        """The client-facing id of ``record`` in ``api``."""
        if not api.obfuscate_ids:
            return record.id
        return IdCodec(
            True, api.hashid_salt, record._name, api.hashid_min_length
        ).encode(record.id)

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
                        "encoded_keys": "*",
                    }
                ),
                Command.create(
                    {
                        "name": "find_or_create",
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
        scope_names = operations.SCOPES
        wanted = scope_names if scopes == "all" else scopes.split()
        vals = {"name": name, "user_id": user.id}
        vals.update({f"scope_{scope}": scope in wanted for scope in scope_names})
        vals.update(values)
        client = cls.env["secure.api.client"].create(vals)
        secret = client.action_generate_secret()
        return client, secret


class PipelineCalls:
    """Call the request pipeline in process, as the controller does.

    ``self.call("GET", "/api/x?limit=5", token=..., json=...)`` builds the
    same request value as a real HTTP request and returns the pipeline's
    answer, without a server: for every behaviour that does not depend on
    HTTP itself (cookies, streaming, concurrency).

    ``self.result(...)`` and ``self.error(...)`` check an answer against the
    contract, whether it is the pipeline's Answer or an HTTP response.
    """

    def call(
        self,
        method,
        path,
        *,
        token=None,
        json=None,  # noqa: A002 - reads like the requests library
        data=None,
        raw=None,
        headers=None,
        session_uid=None,
        **values,
    ):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body, form = b"", None
        if json is not None:
            body = json_dumps(json).encode()
            headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            form = list(data.items()) if isinstance(data, dict) else list(data)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif raw is not None:
            body = raw if isinstance(raw, bytes) else raw.encode()
        parts = urlsplit(path)
        assert parts.path.startswith("/api/"), path
        request = ApiRequest.build(
            method,
            parts.path[len("/api/") :],
            headers=headers,
            query=parse_qsl(parts.query, keep_blank_values=True),
            form=form,
            body=body,
            session_uid=session_uid,
            host="localhost",
            remote_addr=values.pop("remote_addr", "127.0.0.1"),
            **values,
        )
        return self.env["secure.api.engine"].sudo()._serve(request)

    # One vocabulary for what the API answered, in process or over HTTP:
    # each check takes the pipeline's Answer (``self.call``) or a requests
    # Response (``self.request``) and checks the same contract on both.

    @staticmethod
    def answered(answer):
        """``(status, headers, text)`` of an Answer or a requests Response."""
        if isinstance(answer, Answer):
            text = answer.html or ""
            if answer.body is not None:
                text = json_dumps(answer.body, default=str)
            return answer.status, answer.headers, text
        return answer.status_code, answer.headers, answer.text

    @staticmethod
    def body_of(answer):
        """The decoded JSON body of an Answer or a requests Response."""
        if isinstance(answer, Answer):
            return answer.body
        return answer.json()

    def result(self, answer, status=200):
        """The ``result`` of a successful answer: its status, its
        ``X-Request-Id``, the JSON-RPC envelope."""
        got, headers, text = self.answered(answer)
        self.assertEqual(got, status, text[:2000])
        self.assertIn("X-Request-Id", headers)
        body = self.body_of(answer)
        self.assertEqual(body["jsonrpc"], "2.0")
        return body["result"]

    def error(self, answer, status, name=None):
        """The ``error`` of a failed answer, checked against the contract:
        status and ``code``, ``data.name`` when given, ``X-Request-Id``, the
        envelope without ``result``, no traceback."""
        got, headers, text = self.answered(answer)
        self.assertEqual(got, status, text[:2000])
        self.assertIn("X-Request-Id", headers)
        self.assertNotIn("Traceback", text)
        body = self.body_of(answer)
        self.assertEqual(body["jsonrpc"], "2.0")
        self.assertNotIn("result", body)
        self.assertEqual(body["error"]["code"], status)
        if name:
            self.assertEqual(body["error"]["data"]["name"], name, body)
        return body["error"]

    # Deprecated names of result() and error(), kept for tests written
    # before the one vocabulary (other branches still call them).

    def answer_result(self, answer, status=200):
        """Deprecated: use :meth:`result`."""
        return self.result(answer, status)

    def answer_error(self, answer, status, name=None):
        """Deprecated: use :meth:`error`."""
        return self.error(answer, status, name)

    def assertError(self, response, status, name=None):  # noqa: N802
        """Deprecated: use :meth:`error`."""
        return self.error(response, status, name)

    def issue(self, client=None, kind="opaque", scope=None):
        """A real token for ``client``, minted as the token endpoint does."""
        client = client or self.client
        state = client.sudo()._state_dict()
        return (
            self.env["secure.api.token"]
            .sudo()
            ._issue(state, kind, scope or client.scope)["access_token"]
        )


class SecureApiTransactionCase(SecureApiFixtures, PipelineCalls, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_fixtures()


class SecureApiHttpCase(SecureApiFixtures, PipelineCalls, HttpCase):
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
