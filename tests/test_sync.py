"""Safe retries and synchronisation (contract: "Safe retries and
synchronisation"): idempotency keys, upserts, ETags, cursors, changes since,
estimated totals, minimal answers."""

import json
import uuid
from datetime import timedelta

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from ..core.request import ApiRequest
from .common import (
    SecureApiHttpCase,
    SecureApiTransactionCase,
    internal_user,
    run_threads,
    serve_in_own_transaction,
)


@tagged("post_install", "-at_install")
class TestIdempotency(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"

    def post(self, key, body, **kwargs):
        return self.call(
            "POST",
            self.base,
            token=kwargs.pop("token", self.bearer),
            json=body,
            headers={"Idempotency-Key": key},
            **kwargs,
        )

    def count(self, name):
        return self.env["res.partner"].search_count([("name", "=", name)])

    def test_a_repeat_replays_the_stored_answer_without_running(self):
        first = self.post("order-1", {"name": "Idem Co"})
        second = self.post("order-1", {"name": "Idem Co"})
        self.assertEqual(first.status, 201)
        self.assertEqual((second.status, second.body), (first.status, first.body))
        self.assertEqual(second.headers["Idempotent-Replayed"], "true")
        self.assertNotIn("Idempotent-Replayed", first.headers)
        self.assertEqual(self.count("Idem Co"), 1)

    def test_the_same_key_with_another_request_is_422(self):
        self.post("order-2", {"name": "First"})
        answer = self.post("order-2", {"name": "Second"})
        self.error(answer, 422, "idempotency_key_reused")
        self.assertEqual(self.count("Second"), 0)

    def test_keys_are_scoped_to_the_client_app(self):
        other, _secret = self.make_client("Other", self.api_user)
        self.api_plain.client_ids = [Command.link(other.id)]
        self.post("shared-key", {"name": "Scoped"})
        answer = self.post("shared-key", {"name": "Scoped"}, token=self.issue(other))
        self.assertNotIn("Idempotent-Replayed", answer.headers)
        self.assertEqual(self.count("Scoped"), 2)

    def rows(self):
        return self.env["secure.api.idempotency"].sudo().search_count([])

    def test_4xx_answers_of_the_operation_itself_are_stored_and_replayed(self):
        ref_line = self.api_plain.field_ids.filtered(
            lambda line: line.field_id.name == "ref"
        )
        ref_line.write({"searchable": True, "upsert_key": True, "writable": True})

        def upsert():
            # The record it creates lies outside the API: 422 once it ran.
            return self.call(
                "PUT",
                f"{self.base}/by/ref/HIDDEN",
                token=self.bearer,
                json={"name": "Outside"},
                headers={"Idempotency-Key": "ran-1"},
            )

        first, again = upsert(), upsert()
        self.error(first, 422, "outside_domain")
        self.assertEqual((again.status, again.body), (422, first.body))
        self.assertEqual(again.headers["Idempotent-Replayed"], "true")
        self.assertEqual(self.rows(), 1)

    def test_a_request_refused_before_it_ran_stores_nothing(self):
        refused = {
            "unknown field": {"name": "x", "no_such_field": 1},
            "not an object": ["not", "records"],
            "invalid relation": {"name": "x", "country_id": 2**31 - 1},
        }
        for case, body in refused.items():
            with self.subTest(case=case):
                answer = self.post(f"early-{case}", body)
                self.assertEqual(answer.status, 400, answer.body)
                self.assertEqual(self.rows(), 0)
        stale = self.call(
            "PATCH",
            f"{self.base}/{self.partner.id}",
            token=self.bearer,
            json={"phone": "1"},
            headers={"Idempotency-Key": "early-stale", "If-Match": '"stale"'},
        )
        self.error(stale, 412, "precondition_failed")
        self.assertEqual(self.rows(), 0)

    def test_a_refused_request_retried_with_a_fixed_body_runs(self):
        refused = self.post("fix-me", {"name": "Fixed", "no_such_field": 1})
        self.error(refused, 400)
        fixed = self.post("fix-me", {"name": "Fixed"})
        self.assertEqual(fixed.status, 201, fixed.body)
        self.assertNotIn("Idempotent-Replayed", fixed.headers)
        self.assertEqual(self.count("Fixed"), 1)
        again = self.post("fix-me", {"name": "Fixed"})
        self.assertEqual(again.headers["Idempotent-Replayed"], "true")

    def test_each_client_keeps_its_latest_answers_up_to_the_cap(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.idempotency_max_keys", "3"
        )
        other, _secret = self.make_client("Other", self.api_user)
        self.api_plain.client_ids = [Command.link(other.id)]
        self.post("other-1", {"name": "Other"}, token=self.issue(other))
        for index in range(5):
            self.post(f"capped-{index}", {"name": f"Capped {index}"})
        rows = self.env["secure.api.idempotency"].sudo().search([])
        mine = rows.filtered(lambda row: row.app_id == self.client)
        self.assertEqual(len(mine), 3)
        self.assertEqual(len(rows - mine), 1, "another client's answers stay")
        # The latest keys still replay; the oldest ran and were forgotten.
        latest = self.post("capped-4", {"name": "Capped 4"})
        self.assertEqual(latest.headers["Idempotent-Replayed"], "true")
        oldest = self.post("capped-0", {"name": "Capped 0"})
        self.assertNotIn("Idempotent-Replayed", oldest.headers)

    def test_test_mode_stores_nothing(self):
        self.api_plain.test_mode = True
        self.post("test-mode", {"name": "Rolled back"})
        self.assertFalse(self.env["secure.api.idempotency"].sudo().search_count([]))

    def test_public_apis_take_no_key(self):
        api = self.make_api(
            "test/public-idem",
            obfuscate=False,
            auth_mode="public",
            run_as_user_id=self.api_user.id,
        )
        answer = self.call(
            "POST",
            f"/api/{api.route}",
            json={"name": "Anonymous"},
            headers={"Idempotency-Key": "order-1001"},
        )
        self.error(answer, 400, "idempotency_key_not_supported")

    def test_an_expired_answer_frees_its_key(self):
        self.post("expired", {"name": "First"})
        self.env.cr.execute(
            "UPDATE secure_api_idempotency"
            " SET expires_at = expires_at - interval '2 days'"
        )
        answer = self.post("expired", {"name": "Second"})
        self.assertEqual(answer.status, 201)
        self.assertNotIn("Idempotent-Replayed", answer.headers)

    def test_stored_answers_are_for_administrators_only(self):
        self.post("private", {"name": "Private"})
        manager = self.manager()
        with self.assertRaises(AccessError):
            self.env["secure.api.idempotency"].with_user(manager).search_read([])

    def test_a_malformed_key_is_400(self):
        for key in ("", "x" * 256, "with space", "é"):
            with self.subTest(key=key):
                answer = self.post(key, {"name": "Malformed"})
                self.error(answer, 400, "invalid_idempotency_key")

    def test_expired_answers_are_forgotten_by_the_cron(self):
        self.post("old", {"name": "Old"})
        self.env.cr.execute(
            "UPDATE secure_api_idempotency"
            " SET expires_at = expires_at - interval '2 days'"
        )
        self.assertEqual(self.env["secure.api.idempotency"]._cron_cleanup(), 1)


@tagged("post_install", "-at_install")
class TestConditionalRequests(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.url = f"/api/{self.api_plain.route}/{self.partner.id}"

    def test_read_answers_an_etag_and_304_when_it_matches(self):
        first = self.call("GET", self.url, token=self.bearer)
        tag = first.headers["ETag"]
        self.assertRegex(tag, r'^"[0-9a-f]{32}"$')
        again = self.call(
            "GET", self.url, token=self.bearer, headers={"If-None-Match": tag}
        )
        self.assertEqual((again.status, again.body), (304, None))
        self.assertEqual(again.headers["ETag"], tag)

    def test_the_etag_changes_when_the_record_changes(self):
        tag = self.call("GET", self.url, token=self.bearer).headers["ETag"]
        self.partner.phone = "changed"
        answer = self.call(
            "GET", self.url, token=self.bearer, headers={"If-None-Match": tag}
        )
        self.assertEqual(answer.status, 200)
        self.assertNotEqual(answer.headers["ETag"], tag)

    def test_the_etag_changes_when_exposed_related_data_changes(self):
        tag = self.call("GET", self.url, token=self.bearer).headers["ETag"]
        self.belgium.name = "Belgium (renamed)"
        answer = self.call(
            "GET", self.url, token=self.bearer, headers={"If-None-Match": tag}
        )
        self.assertEqual(answer.status, 200)
        self.assertNotEqual(answer.headers["ETag"], tag)

    def test_a_weak_tag_never_satisfies_if_match(self):
        tag = self.call("GET", self.url, token=self.bearer).headers["ETag"]
        answer = self.call(
            "PATCH",
            self.url,
            token=self.bearer,
            json={"phone": "1"},
            headers={"If-Match": f"W/{tag}"},
        )
        self.error(answer, 412, "precondition_failed")

    def test_if_match_on_a_bulk_request_is_400(self):
        answer = self.call(
            "PATCH",
            f"/api/{self.api_plain.route}",
            token=self.bearer,
            json={"ids": [self.partner.id], "phone": "1"},
            headers={"If-Match": '"x"'},
        )
        self.error(answer, 400, "invalid_precondition")

    def test_a_stale_if_match_is_412_and_writes_nothing(self):
        for method, body in (("PATCH", {"phone": "9"}), ("PUT", {"phone": "9"})):
            with self.subTest(method=method):
                answer = self.call(
                    method,
                    self.url,
                    token=self.bearer,
                    json=body,
                    headers={"If-Match": '"stale"'},
                )
                self.error(answer, 412, "precondition_failed")
                self.assertFalse(self.partner.phone)
        answer = self.call(
            "DELETE", self.url, token=self.bearer, headers={"If-Match": '"stale"'}
        )
        self.error(answer, 412, "precondition_failed")
        self.assertTrue(self.partner.exists())

    def test_the_current_if_match_lets_the_write_through(self):
        tag = self.call("GET", self.url, token=self.bearer).headers["ETag"]
        answer = self.call(
            "PATCH",
            self.url,
            token=self.bearer,
            json={"phone": "42"},
            headers={"If-Match": tag},
        )
        self.assertEqual(self.result(answer)["phone"], "42")


@tagged("post_install", "-at_install")
class TestMinimalAnswers(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"
        self.prefer = {"Prefer": "return=minimal"}

    def test_create_answers_201_with_location_and_the_id(self):
        answer = self.call(
            "POST",
            self.base,
            token=self.bearer,
            json={"name": "Mini"},
            headers=self.prefer,
        )
        new = self.env["res.partner"].search([("name", "=", "Mini")])
        self.assertEqual(self.result(answer, 201), {"id": new.id})
        self.assertEqual(answer.headers["Location"], f"{self.base}/{new.id}")
        self.assertEqual(answer.headers["Preference-Applied"], "return=minimal")

    def test_bulk_create_answers_the_ids(self):
        answer = self.call(
            "POST",
            self.base,
            token=self.bearer,
            json=[{"name": "Mini A"}, {"name": "Mini B"}],
            headers=self.prefer,
        )
        ids = self.result(answer, 201)
        self.assertEqual(len(ids), 2)
        self.assertTrue(all(isinstance(i, int) for i in ids))

    def test_update_answers_204_without_a_body(self):
        answer = self.call(
            "PATCH",
            f"{self.base}/{self.partner.id}",
            token=self.bearer,
            json={"phone": "1"},
            headers=self.prefer,
        )
        self.assertEqual((answer.status, answer.body), (204, None))
        self.assertEqual(answer.headers["Preference-Applied"], "return=minimal")
        self.assertEqual(self.partner.phone, "1")

    def test_prefer_with_parameters_is_understood(self):
        for header in ("return=minimal; foo=bar", 'return="minimal"'):
            with self.subTest(header=header):
                answer = self.call(
                    "PATCH",
                    f"{self.base}/{self.partner.id}",
                    token=self.bearer,
                    json={"phone": "2"},
                    headers={"Prefer": header},
                )
                self.assertEqual(answer.status, 204)

    def test_representation_is_the_default(self):
        answer = self.call(
            "POST",
            self.base,
            token=self.bearer,
            json={"name": "Full"},
            headers={"Prefer": "return=representation"},
        )
        self.assertEqual(self.result(answer, 201)["name"], "Full")
        self.assertNotIn("Preference-Applied", answer.headers)


@tagged("post_install", "-at_install")
class TestUpsert(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        ref_line = self.api_plain.field_ids.filtered(
            lambda line: line.field_id.name == "ref"
        )
        ref_line.write({"searchable": True, "upsert_key": True, "writable": True})
        self.base = f"/api/{self.api_plain.route}/by/ref"

    def test_creates_when_no_record_has_the_key_then_updates_it(self):
        created = self.call(
            "PUT", f"{self.base}/SKU-1", token=self.bearer, json={"name": "Upserted"}
        )
        record = self.result(created, 201)
        self.assertEqual(record["ref"], "SKU-1")
        updated = self.call(
            "PUT", f"{self.base}/SKU-1", token=self.bearer, json={"phone": "7"}
        )
        self.assertEqual(self.result(updated)["id"], record["id"])
        self.assertEqual(
            self.env["res.partner"].search_count([("ref", "=", "SKU-1")]), 1
        )

    def test_several_records_with_the_key_are_409(self):
        self.env["res.partner"].create(
            [{"name": "A", "ref": "DUP"}, {"name": "B", "ref": "DUP"}]
        )
        answer = self.call("PUT", f"{self.base}/DUP", token=self.bearer, json={})
        self.error(answer, 409, "ambiguous_key")

    def test_records_outside_the_api_do_not_count(self):
        answer = self.call(
            "PUT", f"{self.base}/HIDDEN", token=self.bearer, json={"name": "x"}
        )
        # The only record with that key lies outside the forced domain, and a
        # created one would too: refused, nothing written.
        self.error(answer, 422, "outside_domain")
        self.assertEqual(
            self.env["res.partner"].search_count([("ref", "=", "HIDDEN")]), 1
        )

    def test_if_match_without_a_record_is_412(self):
        answer = self.call(
            "PUT",
            f"{self.base}/GONE-1",
            token=self.bearer,
            json={"name": "Recreated"},
            headers={"If-Match": '"abc"'},
        )
        self.error(answer, 412, "precondition_failed")
        self.assertFalse(self.env["res.partner"].search([("ref", "=", "GONE-1")]))

    def test_a_key_that_was_not_utf8_is_400(self):
        answer = self.call(
            "PUT", f"{self.base}/col\ufffd", token=self.bearer, json={"name": "x"}
        )
        self.error(answer, 400, "invalid_value")

    def test_a_field_that_is_not_a_key_is_404(self):
        answer = self.call(
            "PUT", f"/api/{self.api_plain.route}/by/name/x", token=self.bearer, json={}
        )
        self.error(answer, 404, "unknown_key")

    def test_creating_needs_the_create_scope(self):
        token = self.issue(scope="read search update")
        answer = self.call("PUT", f"{self.base}/NEW-1", token=token, json={"name": "n"})
        self.error(answer, 403, "insufficient_scope")


@tagged("post_install", "-at_install")
class TestCursorsAndChanges(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"
        self.env["res.partner"].create(
            [{"name": f"Walk {i:03d}", "ref": "WALK"} for i in range(25)]
        )
        self.domain = '[("name", "=like", "Walk%")]'

    def page(self, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.call("GET", f"{self.base}?{query}", token=self.bearer)

    def walk(self, on_page=None):
        seen, cursor, pages = [], "", 0
        while cursor is not None:
            answer = self.result(self.page(domain=self.domain, limit=10, cursor=cursor))
            seen += [r["id"] for r in answer["records"]]
            cursor = answer["next_cursor"]
            pages += 1
            if on_page:
                on_page(pages)
        return seen

    def test_a_cursor_walk_returns_every_record_once(self):
        seen = self.walk()
        expected = self.env["res.partner"].search([("name", "=like", "Walk%")]).ids
        self.assertEqual(sorted(seen), sorted(expected))
        self.assertEqual(len(seen), len(set(seen)))

    def test_a_walk_sees_every_stable_record_once_while_others_write(self):
        partners = self.env["res.partner"]
        stable = partners.search([("name", "=like", "Walk%")])
        moving = stable[:5]

        def write(page):
            partners.create({"name": f"Walk new {page}"})
            moving[page % 5].phone = str(page)
            partners.search([("name", "=", f"Walk new {page - 1}")]).unlink()

        seen = self.walk(on_page=write)
        self.assertTrue(set(stable.ids) <= set(seen))
        self.assertEqual(len(seen), len(set(seen)))

    def test_every_cursor_page_answers_the_total(self):
        first = self.result(self.page(domain=self.domain, limit=10, cursor=""))
        last = first
        while last["next_cursor"]:
            last = self.result(
                self.page(domain=self.domain, limit=10, cursor=last["next_cursor"])
            )
        self.assertEqual(first["length"], 25)
        self.assertEqual(last["length"], 25)

    def test_changes_come_in_change_order_whatever_the_default_order(self):
        self.api_plain.default_order = "name desc"
        partners = self.env["res.partner"].search([("name", "=like", "Walk%")])
        partners[0].phone = "last change"
        since = (fields.Datetime.now() - timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        answer = self.result(
            self.page(domain=self.domain, changed_since=since, limit=50)
        )
        ids = [r["id"] for r in answer["records"]]
        self.assertEqual(ids, sorted(ids), "same write date: by id, not by name")

    def test_a_forged_or_foreign_cursor_is_400(self):
        first = self.result(self.page(domain=self.domain, limit=5, cursor=""))
        cursor = first["next_cursor"]
        for bad in ("garbage", cursor[:-2] + "xx"):
            with self.subTest(cursor=bad):
                self.error(
                    self.page(domain=self.domain, limit=5, cursor=bad),
                    400,
                    "invalid_cursor",
                )
        other = self.page(domain='[("name", "=", "x")]', limit=5, cursor=cursor)
        self.error(other, 400, "invalid_cursor")

    def test_cursor_with_offset_is_400(self):
        answer = self.page(cursor="", offset=5)
        self.error(answer, 400, "invalid_parameter")

    def test_changed_since_keeps_recent_changes_in_change_order(self):
        partners = self.env["res.partner"].search([("name", "=like", "Walk%")])
        old, recent = partners[:20], partners[20:]
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = write_date - interval '1 day'"
            " WHERE id IN %s",
            [tuple(old.ids)],
        )
        partners.invalidate_recordset()
        since = (fields.Datetime.now() - timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        answer = self.result(
            self.page(domain=self.domain, changed_since=since, limit=50)
        )
        self.assertEqual(sorted(r["id"] for r in answer["records"]), sorted(recent.ids))

    def test_changes_until_is_the_next_changed_since(self):
        since = (fields.Datetime.now() - timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        answer = self.result(self.page(domain=self.domain, changed_since=since))
        until = answer["changes_until"]
        self.assertRegex(until, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
        self.assertGreater(until, since)
        self.assertLessEqual(
            until, fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        )

    def test_a_bad_changed_since_is_400(self):
        for value in ("yesterday", "2024-02-30T00:00:00Z", "2024-01-01T25:00:00Z"):
            with self.subTest(value=value):
                self.error(self.page(changed_since=value), 400, "invalid_parameter")

    def test_estimated_totals_say_which_they_are(self):
        small = self.result(self.page(domain=self.domain, count="estimated"))
        self.assertEqual((small["length"], small["length_is"]), (25, "exact"))
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.estimate_threshold", "1"
        )
        self.env.cr.execute("ANALYZE res_partner")
        large = self.result(self.page(domain=self.domain, count="estimated", limit=5))
        self.assertEqual(large["length_is"], "estimated")
        self.assertIsInstance(large["length"], int)


@tagged("post_install", "-at_install")
class TestConcurrentWrites(TransactionCase):
    """Real concurrent transactions on committed data, as several workers
    and servers on one database would run them.

    The API, client and token are committed by the test and removed after
    it: the threads' own transactions cannot see the test's transaction.
    """

    def setUp(self):
        super().setUp()
        self.tag = uuid.uuid4().hex[:10]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            user = internal_user(
                env, f"Concurrency {self.tag}", f"secure_api_concurrency_{self.tag}"
            )
            field = env["ir.model.fields"]._get
            api_rec = env["secure.api"].create(
                {
                    "name": f"Concurrency {self.tag}",
                    "route": f"test/concurrency-{self.tag}",
                    "model_id": env["ir.model"]._get_id("res.partner"),
                    "obfuscate_ids": False,
                    "allow_create": True,
                    "allow_update": True,
                    "field_ids": [
                        Command.create(
                            {
                                "field_id": field("res.partner", "name").id,
                                "writable": True,
                            }
                        ),
                        Command.create(
                            {
                                "field_id": field("res.partner", "ref").id,
                                "writable": True,
                                "searchable": True,
                                "upsert_key": True,
                            }
                        ),
                    ],
                }
            )
            api_rec.action_publish()
            client = env["secure.api.client"].create(
                {
                    "name": f"Concurrency {self.tag}",
                    "user_id": user.id,
                    "scope_create": True,
                    "scope_update": True,
                    "api_ids": [Command.set(api_rec.ids)],
                }
            )
            self.token = env["secure.api.token"]._issue(
                client._state_dict(), "opaque", client.scope
            )["access_token"]
            self.route, self.ids = api_rec.route, (api_rec.id, client.id, user.id)
        self.addCleanup(self.remove_committed)

    def remove_committed(self):
        api_id, client_id, user_id = self.ids
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["res.partner"].with_context(active_test=False).search(
                [("ref", "=like", f"{self.tag}%")]
            ).unlink()
            env["secure.api"].browse(api_id).unlink()
            env["secure.api.client"].browse(client_id).unlink()
            user = env["res.users"].browse(user_id)
            partner = user.partner_id
            user.unlink()
            partner.unlink()

    def request(self, method, path, body, headers=None):
        return ApiRequest.build(
            method,
            path,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
            body=json.dumps(body).encode(),
            remote_addr="127.0.0.1",
        )

    def count(self, ref):
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM res_partner WHERE ref = %s", [ref])
            return cr.fetchone()[0]

    def test_ten_concurrent_requests_with_one_key_create_one_record(self):
        ref = f"{self.tag}-idem"
        request = self.request(
            "POST", self.route, {"name": "Once", "ref": ref}, {"Idempotency-Key": ref}
        )
        answers = run_threads(
            self.registry,
            10,
            lambda _i: serve_in_own_transaction(self.registry, request),
        )
        statuses = sorted(answer.status for answer in answers)
        self.assertEqual(self.count(ref), 1, statuses)
        self.assertTrue(set(statuses) <= {201, 409}, statuses)
        self.assertIn(201, statuses)
        for answer in answers:
            if answer.status == 409:
                self.assertEqual(
                    answer.body["error"]["data"]["name"], "idempotency_key_in_progress"
                )

    def test_eight_concurrent_upserts_of_a_new_key_create_one_record(self):
        ref = f"{self.tag}-upsert"

        def upsert(index):
            request = self.request(
                "PUT", f"{self.route}/by/ref/{ref}", {"name": f"Upsert {index}"}
            )
            return serve_in_own_transaction(self.registry, request)

        answers = run_threads(self.registry, 8, upsert)
        statuses = sorted(answer.status for answer in answers)
        self.assertEqual(self.count(ref), 1, statuses)
        self.assertEqual(statuses, [200] * 7 + [201], statuses)


@tagged("post_install", "-at_install")
class TestSyncOverHttp(SecureApiHttpCase):
    """The same rules through real HTTP: headers, statuses and bodies as a
    client on the wire sees them."""

    def setUp(self):
        super().setUp()
        self.bearer = self.token()
        self.base = f"/api/{self.api_plain.route}"

    def post(self, key, body):
        return self.request(
            "POST",
            self.base,
            token=self.bearer,
            json_body=body,
            headers={"Idempotency-Key": key},
        )

    def test_a_retried_post_replays_its_answer_and_creates_one_record(self):
        first = self.post("wire-1", {"name": "Wire Idem"})
        second = self.post("wire-1", {"name": "Wire Idem"})
        self.assertEqual(first.status_code, 201)
        self.assertEqual(
            (second.status_code, second.content), (first.status_code, first.content)
        )
        self.assertEqual(second.headers["Idempotent-Replayed"], "true")
        self.assertEqual(
            self.env["res.partner"].search_count([("name", "=", "Wire Idem")]), 1
        )

    def test_a_key_reused_for_another_request_is_422(self):
        self.post("wire-2", {"name": "Wire First"})
        self.error(
            self.post("wire-2", {"name": "Wire Second"}), 422, "idempotency_key_reused"
        )
        self.assertFalse(
            self.env["res.partner"].search_count([("name", "=", "Wire Second")])
        )

    def test_etags_answer_304_and_a_stale_if_match_412(self):
        url = f"{self.base}/{self.partner.id}"
        first = self.request("GET", url, token=self.bearer)
        tag = first.headers["ETag"]
        again = self.request(
            "GET", url, token=self.bearer, headers={"If-None-Match": tag}
        )
        self.assertEqual((again.status_code, again.content), (304, b""))
        changed = self.request(
            "PATCH",
            url,
            token=self.bearer,
            json_body={"phone": "+1 555"},
            headers={"If-Match": tag},
        )
        self.result(changed)
        stale = self.request(
            "PATCH",
            url,
            token=self.bearer,
            json_body={"phone": "+1 666"},
            headers={"If-Match": tag},
        )
        self.error(stale, 412, "precondition_failed")
        self.assertEqual(self.partner.phone, "+1 555")

    def test_upsert_creates_updates_and_refuses_an_ambiguous_key(self):
        self.api_plain.field_ids.filtered(
            lambda line: line.field_id.name == "ref"
        ).write({"searchable": True, "upsert_key": True, "writable": True})
        url = f"{self.base}/by/ref"
        created = self.request(
            "PUT", f"{url}/WIRE-1", token=self.bearer, json_body={"name": "Up"}
        )
        record = self.result(created, 201)
        updated = self.request(
            "PUT", f"{url}/WIRE-1", token=self.bearer, json_body={"phone": "1"}
        )
        self.assertEqual(self.result(updated)["id"], record["id"])
        self.env["res.partner"].create(
            [{"name": "Twin A", "ref": "TWIN"}, {"name": "Twin B", "ref": "TWIN"}]
        )
        ambiguous = self.request(
            "PUT", f"{url}/TWIN", token=self.bearer, json_body={"phone": "2"}
        )
        self.error(ambiguous, 409, "ambiguous_key")

    def test_a_300_record_cursor_walk_sees_each_stable_record_once_under_writes(
        self,
    ):
        partners = self.env["res.partner"]
        stable = partners.create([{"name": f"Wire walk {i:03d}"} for i in range(300)])
        domain = '[("name", "=like", "Wire walk%")]'
        seen, cursor, page = [], "", 0
        while cursor is not None:
            answer = self.result(
                self.request(
                    "GET",
                    f"{self.base}?domain={domain}&limit=50&cursor={cursor}",
                    token=self.bearer,
                )
            )
            seen += [record["id"] for record in answer["records"]]
            cursor = answer["next_cursor"]
            page += 1
            # Another writer, between pages: inserts, updates and deletes.
            partners.create({"name": f"Wire walk new {page}"})
            stable[page * 7].phone = str(page)
            partners.search([("name", "=", f"Wire walk new {page - 1}")]).unlink()
        self.assertGreaterEqual(page, 6)
        self.assertTrue(set(stable.ids) <= set(seen))
        self.assertEqual(len(seen), len(set(seen)))

    def test_changed_since_and_estimated_totals(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Wire change {i}"} for i in range(4)]
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = write_date - interval '2 days'"
            " WHERE id IN %s",
            [tuple(partners[:2].ids)],
        )
        since = (fields.Datetime.now() - timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        domain = '[("name", "=like", "Wire change%")]'
        answer = self.result(
            self.request(
                "GET",
                f"{self.base}?domain={domain}&changed_since={since}",
                token=self.bearer,
            )
        )
        self.assertEqual(
            sorted(r["id"] for r in answer["records"]), sorted(partners[2:].ids)
        )
        self.assertTrue(answer["changes_until"])
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.estimate_threshold", "1"
        )
        self.env.cr.execute("ANALYZE res_partner")
        estimated = self.result(
            self.request(
                "GET", f"{self.base}?count=estimated&limit=2", token=self.bearer
            )
        )
        self.assertEqual(estimated["length_is"], "estimated")
        self.assertIsInstance(estimated["length"], int)
