"""The access log and read audit (contract: "Access log and audit").

In process (``self.call``) for what does not depend on HTTP; over real HTTP
for the request id and address a client sees, read-only GETs, credentials in
URLs, the flush when a worker stops, and the screens.
"""

import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

import psycopg2

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .. import compat, flushing
from ..models.secure_api_log import COLUMNS, buffer_for
from .common import SecureApiHttpCase, SecureApiTransactionCase, internal_user
from .test_ui import TestSecureApiUi

SECRETS = ("hunter2", "s3cr3t-value", "tok-abc-123", "k-live-42", "rf-9")


class AccessLogMixin:
    """Helpers shared by the in-process and the HTTP tests."""

    def setUp(self):
        super().setUp()
        # The buffer is the worker's: start and end each test empty.
        buffer_for(self.env.cr.dbname).drain()
        self.addCleanup(buffer_for(self.env.cr.dbname).drain)

    def buffered(self):
        return len(buffer_for(self.env.cr.dbname))

    def logs(self, domain=()):
        """Flush this worker's rows (as its flush thread does), then read."""
        model = self.env["secure.api.log"]
        model._flush_buffer()
        return model.search(list(domain), order="id")

    def auditor(self, login="secure_api_auditor"):
        groups = self.env.ref("base.group_user") | self.env.ref(
            "secure_api.group_secure_api_auditor"
        )
        return (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "API Auditor",
                    "login": login,
                    compat.user_groups_field(self.env): [Command.set(groups.ids)],
                }
            )
        )

    def row(self, when=None, ids=(), model="res.partner", **values):
        """A buffered row as the pipeline makes it (for the search and
        retention tests)."""
        defaults = dict.fromkeys(COLUMNS)
        defaults.update(
            timestamp=when or fields.Datetime.now(),
            api_id=self.api_plain.id,
            method="GET",
            path="/api/test/plain",
            status=200,
            duration_ms=1.0,
            request_id="r",
            model=model,
            record_ids=list(ids),
            record_count=len(ids),
            test_mode=False,
        )
        defaults.update(values)
        return tuple(defaults[name] for name in COLUMNS)


