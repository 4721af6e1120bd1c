"""The audit search finds the records an answer shows through relations,
and the records an aggregate read (contract: "Access log and audit")."""

import json
from unittest.mock import patch
from urllib.parse import urlencode

from lxml import etree

from odoo import Command
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from ..core import access_log as core_log
from .common import SecureApiTransactionCase, internal_user
from .test_access_log import AccessLogMixin


@tagged("post_install", "-at_install")
class TestAccessLogRelated(AccessLogMixin, SecureApiTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        field = cls.field
        cls.api = cls.make_api(
            "test/related",
            obfuscate=False,
            log_level="all",
            allow_aggregate=True,
            domain="[]",
            method_ids=[],
            field_ids=[
                Command.create(
                    {"field_id": field("res.partner", "name").id, "searchable": True}
                ),
                Command.create(
                    {"field_id": field("res.partner", "email").id, "searchable": True}
                ),
                Command.create(
                    {"field_id": field("res.partner", "ref").id, "searchable": True}
                ),
                Command.create(
                    {
                        "field_id": field("res.partner", "parent_id").id,
                        "related_field_ids": [
                            Command.set(
                                [
                                    field("res.partner", "name").id,
                                    field("res.partner", "email").id,
                                ]
                            )
                        ],
                    }
                ),
                Command.create(
                    {
                        "field_id": field("res.partner", "country_id").id,
                        "related_field_ids": [
                            Command.set([field("res.country", "code").id])
                        ],
                    }
                ),
            ],
        )
        cls.api.client_ids = [Command.set([cls.client.id])]
        cls.parent = cls.env["res.partner"].create(
            {"name": "Parent", "email": "parent@example.com", "ref": "AUDIT-P"}
        )
        cls.child = cls.env["res.partner"].create(
            {
                "name": "Child",
                "parent_id": cls.parent.id,
                "country_id": cls.belgium.id,
                "ref": "AUDIT-C",
            }
        )

    def setUp(self):
        super().setUp()
        self.token = self.issue()
        self.base = f"/api/{self.api.route}"

    def touched(self, row):
        return [int(rid) for rid in row.record_ids.split(", ") if rid]

    def found(self, model, res_id):
        action = self.env["secure.api.log"].action_for_record(model, res_id)
        return self.env["secure.api.log"].search(action["domain"])

    def test_a_read_logs_the_parent_it_shows_through_related_fields(self):
        result = self.answer_result(
            self.call("GET", f"{self.base}/{self.child.id}", token=self.token)
        )
        self.assertIn("parent@example.com", json.dumps(result))
        (row,) = self.logs()
        self.assertEqual(self.touched(row), [self.child.id, self.parent.id])
        self.assertEqual(self.found("res.partner", self.parent.id), row)

    def test_a_search_logs_the_records_it_shows_through_related_fields(self):
        query = urlencode({"domain": '[("ref", "=", "AUDIT-C")]'})
        self.answer_result(self.call("GET", f"{self.base}?{query}", token=self.token))
        (row,) = self.logs()
        self.assertEqual(self.touched(row), [self.child.id, self.parent.id])

    def test_records_of_other_models_shown_are_found_by_model_and_id(self):
        self.answer_result(
            self.call("GET", f"{self.base}/{self.child.id}", token=self.token)
        )
        (row,) = self.logs()
        self.assertEqual(row.related_refs, f"res.country,{self.belgium.id}")
        self.assertEqual(self.found("res.country", self.belgium.id), row)
        model = self.env["secure.api.log"]
        self.assertEqual(
            model.search([("record_ids", "=", f"res.country,{self.belgium.id}")]),
            row,
        )
        self.assertFalse(
            model.search([("record_ids", "=", f"res.partner,{self.belgium.id}")])
        )

    def test_an_aggregate_logs_the_ids_of_the_records_it_aggregated(self):
        query = urlencode(
            {"groupby": "email", "domain": '[("ref", "in", ["AUDIT-P", "AUDIT-C"])]'}
        )
        self.answer_result(
            self.call("GET", f"{self.base}/aggregate?{query}", token=self.token)
        )
        (row,) = self.logs()
        self.assertEqual(row.operation, "aggregate")
        self.assertEqual(self.touched(row), sorted([self.parent.id, self.child.id]))
        self.assertEqual(row.record_count, 2)

    def test_the_ids_of_a_large_aggregate_are_cut_and_the_count_says_so(self):
        query = urlencode({"domain": '[("ref", "in", ["AUDIT-P", "AUDIT-C"])]'})
        with patch.object(core_log, "MAX_AGGREGATED_IDS", 1):
            self.answer_result(
                self.call("GET", f"{self.base}/aggregate?{query}", token=self.token)
            )
        (row,) = self.logs()
        self.assertEqual(self.touched(row), [min(self.parent.id, self.child.id)])
        self.assertEqual(row.record_count, 2)

    def test_an_aggregate_not_logged_reads_no_ids(self):
        url = f"{self.base}/aggregate?{urlencode({'groupby': 'email'})}"

        def queries(level):
            self.api.log_level = level
            self.call("GET", url, token=self.token)  # warm the caches
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            self.answer_result(self.call("GET", url, token=self.token))
            return self.env.cr.sql_log_count - start

        self.assertEqual(queries("errors"), queries("none"))
        self.assertEqual(queries("all"), queries("none") + 1)


@tagged("post_install", "-at_install")
class TestAccessLogPlainRelations(AccessLogMixin, SecureApiTransactionCase):
    """A relation shown as a plain value, ``[id, "name"]``, shows a record
    too: the audit finds it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        field = cls.field
        cls.api = cls.make_api(
            "test/plain-relations",
            obfuscate=False,
            log_level="all",
            allow_aggregate=True,
            domain="[]",
            method_ids=[],
            field_ids=[
                Command.create(
                    {
                        "field_id": field("res.partner", "ref").id,
                        "searchable": True,
                        "writable": True,
                    }
                ),
                Command.create(
                    {
                        "field_id": field("res.partner", "parent_id").id,
                        "searchable": True,
                    }
                ),
                Command.create(
                    {
                        "field_id": field("res.partner", "country_id").id,
                        "searchable": True,
                    }
                ),
            ],
        )
        cls.api.client_ids = [Command.set([cls.client.id])]
        cls.parent = cls.env["res.partner"].create(
            {"name": "AuditParentA", "ref": "PLAIN-P"}
        )
        cls.child = cls.env["res.partner"].create(
            {
                "name": "Child",
                "parent_id": cls.parent.id,
                "country_id": cls.belgium.id,
                "ref": "PLAIN-C",
            }
        )

    def setUp(self):
        super().setUp()
        self.token = self.issue()
        self.base = f"/api/{self.api.route}"

    def test_a_read_logs_the_records_its_plain_relations_show(self):
        result = self.answer_result(
            self.call("GET", f"{self.base}/{self.child.id}", token=self.token)
        )
        self.assertIn("AuditParentA", json.dumps(result))
        (row,) = self.logs()
        self.assertEqual(row.record_ids, f"{self.child.id}, {self.parent.id}")
        self.assertEqual(row.related_refs, f"res.country,{self.belgium.id}")

    def test_an_aggregate_logs_the_records_its_groups_show(self):
        query = urlencode(
            {"groupby": "parent_id,country_id", "domain": '[("ref", "=", "PLAIN-C")]'}
        )
        result = self.answer_result(
            self.call("GET", f"{self.base}/aggregate?{query}", token=self.token)
        )
        self.assertIn("AuditParentA", json.dumps(result))
        (row,) = self.logs()
        self.assertEqual(row.record_ids, f"{self.child.id}, {self.parent.id}")
        self.assertEqual(row.related_refs, f"res.country,{self.belgium.id}")

    def test_an_idempotent_replay_logs_the_records_of_the_original(self):
        rows = self.env["secure.api.log"]
        for _attempt in range(2):
            answer = self.call(
                "PATCH",
                f"{self.base}/{self.child.id}",
                token=self.token,
                json={"ref": "PLAIN-C2"},
                headers={"Idempotency-Key": "audit-replay-1"},
            )
            rows |= self.logs() - rows
        self.assertEqual(answer.headers.get("Idempotent-Replayed"), "true")
        first, replay = rows
        self.assertEqual(first.record_ids, f"{self.child.id}, {self.parent.id}")
        self.assertEqual(replay.record_ids, first.record_ids)
        self.assertEqual(replay.related_refs, first.related_refs)
        self.assertEqual(replay.record_count, first.record_count)


@tagged("post_install", "-at_install")
class TestAccessLogSelfContained(AccessLogMixin, SecureApiTransactionCase):
    """Deleting an API, a client app or a user erases nothing a row says."""

    def test_a_row_names_its_api_client_and_user_after_they_are_deleted(self):
        user = internal_user(self.env, "Gone Runner", "secure_api_gone_runner")
        client, _secret = self.make_client("Gone client", user)
        api = self.make_api("test/gone", obfuscate=False, log_level="all")
        api.client_ids = [Command.set(client.ids)]
        client_ref = client.client_id
        self.call("GET", "/api/test/gone", token=self.issue(client))
        (row,) = self.logs()
        api.unlink()
        client.unlink()
        user.unlink()
        self.assertFalse(row.api_id or row.app_id or row.user_id)
        self.assertEqual(
            (row.api_route, row.api_name, row.app_client_id, row.app_name),
            ("test/gone", "API test/gone", client_ref, "Gone client"),
        )
        self.assertEqual(row.user_login, "secure_api_gone_runner")
        model = self.env["secure.api.log"]
        for name, text in (
            ("api_id", "test/gone"),
            ("app_id", "Gone client"),
            ("user_id", "gone_runner"),
        ):
            domain = self.filter_domain(name, text)
            self.assertEqual(model.search(domain), row, name)

    def filter_domain(self, name, text):
        """The domain the log's search view gives ``text`` typed in the
        field ``name``."""
        arch = self.env.ref("secure_api.secure_api_log_view_search").arch
        node = etree.fromstring(arch).xpath(f"//field[@name='{name}']")[0]
        return safe_eval(node.get("filter_domain"), {"self": text})
