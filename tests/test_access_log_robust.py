"""The access log against hostile input: whatever a client sends, its row
is written, a row the database refuses blocks no other, and no row holds a
secret (contract: "Access log and audit")."""

import json
from contextlib import closing
from urllib.parse import quote

from psycopg2.errors import LockNotAvailable

from odoo import Command
from odoo.tests import tagged

from ..core.exceptions import Conflict, render_error
from ..core.request import Answer
from ..models.secure_api_log import buffer_for
from .common import SecureApiHttpCase, SecureApiTransactionCase
from .test_access_log import AccessLogMixin


@tagged("post_install", "-at_install")
class TestAccessLogStorage(AccessLogMixin, SecureApiTransactionCase):
    """Rows hold only what PostgreSQL stores; a flush is never poisoned."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_plain.log_level = "all"

    def setUp(self):
        super().setUp()
        self.token = self.issue()
        self.base = f"/api/{self.api_plain.route}"

    def test_a_row_the_database_refuses_is_dropped_and_the_others_written(self):
        model = self.env["secure.api.log"]
        buffer = buffer_for(self.env.cr.dbname)
        # Rows made outside the pipeline's sanitising: a NUL, and a status
        # that is no number; each alone fails a whole batch.
        buffer.add(self.row(request_id="first"))
        buffer.add(self.row(request_id="nul", path="/api/\x00secret-path"))
        buffer.add(self.row(request_id="second"))
        buffer.add(self.row(request_id="nan", status="not a number"))
        buffer.add(self.row(request_id="third"))
        with self.assertLogs("odoo.addons.secure_api", "WARNING") as logged:
            self.assertEqual(model._flush_buffer(), 3)
        self.assertEqual(len(buffer), 0, "the refused rows are not retried")
        self.assertEqual(
            model.search([], order="id").mapped("request_id"),
            ["first", "second", "third"],
        )
        (line,) = logged.output
        self.assertIn("2 access-log rows", line)
        self.assertNotIn("secret-path", line)
        self.assertNotIn("Traceback", line)

    def test_a_flush_after_a_refused_row_writes_the_next_rows(self):
        model = self.env["secure.api.log"]
        buffer = buffer_for(self.env.cr.dbname)
        buffer.add(self.row(request_id="bad", method="\x00"))
        with self.assertLogs("odoo.addons.secure_api", "WARNING"):
            self.assertEqual(model._flush_buffer(), 0)
        buffer.add(self.row(request_id="later"))
        self.assertEqual(model._flush_buffer(), 1)
        self.assertEqual(model.search([]).mapped("request_id"), ["later"])

    def test_a_json_body_with_a_lone_surrogate_is_logged(self):
        self.api_plain.log_bodies = True
        answer = self.call(
            "POST",
            self.base,
            token=self.token,
            raw='{"name": "\\ud800"}',
            headers={"Content-Type": "application/json"},
        )
        self.assertLess(answer.status, 500)
        (row,) = self.logs()
        self.assertEqual(row.request_body, '{"name":"\ufffd"}')

    def test_a_deeply_nested_body_leaves_its_row(self):
        self.api_plain.log_bodies = True
        deep = "[" * 700 + "]" * 700
        self.call(
            "GET",
            self.base,
            token=self.token,
            raw=deep,
            headers={"Content-Type": "application/json"},
        )
        self.call(
            "GET",
            self.base,
            token="guessed-token",
            raw=deep,
            headers={"Content-Type": "application/json"},
        )
        rows = self.logs()
        self.assertEqual(len(rows), 2)
        self.assertIn(401, rows.mapped("status"))
        self.assertEqual(
            set(rows.mapped("request_body")),
            {"<unparsed body: 1400 bytes, application/json>"},
        )

    def test_a_query_the_log_cannot_read_back_still_leaves_its_row(self):
        """A domain that parses but cannot be written back made the path
        raise: a read, a write or a delete then left no row at all."""
        huge = "0x" + "f" * 4000
        for domain in ("[('name','=',{(1,):(1,)})]", f"[('name','in',({huge},))]"):
            answer = self.call(
                "GET",
                f"{self.base}/{self.partner.id}?domain={quote(domain)}",
                token=self.token,
            )
            self.assertEqual(answer.status, 200)
        rows = self.logs()
        self.assertEqual(rows.mapped("status"), [200, 200])
        self.assertEqual(
            set(rows.mapped("path")),
            {f"{self.base}/{self.partner.id}?domain=***"},
        )


@tagged("post_install", "-at_install")
class TestAccessLogStorageHttp(AccessLogMixin, SecureApiHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_plain.log_level = "errors"

    def test_a_body_over_the_limit_on_an_api_route_is_logged(self):
        """Refused before anything else, under its API's level as a 401 is:
        probing the size limit leaves a trace."""
        self.env["ir.config_parameter"].sudo().set_param("secure_api.max_body_kb", "1")
        base = f"/api/{self.api_plain.route}"
        response = self.request("POST", base, data={"name": "x" * 2048})
        self.assertError(response, 413)
        (row,) = self.logs()
        self.assertEqual((row.status, row.api_id), (413, self.api_plain))

    def test_a_nul_in_the_path_is_logged_and_blocks_no_later_row(self):
        base = f"/api/{self.api_plain.route}"
        self.assertError(self.request("GET", f"{base}/%00"), 401)
        self.assertError(self.request("GET", f"{base}/999999999"), 401)
        first, second = self.logs()
        self.assertEqual(first.path, f"{base}/\ufffd")
        self.assertEqual(second.path, f"{base}/999999999")
        self.assertEqual(len(buffer_for(self.env.cr.dbname)), 0)

    def test_a_utf16_body_is_logged(self):
        self.api_plain.log_bodies = True
        body = json.dumps({"name": "x"}).encode("utf-16")
        response = self.request(
            "POST",
            f"/api/{self.api_plain.route}",
            raw=body,
            headers={"Content-Type": "application/json"},
        )
        self.assertError(response, 401)
        (row,) = self.logs()
        self.assertNotIn("\x00", row.request_body)


@tagged("post_install", "-at_install")
class TestAccessLogSecretsHttp(AccessLogMixin, SecureApiHttpCase):
    """What an attacker sent with secrets in unusual places, over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_plain.write({"log_level": "all", "log_bodies": True})

    def setUp(self):
        super().setUp()
        self.bearer = self.token()
        self.base = f"/api/{self.api_plain.route}"

    def assertNoSecret(self, secret):  # noqa: N802
        for row in self.logs():
            text = json.dumps(row.read()[0], default=str)
            self.assertNotIn(secret, text)
            self.assertNotIn(self.bearer, text)

    def post(self, body, content_type):
        return self.request(
            "POST",
            self.base,
            token=self.bearer,
            raw=body,
            headers={"Content-Type": content_type},
        )

    def test_form_keys_are_decoded_before_masking(self):
        form = "application/x-www-form-urlencoded"
        for body in ("name=x&client%5Fsecret=FSEC", "name=x&pass%77ord=FSEC"):
            self.post(body, form)
        self.assertNoSecret("FSEC")
        self.assertCountEqual(
            self.logs().mapped("request_body"),
            ["name=x&client_secret=***", "name=x&password=***"],
        )

    def test_a_body_that_does_not_parse_is_not_kept(self):
        for body in (
            '{"name":"x","password":"ISEC",}',
            "{'name':'x','password':'ISEC'}",
            '{"name":"x","pass\\u0077ord":"ISEC",}',
        ):
            self.post(body, "application/json")
        self.post("a" * 100 + "&password=ISEC", "text/plain")
        self.assertNoSecret("ISEC")
        self.assertIn(
            "<unparsed body: 114 bytes, text/plain>",
            self.logs().mapped("request_body"),
        )

    def test_only_harmless_headers_keep_their_values(self):
        headers = {
            "X-Auth": "HSEC1",
            "X-Api-Key": "HSEC2",
            "Referer": "https://x.example/?access_token=HSEC3",
            "Proxy-Authorization": "Basic HSEC4",
            # (No Cookie: the test server needs its own; see the core tests.)
            "X-Session": "HSEC5",
            "X-Request-Id": "kept-request-id",
        }
        self.request("GET", f"{self.base}?limit=1", token=self.bearer, headers=headers)
        self.assertNoSecret("HSEC")
        (row,) = self.logs()
        self.assertIn("x-auth: ***", row.request_headers)
        self.assertIn("referer: https://x.example/?***", row.request_headers)
        self.assertIn("x-request-id: kept-request-id", row.request_headers)

    def test_query_values_other_than_the_apis_parameters_are_masked(self):
        for query in ("limit=1&access%5Ftoken=QSEC", "limit=1&QSEC", "x-key=QSEC"):
            self.request("GET", f"{self.base}?{query}", token=self.bearer)
        self.assertNoSecret("QSEC")
        # The flush's join may number the rows of one batch in any order.
        self.assertCountEqual(
            self.logs().mapped("path"),
            [
                f"{self.base}?limit=1&access_token=***",
                f"{self.base}?limit=1&***",
                f"{self.base}?x-key=***",
            ],
        )


