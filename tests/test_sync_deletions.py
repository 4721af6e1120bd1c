"""Deletions in sync (contract: "Nested writes and deletions in sync"): on an
API with ``sync_deletions``, a ``changed_since`` search lists under
``removed`` the records deleted or archived since then, by any path, that
the caller could read before."""

import uuid
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from .common import SecureApiHttpCase, SecureApiTransactionCase, internal_user


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def an_hour_ago():
    return iso(fields.Datetime.now() - timedelta(hours=1))


class SyncDeletionsMixin:
    def setUp(self):
        super().setUp()
        self.api_plain.sync_deletions = True
        # As if switched on long ago: changed_since before it answers 410.
        self.api_plain.sync_deletions_since = fields.Datetime.now() - timedelta(days=90)
        # The tombstone hook patches the exposed models: undone after each
        # test, as Odoo's test case checks.
        self.addCleanup(self.env["secure.api.webhook"]._unregister_hook)
        self.base = f"/api/{self.api_plain.route}"
        self.partners = self.env["res.partner"]

    def removed_ids(self, answer):
        return [entry["id"] for entry in answer["removed"]]

    def tombstones(self):
        return self.env["secure.api.tombstone"].search(
            [("api_id", "=", self.api_plain.id)]
        )


@tagged("post_install", "-at_install")
class TestSyncDeletions(SyncDeletionsMixin, SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()

    def changes(self, since=None, **params):
        params.setdefault("domain", '[("name", "=like", "Gone%")]')
        params["changed_since"] = since or an_hour_ago()
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.call("GET", f"{self.base}?{query}", token=self.bearer)

    def test_removed_holds_the_deleted_and_archived_records_the_caller_read(self):
        deleted, archived, kept = self.partners.create(
            [{"name": "Gone deleted"}, {"name": "Gone archived"}, {"name": "Gone kept"}]
        )
        deleted.unlink()
        archived.action_archive()
        answer = self.result(self.changes())
        self.assertEqual(sorted(self.removed_ids(answer)), [deleted.id, archived.id])
        self.assertEqual([r["id"] for r in answer["records"]], [kept.id])
        entry = answer["removed"][0]
        self.assertEqual(set(entry), {"id", "removed_at"})
        self.assertRegex(entry["removed_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_a_record_outside_the_forced_domain_is_not_listed(self):
        outside = self.partners.create({"name": "Gone outside", "ref": "HIDDEN"})
        outside.unlink()
        self.assertEqual(self.result(self.changes())["removed"], [])
        self.assertFalse(self.tombstones())

    def test_a_record_hidden_by_a_record_rule_for_the_user_is_not_listed(self):
        self.env["ir.rule"].create(
            {
                "name": "No secrets for the API user",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "domain_force": "[('name', 'not like', 'Secret')]",
            }
        )
        secret, plain = self.partners.create(
            [{"name": "Gone Secret"}, {"name": "Gone plain"}]
        )
        (secret | plain).unlink()
        self.assertEqual(self.removed_ids(self.result(self.changes())), [plain.id])

    def test_a_delete_through_the_api_is_listed(self):
        record = self.partners.create({"name": "Gone by API"})
        self.result(self.call("DELETE", f"{self.base}/{record.id}", token=self.bearer))
        self.assertEqual(self.removed_ids(self.result(self.changes())), [record.id])

    def test_a_record_archived_then_deleted_is_listed_once(self):
        record = self.partners.create({"name": "Gone twice"})
        record.action_archive()
        record.unlink()
        self.assertEqual(self.removed_ids(self.result(self.changes())), [record.id])

    def test_a_rolled_back_unlink_leaves_no_tombstone(self):
        record = self.partners.create({"name": "Gone not really"})
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            record.unlink()
            self.assertEqual(len(self.tombstones()), 1, "written by the unlink")
            raise RuntimeError("the deleting transaction fails")
        self.assertFalse(self.tombstones())
        self.assertEqual(self.result(self.changes())["removed"], [])

    def test_a_restored_record_is_no_longer_removed_and_comes_back_as_changed(self):
        record = self.partners.create({"name": "Gone and back"})
        record.action_archive()
        self.assertEqual(self.removed_ids(self.result(self.changes())), [record.id])
        record.action_unarchive()
        answer = self.result(self.changes())
        self.assertEqual(answer["removed"], [])
        self.assertEqual([r["id"] for r in answer["records"]], [record.id])

    def test_a_changed_since_older_than_the_retention_is_410(self):
        old = iso(fields.Datetime.now() - timedelta(days=31))
        self.error(self.changes(since=old), 410, "resync_required")
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.tombstone_days", "60"
        )
        self.result(self.changes(since=old))

    def test_an_api_without_sync_deletions_answers_no_removed_key(self):
        self.partners.create({"name": "Gone quietly"}).unlink()
        self.api_plain.sync_deletions = False
        old = iso(fields.Datetime.now() - timedelta(days=400))
        answer = self.result(self.changes(since=old))
        self.assertNotIn("removed", answer)

    def test_a_search_without_changed_since_answers_no_removed_key(self):
        self.partners.create({"name": "Gone unasked"}).unlink()
        answer = self.result(self.call("GET", self.base, token=self.bearer))
        self.assertNotIn("removed", answer)

    def test_removals_before_changed_since_are_not_listed(self):
        self.partners.create({"name": "Gone long ago"}).unlink()
        later = iso(fields.Datetime.now() + timedelta(minutes=1))
        self.assertEqual(self.result(self.changes(since=later))["removed"], [])

    def test_a_walk_started_before_the_api_synced_deletions_is_410(self):
        self.api_plain.sync_deletions = False
        self.partners.create([{"name": f"Gone walk {i}"} for i in range(4)])
        # One changed_since for the whole walk: cursors are bound to it.
        since = an_hour_ago()
        first = self.result(self.changes(since, limit=2, cursor=""))
        self.api_plain.sync_deletions = True
        # Removals before the switch were never kept.
        self.error(
            self.changes(since, limit=2, cursor=first["next_cursor"]),
            410,
            "resync_required",
        )

    def test_tombstones_are_readable_by_managers_only(self):
        self.partners.create({"name": "Gone private"}).unlink()
        with self.assertRaises(AccessError):
            self.env["secure.api.tombstone"].with_user(self.api_user).search([])
        self.assertTrue(
            self.env["secure.api.tombstone"].with_user(self.manager()).search([])
        )

    def test_the_cron_forgets_tombstones_past_the_retention(self):
        old, recent = self.partners.create(
            [{"name": "Gone old"}, {"name": "Gone recent"}]
        )
        (old | recent).unlink()
        self.env.cr.execute(
            "UPDATE secure_api_tombstone SET removed_at = removed_at - interval"
            " '31 days' WHERE res_id = %s",
            [old.id],
        )
        self.env["secure.api.tombstone"]._cron_purge()
        self.assertEqual(self.tombstones().mapped("res_id"), [recent.id])

    def test_users_who_granted_delegated_access_are_judged_too(self):
        alice = internal_user(self.env, "Alice", "secure_api_alice_tomb")
        self.client.write(
            {
                "grant_types": "client_credentials authorization_code",
                "redirect_uris": "https://app.example.com/callback",
            }
        )
        self.env["secure.api.consent"].create(
            {"user_id": alice.id, "app_id": self.client.id, "scope": "search"}
        )
        self.partners.create({"name": "Gone for Alice"}).unlink()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT reader_ids FROM secure_api_tombstone WHERE api_id = %s",
            [self.api_plain.id],
        )
        self.assertEqual(
            sorted(self.env.cr.fetchone()[0]), [self.api_user.id, alice.id]
        )

    def test_a_public_api_lists_removals_its_run_as_user_read(self):
        public = self.make_api(
            "test/public-sync",
            obfuscate=True,
            auth_mode="public",
            run_as_user_id=self.api_user.id,
            sync_deletions=True,
        )
        public.sync_deletions_since = self.api_plain.sync_deletions_since
        record = self.partners.create({"name": "Gone public"})
        record.unlink()
        answer = self.result(
            self.call(
                "GET",
                f"/api/{public.route}?changed_since={an_hour_ago()}"
                '&domain=[("name", "=like", "Gone%")]',
            )
        )
        self.assertEqual(self.removed_ids(answer), [self.ids(public, record)])

    def test_models_of_no_syncing_api_pay_nothing(self):
        self.api_plain.sync_deletions = False
        self.partners.create({"name": "Gone free"}).unlink()
        self.assertFalse(self.env["secure.api.tombstone"].search([]))


@tagged("post_install", "-at_install")
class TestSyncDeletionsOverHttp(SyncDeletionsMixin, SecureApiHttpCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.token()

    def page(self, cursor, since):
        domain = '[("name", "=like", "Wire gone%")]'
        return self.result(
            self.request(
                "GET",
                f"{self.base}?domain={domain}&limit=40&changed_since={since}"
                f"&cursor={cursor}",
                token=self.bearer,
            )
        )

    def test_a_300_record_walk_sees_every_deletion_once_while_others_delete(self):
        records = self.partners.create(
            [{"name": f"Wire gone {i:03d}"} for i in range(300)]
        )
        since = an_hour_ago()
        records[:10].unlink()
        deleted, unseen = set(records[:10].ids), set(records[:10].ids)
        seen, removed, cursor, page = [], [], "", 0
        while cursor is not None:
            answer = self.page(cursor, since)
            seen += [r["id"] for r in answer["records"]]
            removed += self.removed_ids(answer)
            cursor = answer["next_cursor"]
            page += 1
            if cursor is None:
                break
            # Another writer, between pages: deletes one record the walk
            # returned already and one it has not reached yet.
            walked = records.browse(seen).exists()
            ahead = (records - walked).exists()
            for victim in (walked[:1], ahead[-1:]):
                if victim:
                    deleted.add(victim.id)
                    if victim in ahead:
                        unseen.add(victim.id)
                    victim.unlink()
        self.assertGreaterEqual(page, 7)
        self.assertEqual(len(removed), len(set(removed)), "each removal once")
        self.assertEqual(set(removed), deleted)
        self.assertFalse(set(seen) & unseen, "a record deleted ahead is not returned")
        self.assertEqual(len(seen), len(set(seen)))


@tagged("post_install", "-at_install")
class TestRemovalsOfConcurrentTransactions(TransactionCase):
    """Real concurrent transactions on committed rows: a removal committed
    after a later one never falls behind a walk's position."""

    def setUp(self):
        super().setUp()
        tag = uuid.uuid4().hex[:10]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.api_id = (
                env["secure.api"]
                .create(
                    {
                        "name": f"Removals {tag}",
                        "route": f"test/removals-{tag}",
                        "model_id": env["ir.model"]._get_id("res.partner"),
                    }
                )
                .id
            )
        self.addCleanup(self.remove_committed)

    def remove_committed(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM secure_api_tombstone WHERE api_id = %s", [self.api_id]
            )
            api.Environment(cr, SUPERUSER_ID, {})["secure.api"].browse(
                self.api_id
            ).unlink()

    def remove(self, cr, res_id):
        cr.execute(
            "INSERT INTO secure_api_tombstone (api_id, res_model, kind, res_id,"
            " reader_ids, removed_at, xid) VALUES (%s, 'res.partner', 'deleted',"
            " %s, ARRAY[%s], now() AT TIME ZONE 'UTC', txid_current())",
            [self.api_id, res_id, SUPERUSER_ID],
        )

    def listed(self, settled, after=(0, 0)):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            rows, _more = env["secure.api.tombstone"]._list(
                cr,
                {"id": self.api_id},
                "res.partner",
                SUPERUSER_ID,
                fields.Datetime.now() - timedelta(hours=1),
                after,
                100,
                settled=settled,
            )
            return [row[2] for row in rows]

    def test_a_removal_committed_late_is_listed_after_the_position(self):
        early = self.registry.cursor()
        try:
            # The early transaction gets its id first, removes last.
            early.execute("SELECT txid_current()")
            with self.registry.cursor() as late:
                self.remove(late, 2)
            # While the early one runs, the late removal is not settled: a
            # walk's page before its last records does not list it yet.
            self.assertNotIn(2, self.listed(settled=True))
            self.assertEqual(self.listed(settled=False), [2])
            self.remove(early, 1)
            early.commit()
        finally:
            early.close()
        # In transaction order: the early one's removal comes first.
        self.assertEqual(self.listed(settled=False), [1, 2])