@tagged("post_install", "-at_install")
class TestAccessLog(AccessLogMixin, SecureApiTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_plain.log_level = "all"
        cls.partners = cls.env["res.partner"].create(
            [
                {"name": f"Logged {i}", "email": f"logged{i}@example.com"}
                for i in range(3)
            ]
        )

    def setUp(self):
        super().setUp()
        self.token = self.issue()
        self.base = f"/api/{self.api_plain.route}"

    # ------------------------------------------------------------------
    # Levels
    # ------------------------------------------------------------------

    def test_level_none_logs_nothing_and_buffers_nothing(self):
        self.api_plain.log_level = "none"
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        self.call("GET", f"{self.base}/999999999", token=self.token)
        self.assertEqual(self.buffered(), 0)
        self.assertFalse(self.logs())

    def test_level_errors_logs_only_answers_of_400_and_above(self):
        self.api_plain.log_level = "errors"
        self.answer_result(
            self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        )
        self.answer_error(
            self.call("GET", f"{self.base}/999999999", token=self.token), 404
        )
        (row,) = self.logs()
        self.assertEqual((row.status, row.error_name), (404, "not_found"))

    def test_level_all_logs_every_request_with_who_what_and_when(self):
        before = fields.Datetime.now() - timedelta(seconds=1)
        answer = self.call(
            "GET",
            f"{self.base}/{self.partner.id}",
            token=self.token,
            remote_addr="203.0.113.7",
        )
        self.answer_result(answer)
        (row,) = self.logs()
        self.assertEqual(row.api_id, self.api_plain)
        self.assertEqual(row.app_id, self.client)
        self.assertEqual(row.user_id, self.api_user)
        self.assertEqual(row.address, "203.0.113.7")
        self.assertEqual(row.method, "GET")
        self.assertEqual(row.path, f"{self.base}/{self.partner.id}")
        self.assertEqual(row.operation, "read")
        self.assertEqual(row.status, 200)
        self.assertFalse(row.error_name)
        self.assertEqual(row.request_id, answer.headers["X-Request-Id"])
        self.assertEqual(row.model, "res.partner")
        self.assertEqual(row.record_ids, str(self.partner.id))
        self.assertGreater(row.duration_ms, 0)
        self.assertGreaterEqual(row.timestamp, before)
        self.assertLessEqual(row.timestamp, fields.Datetime.now())
        self.assertFalse(row.test_mode)
        self.assertFalse(row.request_body or row.response_body or row.request_headers)

    def test_a_client_level_overrides_its_apis_level(self):
        self.api_plain.log_level = "none"
        self.client.log_level = "all"
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        self.assertEqual(len(self.logs()), 1)
        self.api_plain.log_level = "all"
        self.client.log_level = "none"
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        self.assertEqual(len(self.logs()), 1, "the client's none wins over all")
        self.client.log_level = "errors"
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        self.call("GET", f"{self.base}/999999999", token=self.token)
        self.assertEqual(self.logs().mapped("status"), [200, 404])

    def test_an_empty_client_level_follows_the_api(self):
        self.client.log_level = False
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        self.assertEqual(len(self.logs()), 1)

    # ------------------------------------------------------------------
    # The records a request touched (database ids)
    # ------------------------------------------------------------------

    def touched(self, row):
        return [int(rid) for rid in row.record_ids.split(", ") if rid]

    def test_a_search_logs_the_ids_of_its_page(self):
        query = urlencode({"domain": '[("name", "=like", "Logged %")]', "order": "id"})
        result = self.answer_result(
            self.call("GET", f"{self.base}?{query}", token=self.token)
        )
        (row,) = self.logs()
        self.assertEqual(self.touched(row), self.partners.ids)
        self.assertEqual([r["id"] for r in result["records"]], self.partners.ids)
        self.assertEqual((row.operation, row.record_count), ("search", 3))

    def test_a_read_on_an_obfuscated_api_logs_the_database_id(self):
        self.api_obf.log_level = "all"
        encoded = self.ids(self.api_obf, self.partner)
        self.answer_result(
            self.call("GET", f"/api/{self.api_obf.route}/{encoded}", token=self.token)
        )
        (row,) = self.logs()
        self.assertEqual(self.touched(row), [self.partner.id])

    def test_creates_log_the_new_ids_bulk_too(self):
        one = self.answer_result(
            self.call("POST", self.base, token=self.token, json={"name": "New one"}),
            201,
        )
        many = self.answer_result(
            self.call(
                "POST",
                self.base,
                token=self.token,
                json=[{"name": "Bulk a"}, {"name": "Bulk b"}],
            ),
            201,
        )
        minimal = self.answer_result(
            self.call(
                "POST",
                self.base,
                token=self.token,
                json={"name": "Minimal"},
                headers={"Prefer": "return=minimal"},
            ),
            201,
        )
        rows = self.logs()
        self.assertEqual(
            [self.touched(row) for row in rows],
            [[one["id"]], [item["id"] for item in many], [minimal["id"]]],
        )
        self.assertEqual(set(rows.mapped("operation")), {"create"})

    def test_updates_log_the_updated_ids_bulk_too(self):
        first, second, third = self.partners
        self.answer_result(
            self.call(
                "PATCH",
                f"{self.base}/{first.id}",
                token=self.token,
                json={"phone": "1"},
            )
        )
        self.answer_result(
            self.call(
                "PATCH",
                self.base,
                token=self.token,
                json={"ids": [second.id, third.id], "phone": "2"},
            )
        )
        self.answer_result(
            self.call(
                "PATCH",
                self.base,
                token=self.token,
                json=[{"id": third.id, "phone": "3"}, {"id": first.id, "phone": "4"}],
            )
        )
        self.assertEqual(
            [self.touched(row) for row in self.logs()],
            [[first.id], [second.id, third.id], [third.id, first.id]],
        )

    def test_deletes_log_the_deleted_ids_bulk_too(self):
        first, second, third = self.partners
        self.answer_result(
            self.call("DELETE", f"{self.base}/{first.id}", token=self.token)
        )
        self.answer_result(
            self.call(
                "DELETE",
                self.base,
                token=self.token,
                json={"ids": [second.id, third.id]},
            )
        )
        rows = self.logs()
        self.assertEqual(
            [self.touched(row) for row in rows], [[first.id], [second.id, third.id]]
        )
        self.assertFalse(self.partners.exists())
        self.assertEqual(rows.mapped("operation"), ["delete", "delete"])

    def test_a_failed_write_is_logged_with_no_record_and_changes_nothing(self):
        api = self.make_api(
            "test/parents",
            obfuscate=False,
            log_level="all",
            field_ids=[
                Command.create(
                    {
                        "field_id": self.field("res.partner", "parent_id").id,
                        "writable": True,
                    }
                )
            ],
        )
        api.client_ids = [Command.set([self.client.id])]
        # A partner cannot be its own parent: Odoo refuses, the client gets 422.
        answer = self.call(
            "PATCH",
            f"/api/{api.route}/{self.partner.id}",
            token=self.token,
            json={"parent_id": self.partner.id},
        )
        self.answer_error(answer, 422, "validation_error")
        (row,) = self.logs()
        self.assertEqual((row.status, row.error_name), (422, "validation_error"))
        self.assertEqual((row.record_ids, row.record_count), ("", 0))
        self.assertEqual(row.operation, "update")
        self.env.invalidate_all()
        self.assertFalse(self.partner.parent_id)

    def test_a_test_mode_write_is_logged_though_rolled_back(self):
        self.client.test_mode = True
        count = self.env["res.partner"].search_count([])
        answer = self.call("POST", self.base, token=self.token, json={"name": "Ghost"})
        created = self.answer_result(answer, 201)
        self.assertEqual(answer.headers.get("X-Test-Mode"), "1")
        self.assertEqual(self.env["res.partner"].search_count([]), count)
        (row,) = self.logs()
        self.assertTrue(row.test_mode)
        self.assertEqual((row.status, row.operation), (201, "create"))
        self.assertEqual(self.touched(row), [created["id"]])

    # ------------------------------------------------------------------
    # Never by the request's transaction, never a cost at "none"
    # ------------------------------------------------------------------

    def test_the_request_writes_no_row_itself_its_worker_buffers_it(self):
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        self.env.cr.execute("SELECT count(*) FROM secure_api_log")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertEqual(self.buffered(), 1)
        self.assertEqual(len(self.logs()), 1)
        self.assertEqual(self.buffered(), 0)

    def test_logging_adds_no_query_to_a_request(self):
        url = f"{self.base}/{self.partner.id}"

        def queries(level):
            self.api_plain.log_level = level
            self.call("GET", url, token=self.token)  # warm the caches
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            self.answer_result(self.call("GET", url, token=self.token))
            return self.env.cr.sql_log_count - start

        self.assertEqual(queries("all"), queries("none"))
        self.assertEqual(self.buffered(), 2)

    # ------------------------------------------------------------------
    # No secret in any row
    # ------------------------------------------------------------------

    def row_text(self, row):
        return json.dumps(row.read()[0], default=str)

    def test_bodies_and_headers_are_kept_with_their_secrets_masked(self):
        self.api_plain.log_bodies = True
        body = {
            "name": "Masked",
            "password": "hunter2",
            "client_secret": "s3cr3t-value",
            "access_token": "tok-abc-123",
            "nested": [{"api_key": "k-live-42", "refresh_token": "rf-9"}],
        }
        self.call("POST", self.base, token=self.token, json=body)
        (row,) = self.logs()
        self.assertEqual(row.status, 400)  # password is no field of the API
        text = self.row_text(row)
        for secret in (*SECRETS, self.token):
            self.assertNotIn(secret, text)
        self.assertIn('"password":"***"', row.request_body)
        self.assertIn('"name":"Masked"', row.request_body)
        self.assertIn("authorization: Bearer ***", row.request_headers)
        self.assertIn('"error"', row.response_body)

    def test_form_and_raw_bodies_are_masked_too(self):
        self.api_plain.log_bodies = True
        self.call(
            "GET",
            self.base,
            token=self.token,
            data={"limit": "1", "password": "hunter2", "token": "tok-abc-123"},
        )
        self.call(
            "POST",
            self.base,
            token=self.token,
            raw='{"name": "cut", "client_secret": "s3cr3t-value", ',
            headers={"Content-Type": "application/json"},
        )
        first, second = self.logs()
        self.assertEqual(first.status, 200)
        self.assertEqual(second.status, 400)
        for row in (first, second):
            text = self.row_text(row)
            for secret in SECRETS:
                self.assertNotIn(secret, text)
        self.assertIn('["password","***"]', first.request_body)

    def test_bodies_are_cut_at_16_kib(self):
        self.api_plain.log_bodies = True
        self.call(
            "POST",
            self.base,
            token=self.token,
            json={"name": "x" * 40000, "password": "hunter2"},
        )
        (row,) = self.logs()
        self.assertLessEqual(len(row.request_body.encode()), 16 * 1024)
        self.assertIn("[cut:", row.request_body)
        self.assertNotIn("hunter2", row.request_body)

    def test_credentials_in_the_query_are_masked_in_the_path(self):
        answer = self.call(
            "GET", f"{self.base}?limit=2&access_token=tok-abc-123", token=None
        )
        self.answer_error(answer, 401)
        (row,) = self.logs()
        self.assertEqual(row.path, f"{self.base}?limit=2&access_token=***")
        self.assertNotIn("tok-abc-123", self.row_text(row))

    def test_a_401_on_an_api_route_is_logged_under_the_apis_level(self):
        self.api_plain.log_level = "errors"
        answer = self.call(
            "GET", f"{self.base}/{self.partner.id}", token="not-a-real-token"
        )
        self.answer_error(answer, 401)
        (row,) = self.logs()
        self.assertEqual(row.status, 401)
        self.assertFalse(row.app_id or row.user_id)
        self.assertNotIn("not-a-real-token", self.row_text(row))

    def test_token_requests_are_not_logged(self):
        self.call(
            "POST",
            "/api/oauth2/token",
            data={"client_id": self.client.client_id, "client_secret": "wrong"},
        )
        self.assertEqual(self.buffered(), 0)

    # ------------------------------------------------------------------
    # Who reads, nobody edits, the retention job
    # ------------------------------------------------------------------

    def test_managers_cannot_read_the_log_auditors_and_admins_can(self):
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        self.logs()
        logs = self.env["secure.api.log"]
        with self.assertRaises(AccessError):
            logs.with_user(self.manager()).search([])
        self.assertEqual(len(logs.with_user(self.auditor()).search([])), 1)
        self.assertEqual(
            len(logs.with_user(self.env.ref("base.user_admin")).search([])), 1
        )
        with self.assertRaises(AccessError):
            logs.with_user(self.api_user).search([])

    def test_nobody_creates_changes_or_deletes_a_row(self):
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        (row,) = self.logs()
        admin = self.env.ref("base.user_admin")
        for user in (self.auditor(), admin, None):
            as_user = row.with_user(user) if user else row.sudo()
            with self.subTest(user=user and user.login):
                with self.assertRaises(AccessError):
                    as_user.write({"status": 200})
                with self.assertRaises(AccessError):
                    as_user.unlink()
                with self.assertRaises(AccessError):
                    as_user.create({"status": 200})
        self.assertTrue(row.exists())

    def test_managers_cannot_switch_the_log_of_an_api_off_or_on(self):
        api_rec = self.api_plain.with_user(self.manager())
        for vals in ({"log_level": "none"}, {"log_bodies": True}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                api_rec.write(vals)
        self.assertEqual(self.api_plain.log_level, "all")
        self.assertFalse(self.api_plain.log_bodies)
        self.assertFalse(api_rec.can_edit_audit)

    def test_managers_cannot_change_a_clients_log_level(self):
        client = self.client.with_user(self.manager())
        with self.assertRaises(AccessError):
            client.write({"log_level": "none"})
        self.assertFalse(self.client.log_level)
        self.assertFalse(client.can_edit_audit)

    def test_managers_keep_the_log_settings_they_do_not_change(self):
        manager = self.manager()
        # The web client sends every field back on save, defaults included.
        self.api_plain.with_user(manager).write(
            {"name": "Renamed", "log_level": "all", "log_bodies": False}
        )
        created = (
            self.env["secure.api"]
            .with_user(manager)
            .create(
                {
                    "name": "Manager's API",
                    "route": "manager/logged",
                    "model_id": self.env.ref("base.model_res_partner").id,
                    "log_level": "none",
                    "log_bodies": False,
                }
            )
        )
        self.assertEqual(created.log_level, "none")
        self.assertEqual(self.api_plain.name, "Renamed")

    def test_administrators_change_the_log_settings(self):
        admin = self.env.ref("base.user_admin")
        self.api_plain.with_user(admin).write({"log_level": "errors"})
        self.client.with_user(admin).write({"log_level": "none"})
        self.assertEqual(self.api_plain.log_level, "errors")
        self.assertEqual(self.client.log_level, "none")
        self.assertTrue(self.api_plain.with_user(admin).can_edit_audit)

    def test_the_auditor_group_is_in_the_apps_category(self):
        group = self.env.ref("secure_api.group_secure_api_auditor")
        category = self.env.ref("secure_api.module_category_secure_api")
        if "privilege_id" in group._fields:
            self.assertEqual(group.privilege_id.category_id, category)
        else:
            self.assertEqual(group.category_id, category)
            self.assertEqual(group.full_name, "Secure API / Auditor")

    def test_the_retention_job_deletes_rows_older_than_the_setting(self):
        model = self.env["secure.api.log"]
        now = fields.Datetime.now()
        for days in (40, 20, 1):
            model._buffer_row(
                self.row(now - timedelta(days=days), request_id=str(days))
            )
        model._flush_buffer()
        model._cron_cleanup()  # the default: 30 days
        self.assertEqual(model.search([]).mapped("request_id"), ["1", "20"])
        param = self.env["ir.config_parameter"]
        param.set_param("secure_api.log_retention_days", "0")
        model._cron_cleanup()
        self.assertEqual(len(model.search([])), 2, "0 keeps every row")
        param.set_param("secure_api.log_retention_days", "7")
        model._cron_cleanup()
        self.assertEqual(model.search([]).mapped("request_id"), ["1"])

    def test_deleting_an_api_keeps_its_rows(self):
        api = self.make_api("test/doomed", obfuscate=False, log_level="all")
        api.client_ids = [Command.set([self.client.id])]
        self.call("GET", f"/api/{api.route}/{self.partner.id}", token=self.token)
        self.logs()
        api.action_reset_to_draft()
        api.unlink()
        (row,) = self.logs()
        self.assertFalse(row.api_id)
        self.assertEqual(row.path, f"/api/test/doomed/{self.partner.id}")

    def test_a_row_of_an_api_deleted_before_its_flush_is_kept(self):
        api = self.make_api("test/gone", obfuscate=False, log_level="all")
        api.client_ids = [Command.set([self.client.id])]
        self.call("GET", f"/api/{api.route}/{self.partner.id}", token=self.token)
        api.action_reset_to_draft()
        api.unlink()
        (row,) = self.logs()
        self.assertFalse(row.api_id)
        self.assertEqual(row.app_id, self.client)

    # ------------------------------------------------------------------
    # The audit question
    # ------------------------------------------------------------------

    def test_the_touched_record_search_matches_12_and_not_123(self):
        model = self.env["secure.api.log"]
        model._buffer_row(self.row(ids=[123], request_id="a"))
        model._buffer_row(self.row(ids=[5, 12], request_id="b"))
        model._buffer_row(self.row(ids=[12], model="res.country", request_id="c"))
        model._flush_buffer()

        def found(value, operator="="):
            return model.search([("record_ids", operator, value)]).mapped("request_id")

        self.assertEqual(sorted(found(12)), ["b", "c"])
        self.assertEqual(found(123), ["a"])
        self.assertEqual(found(1), [])
        self.assertEqual(found("12 "), found(12), "typed in the search box")
        self.assertEqual(found("res.partner,12"), ["b"])
        self.assertEqual(found("res.country/12"), ["c"])
        self.assertEqual(sorted(found([5, 123], "in")), ["a", "b"])
        self.assertEqual(found("twelve"), [])
        self.assertEqual(sorted(found(12, "!=")), ["a"])
        self.assertEqual(
            model.search_count(
                [("model", "=", "res.partner"), ("record_ids", "=", 12)]
            ),
            1,
        )

    def test_the_api_and_client_buttons_open_their_rows(self):
        other = self.make_api("test/other", obfuscate=False, log_level="all")
        other.client_ids = [Command.set([self.reader_client.id])]
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        reader = self.issue(self.reader_client)
        self.call("GET", f"/api/{other.route}/{self.partner.id}", token=reader)
        self.logs()
        for record, expected in (
            (self.api_plain, self.client),
            (self.client, self.client),
            (other, self.reader_client),
            (self.reader_client, self.reader_client),
        ):
            action = record.action_view_logs()
            self.assertEqual(action["res_model"], "secure.api.log")
            rows = self.env["secure.api.log"].search(action["domain"])
            self.assertEqual(rows.app_id, expected)

    def test_api_access_to_this_record_from_any_form(self):
        self.call("GET", f"{self.base}/{self.partner.id}", token=self.token)
        self.call("GET", f"{self.base}/{self.hidden.id}", token=self.token)  # 404
        self.logs()
        action = self.env.ref("secure_api.action_secure_api_log_for_record")
        actions = self.env["ir.actions.actions"]
        for user, offered in (
            (self.env.ref("base.user_admin"), True),
            (self.auditor(), True),
            (self.manager(), False),
        ):
            with self.subTest(user=user.login):
                bindings = actions.with_user(user).get_bindings("res.partner")
                ids = [entry["id"] for entry in bindings.get("action", [])]
                self.assertEqual(action.id in ids, offered)
        self.assertNotIn(
            action.id,
            [e["id"] for e in actions.get_bindings("secure.api.log").get("action", [])],
        )
        # The web client evaluates the domain with the form's record.
        domain = safe_eval(
            action.domain, {"active_model": "res.partner", "active_id": self.partner.id}
        )
        (row,) = self.env["secure.api.log"].search(domain)
        self.assertEqual(row.path, f"{self.base}/{self.partner.id}")
        by_method = self.env["secure.api.log"].action_for_record(
            "res.partner", self.partner.id
        )
        self.assertEqual(self.env["secure.api.log"].search(by_method["domain"]), row)


@tagged("post_install", "-at_install")
class TestAccessLogHttp(AccessLogMixin, SecureApiHttpCase):
    """Over real HTTP: what a client sees, and a worker that stops."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_plain.log_level = "all"

    def setUp(self):
        super().setUp()
        self.bearer = self.token()
        self.base = f"/api/{self.api_plain.route}"

    def test_a_real_request_is_logged_with_its_request_id_and_address(self):
        response = self.request(
            "GET", f"{self.base}/{self.partner.id}", token=self.bearer
        )
        self.result(response)
        (row,) = self.logs()
        self.assertEqual(row.request_id, response.headers["X-Request-Id"])
        self.assertEqual(row.address, "127.0.0.1")
        self.assertEqual((row.app_id, row.user_id), (self.client, self.api_user))
        self.assertEqual(row.record_ids, str(self.partner.id))

    def test_a_get_stays_read_only_with_every_request_logged(self):
        # GETs run on a read-only cursor (18.0+): a row written by the
        # request itself would fail it.
        query = urlencode({"limit": 5, "order": "id"})
        result = self.result(
            self.request("GET", f"{self.base}?{query}", token=self.bearer)
        )
        (row,) = self.logs()
        self.assertEqual(row.record_count, len(result["records"]))

    def test_a_401_and_credentials_in_the_url_are_logged_masked(self):
        response = self.request("GET", f"{self.base}?access_token={self.bearer}")
        self.assertError(response, 401)
        response = self.request("GET", self.base, token="wrong-token")
        self.assertError(response, 401)
        first, second = self.logs()
        self.assertEqual(first.path, f"{self.base}?access_token=***")
        self.assertEqual((first.status, second.status), (401, 401))
        for row in (first, second):
            text = json.dumps(row.read()[0], default=str)
            self.assertNotIn(self.bearer, text)
            self.assertNotIn("wrong-token", text)

    def test_no_row_is_lost_when_a_worker_stops_after_a_burst(self):
        dbname = self.env.cr.dbname
        buffer = buffer_for(dbname)
        # What a serving worker has: a flush thread (here one that would wait
        # an hour), and rows that it has not flushed yet.
        flushing.ensure_flusher(dbname, "secure.api.log", 3600, buffer.__len__)
        statuses = [
            self.request(
                "GET", f"{self.base}/{self.partner.id}", token=self.bearer
            ).status_code
            for _i in range(30)
        ]
        self.assertEqual(statuses, [200] * 30)
        self.assertEqual(len(buffer), 30)
        self.env.cr.execute("SELECT count(*) FROM secure_api_log")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        # What runs when the worker exits (atexit, see hooks.post_load).
        flushing.flush_all_at_exit()
        self.assertEqual(len(buffer), 0)
        self.env["secure.api.log"].invalidate_model()
        self.assertEqual(self.env["secure.api.log"].search_count([]), 30)

    def test_a_failed_flush_loses_no_row(self):
        self.request("GET", f"{self.base}/{self.partner.id}", token=self.bearer)
        buffer = buffer_for(self.env.cr.dbname)
        self.assertEqual(len(buffer), 1)
        # The table refuses every row (as when the database is down or not
        # upgraded yet): the rows go back into the buffer for the next flush.
        self.env.cr.execute("ALTER TABLE secure_api_log RENAME path TO path_gone")
        with self.assertRaises(psycopg2.ProgrammingError):
            self.env["secure.api.log"]._flush_buffer()
        self.env.cr.execute("ALTER TABLE secure_api_log RENAME path_gone TO path")
        self.assertEqual(len(buffer), 1)
        self.assertEqual(len(self.logs()), 1)

    def test_the_log_screens_open_without_errors(self):
        self.request("GET", f"{self.base}/{self.partner.id}", token=self.bearer)
        self.request("GET", f"{self.base}/999999999", token=self.bearer)
        rows = self.logs()
        url = TestSecureApiUi.url
        targets = [
            (url("secure_api.secure_api_log_action", view_type), view_type)
            for view_type in ("list", "graph", "pivot")
        ]
        targets.append(
            (url("secure_api.secure_api_log_action", res_id=rows[0].id), "form")
        )
        TestSecureApiUi.check_js(
            self,
            url("secure_api.secure_api_log_action"),
            f"window.secureApiCheckViews({json.dumps(targets)})",
        )

    def test_api_access_to_this_record_from_the_action_menu(self):
        # Countries: a form of base whose widgets every tree has.
        api = self.make_api(
            "test/countries",
            obfuscate=False,
            log_level="all",
            model_id=self.env["ir.model"]._get_id("res.country"),
            domain="[]",
            field_ids=[
                Command.create({"field_id": self.field("res.country", "code").id})
            ],
            method_ids=[],
        )
        api.client_ids = [Command.set([self.client.id])]
        self.result(
            self.request(
                "GET", f"/api/{api.route}/{self.belgium.id}", token=self.bearer
            )
        )
        self.logs()
        TestSecureApiUi.run_tour(
            self,
            "secure_api_tour_log_for_record",
            TestSecureApiUi.url("base.action_country", res_id=self.belgium.id),
        )


@tagged("post_install", "-at_install")
class TestAccessLogAuditorUser(AccessLogMixin, SecureApiTransactionCase):
    def test_an_auditor_sees_the_menu_and_a_manager_does_not(self):
        menu = self.env.ref("secure_api.secure_api_menu_logs")
        auditor = internal_user(self.env, "Audit", "secure_api_audit_menu")
        auditor.write(
            {
                compat.user_groups_field(self.env): [
                    Command.link(self.env.ref("secure_api.group_secure_api_auditor").id)
                ]
            }
        )
        visible = self.env["ir.ui.menu"].with_user(auditor)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        hidden = self.env["ir.ui.menu"].with_user(self.manager())._visible_menu_ids()
        self.assertNotIn(menu.id, hidden)

    def test_old_rows_and_times(self):
        # Timestamps are naive UTC, as Odoo's datetimes.
        model = self.env["secure.api.log"]
        model._buffer_row(self.row(datetime(2026, 1, 2, 3, 4, 5)))
        (row,) = self.logs()
        self.assertEqual(row.timestamp, datetime(2026, 1, 2, 3, 4, 5))
