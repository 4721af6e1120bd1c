"""Deletions in sync: who is judged, when, and from which moment removals
are complete (the findings of an attack run on issue #29)."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from .common import SecureApiTransactionCase
from .test_sync_deletions import SyncDeletionsMixin, an_hour_ago, iso


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
        record = self.partners.create(
            {"name": "Gone in Co3", "company_id": company3.id}
        )
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
        active_only.sync_deletions_since = fields.Datetime.now() - timedelta(days=1)
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


@tagged("post_install", "-at_install")
class TestRemovalsCoverage(RemovalsCase):
    def test_switching_sync_deletions_on_records_when_removals_start(self):
        self.api_plain.sync_deletions = False
        self.assertFalse(self.api_plain.sync_deletions_since)
        self.api_plain.sync_deletions = True
        self.assertGreaterEqual(
            self.api_plain.sync_deletions_since, fields.Datetime.now()
        )

    def test_a_changed_since_before_sync_deletions_was_on_is_410(self):
        self.api_plain.sync_deletions = False
        self.partners.create({"name": "Gone unrecorded"}).unlink()
        self.api_plain.sync_deletions = True
        self.error(self.changes(), 410, "resync_required")

    def test_a_changed_since_before_the_api_left_draft_is_410(self):
        self.api_plain.action_reset_to_draft()
        self.partners.create({"name": "Gone in draft"}).unlink()
        self.api_plain.action_publish()
        self.error(self.changes(), 410, "resync_required")

    def test_a_delete_while_the_api_is_deactivated_is_listed(self):
        record = self.partners.create({"name": "Gone while inactive"})
        self.api_plain.action_deactivate()
        record.unlink()
        self.api_plain.action_publish()
        self.assertEqual(self.removed_ids(self.result(self.changes())), [record.id])

    def test_a_delete_while_the_client_app_is_archived_is_listed(self):
        record = self.partners.create({"name": "Gone while the app sleeps"})
        apps = self.api_plain.client_ids
        apps.active = False
        record.unlink()
        apps.active = True
        self.bearer = self.issue()
        self.assertEqual(self.removed_ids(self.result(self.changes())), [record.id])

    def test_a_purge_hidden_by_a_longer_retention_is_410(self):
        self.partners.create({"name": "Gone and purged"}).unlink()
        self.env.cr.execute(
            "UPDATE secure_api_tombstone SET removed_at = removed_at"
            " - interval '3 days' WHERE api_id = %s",
            [self.api_plain.id],
        )
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("secure_api.tombstone_days", "2")
        self.env["secure.api.tombstone"]._cron_purge()
        params.set_param("secure_api.tombstone_days", "30")
        four_days_ago = iso(fields.Datetime.now() - timedelta(days=4))
        self.error(self.changes(since=four_days_ago), 410, "resync_required")
        self.result(self.changes())


@tagged("post_install", "-at_install")
class TestRemovalsWithoutCursor(RemovalsCase):
    def test_the_first_offset_page_lists_every_removal(self):
        records = self.partners.create([{"name": f"Gone page {i}"} for i in range(9)])
        records.unlink()
        answer = self.result(self.changes(limit=2))
        self.assertEqual(sorted(self.removed_ids(answer)), sorted(records.ids))

    def test_offset_pages_after_the_first_list_no_removal(self):
        self.partners.create([{"name": f"Gone page {i}"} for i in range(3)]).unlink()
        self.assertEqual(self.result(self.changes(limit=2, offset=2))["removed"], [])

    def test_more_removals_than_one_answer_holds_is_410(self):
        self.env.cr.execute(
            "INSERT INTO secure_api_tombstone (api_id, res_model, kind, res_id,"
            " reader_ids, removed_at, xid) SELECT %s, 'res.partner', 'deleted', n,"
            " ARRAY[%s], now() AT TIME ZONE 'UTC', txid_current()"
            " FROM generate_series(1, 10001) AS n",
            [self.api_plain.id, self.api_user.id],
        )
        error = self.error(self.changes(limit=2), 410, "resync_required")
        self.assertIn("cursor", error["message"])
        walk = self.result(self.changes(limit=2, cursor=""))
        self.assertEqual(len(walk["removed"]), 2)
