"""The access log against hostile input: whatever a client sends, its row
is written, a row the database refuses blocks no other, and no row holds a
secret (contract: "Access log and audit")."""

import json

from odoo.tests import tagged

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


@tagged("post_install", "-at_install")
class TestAccessLogStorageHttp(AccessLogMixin, SecureApiHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_plain.log_level = "errors"

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