@tagged("post_install", "-at_install")
class TestAccessLogSecretFields(AccessLogMixin, SecureApiTransactionCase):
    """Secrets a client sends under names that do not look secret."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_plain.write({"log_level": "all", "log_bodies": True})
        cls.api_users = cls.env["secure.api"].create(
            {
                "name": "Users",
                "route": "test/users",
                "model_id": cls.env["ir.model"]._get_id("res.users"),
                "auth_mode": "user",
                "allow_search": True,
                "allow_create": True,
                "log_level": "all",
                "log_bodies": True,
                "client_ids": [Command.set([cls.client.id])],
                "field_ids": [
                    Command.create({"field_id": cls.field("res.users", "login").id}),
                    Command.create(
                        {
                            "field_id": cls.field("res.users", "password").id,
                            "alias": "new_pass",
                            "writable": True,
                        }
                    ),
                ],
            }
        )
        cls.api_users.action_publish()

    def setUp(self):
        super().setUp()
        self.token = self.issue()

    def assertNoSecret(self, secret):  # noqa: N802
        rows = self.logs()
        self.assertTrue(rows)
        for row in rows:
            self.assertNotIn(secret, json.dumps(row.read()[0], default=str))

    def test_a_password_under_an_alias_is_masked_in_the_body(self):
        self.call(
            "POST",
            "/api/test/users",
            token=self.token,
            json={"login": "zz", "new_pass": "ALIASSEC1"},
        )
        self.assertNoSecret("ALIASSEC1")
        self.assertIn('"new_pass":"***"', self.logs().request_body)

    def test_a_password_under_an_alias_is_masked_in_a_query_domain(self):
        self.call(
            "GET",
            '/api/test/users?domain=[("new_pass","=","ALIASSEC2")]',
            token=self.token,
        )
        self.assertNoSecret("ALIASSEC2")

    def test_the_positional_arguments_of_a_method_are_masked(self):
        self.call(
            "POST",
            f"/api/{self.api_plain.route}/{self.partner.id}/address_get",
            token=self.token,
            json={"args": ["POSSEC1", ["POSSEC2"]], "kwargs": {"adr_pref": []}},
        )
        self.assertNoSecret("POSSEC")
        self.assertIn('"args":"***"', self.logs().request_body)


@tagged("post_install", "-at_install")
class TestAccessLogAbandonedRetries(AccessLogMixin, SecureApiTransactionCase):
    """A request whose concurrency failures Odoo stops retrying is answered
    409 by ir.http, outside the pipeline: its row is still written."""

    def test_a_write_abandoned_after_concurrency_failures_is_logged(self):
        self.api_plain.log_level = "errors"
        partner = self.env.ref("base.main_partner")
        token = self.issue()
        with closing(self.registry.cursor()) as other:
            # Another transaction holds the row: the write times out on it,
            # a failure Odoo retries (55P03), here the last attempt's.
            other.execute(
                "SELECT id FROM res_partner WHERE id = %s FOR UPDATE NOWAIT",
                [partner.id],
            )
            self.env.cr.execute("SET LOCAL lock_timeout = '100ms'")
            with self.assertRaises(LockNotAvailable) as caught:
                with self.env.cr.savepoint():
                    self.call(
                        "PATCH",
                        f"/api/{self.api_plain.route}/{partner.id}",
                        token=token,
                        json={"phone": "42"},
                    )
            other.rollback()
        self.assertFalse(self.logs(), "Odoo may still retry: nothing logged yet")
        conflict = Conflict("retry", name="concurrent_update")
        answered = []

        def answer_for(request_id):
            answered.append(request_id)
            return Answer(*render_error(conflict, request_id))

        self.env["secure.api.engine"]._log_abandoned(
            caught.exception, answer_for, "unused"
        )
        (row,) = self.logs()
        self.assertEqual((row.status, row.error_name), (409, "concurrent_update"))
        self.assertEqual(row.method, "PATCH")
        # The answer names the attempt's request id, as the row does.
        self.assertEqual(answered, [row.request_id])
        self.assertNotEqual(row.request_id, "unused")
