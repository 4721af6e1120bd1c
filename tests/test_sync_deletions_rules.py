"""Deletions in sync: who is judged, when, and from which moment removals
are complete (the findings of an attack run on issue #29)."""

from odoo import Command
from odoo.tests import tagged

from .common import SecureApiTransactionCase
from .test_sync_deletions import SyncDeletionsMixin, an_hour_ago


class RemovalsCase(SyncDeletionsMixin, SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()

    def changes(self, since=None, base=None, **params):
        params.setdefault("domain", '[("name", "=like", "Gone%")]')
        params["changed_since"] = since or an_hour_ago()
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.call("GET", f"{base or self.base}?{query}", token=self.bearer)


@tagged("post_install", "-at_install")
class TestRemovalsAcrossCompanies(RemovalsCase):
    def setUp(self):
        super().setUp()
        self.company2 = self.env["res.company"].create({"name": "Gone Co2"})
        self.api_user.write({"company_ids": [Command.link(self.company2.id)]})

    def test_a_record_of_another_company_of_the_caller_is_listed(self):
        record = self.partners.create(
            {"name": "Gone in Co2", "company_id": self.company2.id}
        )
        path = f"{self.base}/{record.id}"
        # Readable with X-Company-Id only, not in the default company.
        self.error(self.call("GET", path, token=self.bearer), 404)
        headers = {"X-Company-Id": str(self.company2.id)}
        self.result(self.call("GET", path, token=self.bearer, headers=headers))
        record.unlink()
        self.assertEqual(self.removed_ids(self.result(self.changes())), [record.id])

    def test_a_record_of_a_company_the_caller_may_not_use_is_not_listed(self):
        company3 = self.env["res.company"].create({"name": "Gone Co3"})
        record = self.partners.create({"name": "Gone in Co3", "company_id": company3.id})
        record.unlink()
        self.assertEqual(self.result(self.changes())["removed"], [])
        self.assertFalse(self.tombstones())


@tagged("post_install", "-at_install")
class TestArchivesJudgedBeforeTheWrite(RemovalsCase):
    def test_an_archive_that_also_hides_the_record_is_listed(self):
        record = self.partners.create({"name": "Gone and hidden"})
        record.write({"active": False, "ref": "HIDDEN"})
        self.assertEqual(self.removed_ids(self.result(self.changes())), [record.id])

    def test_an_archive_that_shows_a_record_never_seen_is_not_listed(self):
        record = self.partners.create({"name": "Gone unseen", "ref": "HIDDEN"})
        record.write({"active": False, "ref": "shown"})
        self.assertEqual(self.result(self.changes())["removed"], [])
        self.assertFalse(self.tombstones())

    def test_an_api_of_active_records_lists_the_archive_then_nothing_more(self):
        active_only = self.make_api(
            "test/active-only-sync",
            obfuscate=False,
            domain="[('active', '=', True)]",
            sync_deletions=True,
        )
        active_only.client_ids = [Command.link(self.client.id)]
        base = f"/api/{active_only.route}"
        record = self.partners.create({"name": "Gone active only"})
        record.action_archive()
        self.assertEqual(
            self.removed_ids(self.result(self.changes(base=base))), [record.id]
        )
        record.unlink()
        self.assertEqual(
            self.removed_ids(self.result(self.changes(base=base))), [record.id]
        )

    def test_a_record_created_archived_is_never_listed(self):
        record = self.partners.create({"name": "Gone never shown", "active": False})
        record.unlink()
        self.assertEqual(self.result(self.changes())["removed"], [])
        self.assertFalse(self.tombstones())
