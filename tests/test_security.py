"""The trust boundary: one test per class of weakness the attack runs found.

Each test names the rule of the contract it pins; most call the pipeline in
process (``self.call``), with real tokens and real database rows.
"""

import base64
import contextlib
import hmac
import json
import re
from unittest.mock import patch
from urllib.parse import urlencode

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..compat import user_groups_field
from ..core import sync
from ..core.hashid import IdCodec
from .common import SecureApiTransactionCase
from .test_webhooks import Receiver

TOKEN = "/api/oauth2/token"


@tagged("post_install", "-at_install")
class TestPrivilege(SecureApiTransactionCase):
    def test_default_expression_cannot_reach_the_environment(self):
        line = self.env["secure.api.default"]
        for expression in (
            "user.env['ir.config_parameter'].get_param('database.secret')",
            "company.env",
            "user.partner_id",
        ):
            with (
                self.subTest(expression=expression),
                self.assertRaises(ValidationError),
            ):
                line.create(
                    {
                        "api_id": self.api_plain.id,
                        "field_id": self.field("res.partner", "ref").id,
                        "expression": expression,
                    }
                )

    def test_default_expression_over_plain_values(self):
        self.env["secure.api.default"].create(
            {
                "api_id": self.api_plain.id,
                "field_id": self.field("res.partner", "ref").id,
                "expression": "'U%s-C%s' % (user.id, user.company_id.id)",
            }
        )
        answer = self.call(
            "POST",
            f"/api/{self.api_plain.route}",
            token=self.issue(),
            json={"name": "Defaulted"},
        )
        self.result(answer, 201)
        created = self.env["res.partner"].search([("name", "=", "Defaulted")])
        self.assertEqual(
            created.ref, f"U{self.api_user.id}-C{self.api_user.company_id.id}"
        )

    def test_only_administrators_edit_what_an_api_runs_and_as_whom(self):
        api = self.api_plain.with_user(self.manager())
        api.write({"name": "Renamed by a manager"})
        for vals in (
            {"domain": "[]"},
            {"run_as_user_id": self.reader_user.id},
            {
                "default_ids": [
                    Command.create(
                        {
                            "field_id": self.field("res.partner", "ref").id,
                            "expression": "'x'",
                        }
                    )
                ]
            },
            {"method_ids": [Command.create({"name": "address_get"})]},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(AccessError):
                api.write(vals)
        default_line = self.env["secure.api.default"].create(
            {
                "api_id": self.api_plain.id,
                "field_id": self.field("res.partner", "ref").id,
                "expression": "'x'",
            }
        )
        with self.assertRaises(AccessError):
            default_line.with_user(api.env.user).write({"expression": "'y'"})
        with self.assertRaises(AccessError):
            self.api_plain.method_ids[:1].with_user(api.env.user).unlink()

    def test_execution_user_made_administrator_stops_its_tokens(self):
        token = self.issue()
        base = f"/api/{self.api_plain.route}"
        self.result(self.call("GET", base, token=token))
        self.api_user.write(
            {
                user_groups_field(self.env): [
                    Command.link(self.env.ref("base.group_system").id)
                ]
            }
        )
        self.error(self.call("GET", base, token=token), 401, "invalid_token")

    def test_execution_user_archived_stops_its_tokens(self):
        token = self.issue()
        self.api_user.active = False
        answer = self.call("GET", f"/api/{self.api_plain.route}", token=token)
        self.error(answer, 401, "invalid_token")

    def test_public_api_stops_when_its_run_as_user_is_archived(self):
        api = self.make_api(
            "test/public-archived",
            obfuscate=False,
            auth_mode="public",
            run_as_user_id=self.reader_user.id,
        )
        self.result(self.call("GET", f"/api/{api.route}?fields=name"))
        self.reader_user.active = False
        unknown = self.call("GET", "/api/no/such/route")
        answer = self.call("GET", f"/api/{api.route}?fields=name")
        self.assertEqual((answer.status, answer.body), (unknown.status, unknown.body))


@tagged("post_install", "-at_install")
class TestTokenLifecycle(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.base = f"/api/{self.api_plain.route}"

    def row(self, token_type):
        return (
            self.env["secure.api.token"]
            .sudo()
            .search([("token_type", "=", token_type)], order="id desc", limit=1)
        )

    def test_revoked_jwt_stays_revoked_when_its_row_is_deleted(self):
        token = self.issue(kind="jwt")
        self.result(self.call("GET", self.base, token=token))
        row = self.row("jwt")
        row.action_revoke()
        row.unlink()
        self.error(self.call("GET", self.base, token=token), 401, "invalid_token")

    def test_deleting_a_token_revokes_it(self):
        for kind in ("opaque", "jwt"):
            with self.subTest(kind=kind):
                token = self.issue(kind=kind)
                self.result(self.call("GET", self.base, token=token))
                self.row(kind).unlink()
                answer = self.call("GET", self.base, token=token)
                self.error(answer, 401, "invalid_token")

    def test_cleanup_keeps_revoked_tokens_until_they_expire(self):
        self.client.token_lifetime = 30 * 86400
        token = self.issue(kind="jwt")
        self.row("jwt").action_revoke()
        tokens = self.env["secure.api.token"].sudo()
        self.env.cr.execute(
            "UPDATE secure_api_token SET revoked_at = revoked_at - interval '20 days'"
        )
        tokens._cron_cleanup()
        self.assertTrue(self.row("jwt"))
        self.error(self.call("GET", self.base, token=token), 401, "invalid_token")

    def test_cleanup_removes_only_what_expired_beyond_the_leeway(self):
        self.issue()
        row = self.row("opaque")
        self.env.cr.execute(
            "UPDATE secure_api_token SET expires_at = (now() AT TIME ZONE 'UTC')"
            " - interval '10 seconds' WHERE id = %s",
            [row.id],
        )
        tokens = self.env["secure.api.token"].sudo()
        tokens._cron_cleanup()
        self.assertTrue(row.exists(), "still within the 30 s leeway")
        self.env.cr.execute(
            "UPDATE secure_api_token SET expires_at = expires_at - interval '1 hour'"
            " WHERE id = %s",
            [row.id],
        )
        tokens._cron_cleanup()
        self.assertFalse(row.exists())

    def test_token_scope_is_intersected_with_the_clients_current_scopes(self):
        for kind in ("opaque", "jwt"):
            with self.subTest(kind=kind):
                self.client.scope_create = True
                token = self.issue(kind=kind)
                self.client.scope_create = False
                answer = self.call("POST", self.base, token=token, json={"name": "x"})
                self.error(answer, 403, "insufficient_scope")

    def test_token_type_no_longer_allowed_stops_working(self):
        opaque, signed = self.issue(kind="opaque"), self.issue(kind="jwt")
        self.client.allow_opaque = False
        self.error(self.call("GET", self.base, token=opaque), 401, "invalid_token")
        self.result(self.call("GET", self.base, token=signed))
        self.client.write({"allow_opaque": True, "allow_jwt": False})
        self.error(self.call("GET", self.base, token=signed), 401, "invalid_token")

    def test_disabled_client_gets_no_token_and_its_tokens_stop(self):
        token = self.issue()
        self.client.active = False
        self.error(self.call("GET", self.base, token=token), 401, "invalid_token")
        answer = self.call(
            "POST",
            TOKEN,
            data={"client_id": self.client.client_id, "client_secret": self.secret},
        )
        self.assertEqual((answer.status, answer.body["error"]), (401, "invalid_client"))

    def test_revocation_clears_no_cache_of_odoo(self):
        registry = type(self.env.registry)
        revoke = {
            "client_id": self.client.client_id,
            "client_secret": self.secret,
        }
        with patch.object(
            registry, "clear_cache", autospec=True, side_effect=registry.clear_cache
        ) as clear_cache:
            for _round in range(5):
                token = self.issue()
                answer = self.call(
                    "POST", "/api/oauth2/revoke", data={**revoke, "token": token}
                )
                self.assertEqual(answer.status, 200)
                self.error(self.call("GET", self.base, token=token), 401)
                self.result(self.call("GET", self.base, token=self.issue()))
        self.assertEqual(clear_cache.call_count, 0)

    def test_unknown_tokens_are_looked_up_not_cached(self):
        for kind, token in (("opaque", "x" * 43), ("jwt", "a.b.c")):
            with self.subTest(kind=kind):
                for _attempt in range(2):
                    answer = self.call("GET", self.base, token=token)
                    self.error(answer, 401, "invalid_token")
        # An unknown client id (a forged JWT's subject) adds no cache entry:
        # the client map is one cached value, read again afterwards.
        clients = self.env["secure.api.client"]
        before = clients._get_client_ids()
        self.assertIsNone(clients._get_client_state("no-such-client"))
        self.assertIs(clients._get_client_ids(), before)


@tagged("post_install", "-at_install")
class TestLockout(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.auth_max_failures", 3
        )
        self.good = {"client_id": self.client.client_id, "client_secret": self.secret}
        self.bad = dict(self.good, client_secret="wrong")

    def post(self, path, data, address):
        return self.call("POST", path, data=data, remote_addr=address)

    def lock_out(self, address):
        for _attempt in range(3):
            self.assertEqual(self.post(TOKEN, self.bad, address).status, 401)
        self.assertEqual(self.post(TOKEN, self.good, address).status, 429)

    def test_the_failing_address_is_locked_out(self):
        self.lock_out("203.0.113.7")
        answer = self.post(TOKEN, self.good, "203.0.113.7")
        self.assertEqual(answer.status, 429)
        self.assertGreater(int(answer.headers["Retry-After"]), 0)

    def test_the_right_secret_from_another_address_is_never_refused(self):
        self.lock_out("203.0.113.7")
        self.assertEqual(self.post(TOKEN, self.good, "198.51.100.2").status, 200)
        self.assertEqual(
            self.post("/api/jwt/token", self.good, "198.51.100.2").status, 200
        )

    def test_revoke_and_introspect_with_valid_credentials_are_never_locked(self):
        token = self.issue()
        self.lock_out("203.0.113.7")
        for path in ("/api/oauth2/introspect", "/api/oauth2/revoke"):
            with self.subTest(path=path):
                answer = self.post(path, dict(self.good, token=token), "203.0.113.7")
                self.assertEqual(answer.status, 200, answer.body)


@tagged("post_install", "-at_install")
class TestRelationalWrites(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        api = self.api_plain
        self.parent_line = self.env["secure.api.field"].create(
            {
                "api_id": api.id,
                "field_id": self.field("res.partner", "parent_id").id,
                "writable": True,
            }
        )
        self.children_line = self.env["secure.api.field"].create(
            {
                "api_id": api.id,
                "field_id": self.field("res.partner", "child_ids").id,
                "writable": True,
            }
        )
        self.company = self.env["res.partner"].create(
            {"name": "Parent Co", "is_company": True}
        )
        self.child = self.env["res.partner"].create(
            {"name": "Child", "parent_id": self.company.id}
        )
        self.url = f"/api/{api.route}/{self.company.id}"

    def test_one2many_is_read_only_unless_lines_are_allowed(self):
        answer = self.call("PATCH", self.url, token=self.bearer, json={"child_ids": []})
        self.error(answer, 400, "readonly_field")
        self.assertEqual(self.child.parent_id, self.company)

    def test_removing_lines_needs_the_delete_operation(self):
        self.children_line.write_lines = True
        self.api_plain.allow_delete = False
        answer = self.call("PATCH", self.url, token=self.bearer, json={"child_ids": []})
        self.error(answer, 403, "delete_not_allowed")
        self.assertEqual(self.child.parent_id, self.company)

    def test_removing_lines_needs_the_delete_scope(self):
        self.children_line.write_lines = True
        token = self.issue(scope="read search update")
        answer = self.call("PATCH", self.url, token=token, json={"child_ids": []})
        self.error(answer, 403, "delete_not_allowed")

    def test_lines_outside_the_api_are_refused_like_missing_ones(self):
        self.children_line.write_lines = True
        hidden = self.call(
            "PATCH",
            self.url,
            token=self.bearer,
            json={"child_ids": [self.child.id, self.hidden.id]},
        )
        missing = self.call(
            "PATCH",
            self.url,
            token=self.bearer,
            json={"child_ids": [self.child.id, 999999999]},
        )
        self.error(hidden, 400, "invalid_id")
        self.assertEqual(hidden.body["error"], missing.body["error"])
        self.assertFalse(self.hidden.parent_id)

    def test_many2one_to_the_api_model_stays_inside_the_domain(self):
        answer = self.call(
            "PATCH",
            f"/api/{self.api_plain.route}/{self.child.id}",
            token=self.bearer,
            json={"parent_id": self.hidden.id},
        )
        self.error(answer, 400, "invalid_id")
        self.assertEqual(self.child.parent_id, self.company)

    def test_related_expansion_cannot_reveal_an_outside_record(self):
        self.parent_line.related_field_ids = [
            Command.set([self.field("res.partner", "email").id])
        ]
        self.hidden.email = "secret@example.com"
        answer = self.call(
            "POST",
            f"/api/{self.api_plain.route}",
            token=self.bearer,
            json={"name": "Sneaky", "parent_id": self.hidden.id},
        )
        self.error(answer, 400, "invalid_id")
        self.assertNotIn("secret@example.com", json.dumps(answer.body))

    def test_groups_restricted_field_is_refused_in_write_answers(self):
        phone = self.env["res.partner"]._fields["phone"]
        with patch.object(phone, "groups", "base.group_system"):
            answer = self.call(
                "POST",
                f"/api/{self.api_plain.route}",
                token=self.bearer,
                json={"name": "Grouped"},
            )
        self.error(answer, 403)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Grouped")]))


@tagged("post_install", "-at_install")
class TestRpcAllowlist(SecureApiTransactionCase):
    def test_generic_orm_methods_cannot_be_whitelisted(self):
        for name in (
            "copy_data",
            "web_save",
            "update",
            "name_create",
            "search_fetch",
            "fetch",
            "web_read_group",
            "default_get",
            "onchange",
            "read",
            "write",
            "_private",
            "_avatar_get_placeholder",
            "no_such_method",
        ):
            with self.subTest(name=name), self.assertRaises(ValidationError):
                self.env["secure.api.method"].create(
                    {"api_id": self.api_plain.id, "name": name}
                )

    def test_a_method_saved_before_the_allowlist_is_refused_at_run_time(self):
        self.env.cr.execute(
            "INSERT INTO secure_api_method"
            " (api_id, name, on_records, response_encoding)"
            " VALUES (%s, 'copy_data', true, 'none')",
            [self.api_plain.id],
        )
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.assertIn(
            "copy_data",
            self.env["secure.api"]._get_spec(self.api_plain.id)["models"][
                "res.partner"
            ]["methods"],
        )
        answer = self.call(
            "POST",
            f"/api/{self.api_plain.route}/{self.partner.id}/copy_data",
            token=self.issue(),
            json={},
        )
        self.error(answer, 404, "unknown_method")

    def test_arguments_of_the_wrong_type_are_400(self):
        answer = self.call(
            "POST",
            f"/api/{self.api_plain.route}/{self.partner.id}/address_get",
            token=self.issue(),
            json={"kwargs": {"adr_pref": 5}},
        )
        self.error(answer, 400, "invalid_arguments")

    def test_obfuscated_rpc_answers_hold_no_raw_id(self):
        api = self.api_obf
        codec = IdCodec(True, api.hashid_salt, "res.partner", api.hashid_min_length)
        pid = codec.encode(self.partner.id)
        answer = self.call(
            "POST", f"/api/{api.route}/{pid}/address_get", token=self.issue(), json={}
        )
        result = self.result(answer)
        self.assertTrue(all(isinstance(v, str) for v in result.values()), result)
        demo = self.env.ref("secure_api.secure_api_partner_demo_method", False)
        if demo:
            self.assertEqual(demo.response_encoding, "manual")


@tagged("post_install", "-at_install")
class TestInputHygiene(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"

    def search(self, domain):
        return self.call("GET", self.base, token=self.bearer, data={"domain": domain})

    def test_unstorable_domain_values_are_400(self):
        for domain in (
            '[("name", "=", "a\\u0000b")]',
            '[("name", "=", "\\ud800")]',
            '[("id", "=", 1e400)]',
            '[("id", "=", 100000000000000000000000)]',
        ):
            with self.subTest(domain=domain):
                self.error(self.search(domain), 400)

    def test_impossible_dates_in_domains_are_400(self):
        line = self.env["secure.api.field"].create(
            {
                "api_id": self.api_plain.id,
                "field_id": self.field("res.partner", "write_date").id,
                "searchable": True,
            }
        )
        self.assertTrue(line)
        for value in ("2024-02-30", "2024-13-45", "2024-01-01 99:99:99"):
            with self.subTest(value=value):
                answer = self.search(f'[("write_date", ">", "{value}")]')
                self.error(answer, 400, "invalid_domain")

    def test_unstorable_body_values_are_400(self):
        for body in (
            b'{"name": "a\\u0000b"}',
            b'{"name": "\\udc80"}',
            b'{"name": "x", "phone": "\\ud800"}',
            b'[{"name": "ok"}, {"name": "\\u0000"}]',
        ):
            with self.subTest(body=body):
                answer = self.call(
                    "POST",
                    self.base,
                    token=self.bearer,
                    raw=body,
                    headers={"Content-Type": "application/json"},
                )
                self.error(answer, 400)

    def test_unstorable_query_parameters_are_400(self):
        answer = self.call("GET", f"{self.base}?fields=name%00", token=self.bearer)
        self.error(answer, 400)

    def test_unstorable_credentials_are_refused_without_a_500(self):
        for client_id in ("a\x00b", "\udc80"):
            with self.subTest(client_id=repr(client_id)):
                answer = self.call(
                    "POST",
                    TOKEN,
                    raw=json.dumps({"client_id": client_id, "client_secret": "x"}),
                    headers={"Content-Type": "application/json"},
                )
                self.assertIn(answer.status, (400, 401), answer.body)
                self.assertIn(
                    answer.body["error"], ("invalid_request", "invalid_client")
                )

    def test_jwt_with_an_unstorable_subject_is_401(self):
        import jwt

        forged = jwt.encode({"sub": "a\x00b"}, "k" * 32, algorithm="HS256")
        answer = self.call("GET", self.base, token=forged)
        self.error(answer, 401, "invalid_token")

    def test_token_parameter_of_revoke_is_checked(self):
        answer = self.call(
            "POST",
            "/api/oauth2/revoke",
            raw=json.dumps(
                {
                    "client_id": self.client.client_id,
                    "client_secret": self.secret,
                    "token": "\ud800",
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(answer.status, 400, answer.body)

    def test_session_writes_need_a_json_content_type(self):
        answer = self.call(
            "POST",
            self.base,
            raw=b'{"name": "Plain text CSRF"}',
            headers={"Content-Type": "text/plain"},
            session_uid=self.api_user.id,
        )
        self.error(answer, 403, "csrf")
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "Plain text CSRF")])
        )


@tagged("post_install", "-at_install")
class TestSecondAttackRun(SecureApiTransactionCase):
    """What an independent attack run over HTTP found in the first fix."""

    def test_a_token_row_can_only_be_revoked(self):
        self.issue()
        row = self.env["secure.api.token"].sudo().search([], order="id desc", limit=1)
        row.action_revoke()
        row = row.with_user(self.env.ref("base.user_admin")).sudo(False)
        for vals in (
            {"revoked": False},
            {"expires_at": "2099-01-01 00:00:00"},
            {"scope": "create read update delete search rpc"},
            {"app_id": self.reader_client.id},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(UserError):
                row.write(vals)

    def test_only_administrators_choose_execution_users(self):
        manager = self.manager()
        clients = self.env["secure.api.client"].with_user(manager)
        with self.assertRaises(AccessError):
            clients.create({"name": "Mallory app", "user_id": self.api_user.id})
        with self.assertRaises(AccessError):
            self.client.with_user(manager).write({"user_id": self.reader_user.id})
        self.client.with_user(manager).write({"name": "Renamed app"})

    def test_one2many_cannot_move_records_of_the_api_out_of_it(self):
        api = self.make_api(
            "test/top", obfuscate=False, domain="[('parent_id', '=', False)]"
        )
        api.client_ids = [Command.set([self.client.id])]
        self.env["secure.api.field"].create(
            {
                "api_id": api.id,
                "field_id": self.field("res.partner", "child_ids").id,
                "writable": True,
                "write_lines": True,
            }
        )
        top, other = self.env["res.partner"].create(
            [{"name": "Top P", "is_company": True}, {"name": "Top D"}]
        )
        answer = self.call(
            "PATCH",
            f"/api/{api.route}/{top.id}",
            token=self.issue(),
            json={"child_ids": [other.id]},
        )
        self.error(answer, 422, "outside_domain")
        self.assertFalse(other.parent_id)

    def test_one2many_cannot_take_lines_from_records_outside_the_api(self):
        self.env["secure.api.field"].create(
            {
                "api_id": self.api_plain.id,
                "field_id": self.field("res.partner", "child_ids").id,
                "writable": True,
                "write_lines": True,
            }
        )
        company = self.env["res.partner"].create({"name": "Co", "is_company": True})
        taken = self.env["res.partner"].create(
            {"name": "Child of hidden", "parent_id": self.hidden.id}
        )
        answer = self.call(
            "PATCH",
            f"/api/{self.api_plain.route}/{company.id}",
            token=self.issue(),
            json={"child_ids": [taken.id]},
        )
        self.error(answer, 400, "invalid_id")
        self.assertEqual(taken.parent_id, self.hidden)

    def test_rpc_answers_keyed_by_the_client_hold_no_raw_id(self):
        api = self.api_obf
        codec = IdCodec(True, api.hashid_salt, "res.partner", api.hashid_min_length)
        answer = self.call(
            "POST",
            f"/api/{api.route}/{codec.encode(self.partner.id)}/address_get",
            token=self.issue(),
            json={"args": [["invoice", "zzz", "other"]]},
        )
        result = self.result(answer)
        self.assertTrue({"invoice", "zzz", "other"} <= set(result), result)
        self.assertTrue(all(isinstance(v, str) for v in result.values()), result)

    def test_huge_floats_are_400_not_500(self):
        self.env["secure.api.field"].create(
            {
                "api_id": self.api_plain.id,
                "field_id": self.field("res.partner", "partner_latitude").id,
                "writable": True,
                "searchable": True,
            }
        )
        base = f"/api/{self.api_plain.route}"
        token = self.issue()
        answer = self.call(
            "GET",
            base,
            token=token,
            data={"domain": '[("partner_latitude", "=", 1e308)]'},
        )
        self.error(answer, 400)
        answer = self.call(
            "POST", base, token=token, json={"name": "Far", "partner_latitude": 1e308}
        )
        self.error(answer, 400)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Far")]))

    def test_unknown_methods_and_the_bare_prefix_answer_json(self):
        for method, path in (
            ("TRACE", f"/api/{self.api_plain.route}/1"),
            ("PROPFIND", f"/api/{self.api_plain.route}"),
        ):
            with self.subTest(method=method):
                self.error(self.call(method, path, token=self.issue()), 405)
        self.error(self.call("GET", "/api/"), 404, "unknown_route")

    def test_head_is_a_read(self):
        answer = self.call(
            "HEAD", f"/api/{self.api_plain.route}/{self.partner.id}", token=self.issue()
        )
        self.assertEqual(answer.status, 200)

    def test_session_writes_from_a_non_web_origin_are_refused(self):
        answer = self.call(
            "POST",
            f"/api/{self.api_plain.route}",
            json={"name": "Evil scheme"},
            headers={"Origin": "evil://localhost"},
            session_uid=self.api_user.id,
        )
        self.error(answer, 403, "csrf")

    def test_a_wildcard_cors_answer_varies_by_origin(self):
        self.api_plain.write(
            {"cors_enabled": True, "cors_origins": "https://good.example\n*"}
        )
        answer = self.call(
            "GET",
            f"/api/{self.api_plain.route}",
            token=self.issue(),
            headers={"Origin": "https://other.example"},
        )
        self.assertEqual(answer.headers["Access-Control-Allow-Origin"], "*")
        self.assertEqual(answer.headers["Vary"], "Origin")


@tagged("post_install", "-at_install")
class TestNoRawIdLeavesAnObfuscatedApi(SecureApiTransactionCase):
    """Where an API obfuscates ids, no channel by which data leaves shows a
    database id: answers, headers, cursors, errors, replays, webhooks.

    The partners of these tests get ids in a range no other number of an
    answer falls in (735,000,000 to 735,009,999), so the text of one, found
    anywhere, is a leak.
    """

    FIRST_ID = 735_000_000
    RAW_ID = re.compile(r"(?<![0-9])73500[0-9]{4}(?![0-9])")

    def setUp(self):
        super().setUp()
        cr = self.env.cr
        cr.execute("SELECT last_value FROM res_partner_id_seq")
        last = cr.fetchone()[0]
        # Sequences ignore rollbacks: put it back after the test.
        cr.execute("SELECT setval('res_partner_id_seq', %s)", [self.FIRST_ID])
        self.addCleanup(cr.execute, "SELECT setval('res_partner_id_seq', %s)", [last])
        partners = self.env["res.partner"]
        self.company = partners.create(
            {"name": "Leak Co", "is_company": True, "ref": "LEAK"}
        )
        self.contacts = partners.create(
            [
                {"name": f"Leak contact {i}", "parent_id": self.company.id}
                for i in range(3)
            ]
            + [
                {
                    "name": "Leak invoice",
                    "parent_id": self.company.id,
                    "type": "invoice",
                }
            ]
        )
        self.assertTrue(self.RAW_ID.fullmatch(str(self.contacts[-1].id)))
        self.api = self.api_obf
        self.base = f"/api/{self.api.route}"
        self.bearer = self.issue()
        self.domain = json.dumps([["name", "=like", "Leak%"]])

    def hid(self, record):
        return self.ids(self.api, record)

    def assertNoRawId(self, *answers):
        for answer in answers:
            text = json.dumps(
                [answer.status, dict(answer.headers), answer.body], default=str
            )
            self.assertIsNone(self.RAW_ID.search(text), text)

    def get(self, **params):
        return self.call("GET", f"{self.base}?{urlencode(params)}", token=self.bearer)

    def walk(self, limit=1):
        """Every page of a cursor walk over the Leak partners."""
        pages, cursor = [], ""
        while cursor is not None:
            answer = self.get(domain=self.domain, limit=limit, cursor=cursor)
            pages.append(answer)
            cursor = self.result(answer)["next_cursor"]
        return pages

    @staticmethod
    def readable(text):
        """What anyone can read of a token: its parts, base64-decoded."""
        out = [text]
        for part in text.split("."):
            with contextlib.suppress(ValueError):
                out.append(
                    base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode(
                        "latin-1"
                    )
                )
        return " ".join(out)

    def test_cursors_hold_no_raw_id(self):
        pages = self.walk()
        self.assertEqual(len(pages), 5)
        self.assertNoRawId(*pages)
        for page in pages[:-1]:
            cursor = page.body["result"]["next_cursor"]
            self.assertIsNone(self.RAW_ID.search(self.readable(cursor)), cursor)

    def test_an_obfuscated_cursor_walk_returns_every_record_once(self):
        seen = [
            record["id"]
            for page in self.walk(limit=2)
            for record in page.body["result"]["records"]
        ]
        expected = [self.hid(p) for p in (self.company | self.contacts).sorted("id")]
        self.assertEqual(seen, expected)

    def test_cursors_are_signed_with_a_key_no_manager_can_read(self):
        manager = self.manager()
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(manager).get_param(
                "database.secret"
            )
        # What a Secure API Manager can read of the API.
        readable = self.api.with_user(manager).read(["hashid_salt", "route", "name"])[0]
        binding = sync.query_binding(self.api.id, "res.partner", self.domain, None)
        target = self.contacts[0]

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        for key in (readable["hashid_salt"], readable["route"], ""):
            for position in (target.id, self.hid(target)):
                for version in (1, 2):
                    payload = json.dumps(
                        [version, binding, position], separators=(",", ":")
                    ).encode()
                    signature = hmac.new(key.encode(), payload, "sha256").digest()
                    forged = b64(payload) + "." + b64(signature[:16])
                    with self.subTest(key=key, position=position, version=version):
                        answer = self.get(domain=self.domain, limit=1, cursor=forged)
                        self.error(answer, 400, "invalid_cursor")

    def test_etags_hold_no_raw_id(self):
        path = f"{self.base}/{self.hid(self.company)}"
        read = self.call("GET", path, token=self.bearer)
        tag = read.headers["ETag"]
        written = self.call(
            "PATCH",
            path,
            token=self.bearer,
            json={"phone": "1"},
            headers={"If-Match": tag},
        )
        stale = self.call(
            "PATCH",
            path,
            token=self.bearer,
            json={"phone": "2"},
            headers={"If-Match": tag},
        )
        self.result(written)
        self.error(stale, 412, "precondition_failed")
        self.assertNoRawId(read, written, stale)
        self.assertIsNone(self.RAW_ID.search(self.readable(tag.strip('"'))))

    def test_locations_hold_no_raw_id(self):
        ref_line = self.api.field_ids.filtered(lambda line: line.field_id.name == "ref")
        ref_line.write({"searchable": True, "upsert_key": True, "writable": True})
        minimal = {"Prefer": "return=minimal"}
        answers = [
            self.call("POST", self.base, token=self.bearer, json={"name": "Leak new"}),
            self.call(
                "POST",
                self.base,
                token=self.bearer,
                json={"name": "Leak min"},
                headers=minimal,
            ),
            self.call(
                "PUT",
                f"{self.base}/by/ref/LEAK-NEW",
                token=self.bearer,
                json={"name": "Leak upserted"},
            ),
        ]
        for answer in answers:
            self.assertIn("Location", answer.headers)
        self.assertNoRawId(*answers)

    def test_error_answers_hold_no_raw_id(self):
        ref_line = self.api.field_ids.filtered(lambda line: line.field_id.name == "ref")
        ref_line.write({"searchable": True, "upsert_key": True, "writable": True})
        self.contacts[0].ref = "LEAK"  # two records with one key
        gone = self.env["res.partner"].create({"name": "Leak gone"})
        gone_id = self.hid(gone)
        gone.unlink()
        hidden = self.env["res.partner"].create(
            {"name": "Leak hidden", "ref": "HIDDEN"}
        )
        token = self.bearer
        answers = {
            "bulk update, a missing id": self.call(
                "PATCH",
                self.base,
                token=token,
                json=[{"id": self.hid(self.company), "phone": "1"}, {"id": gone_id}],
            ),
            "bulk update by ids, a hidden one": self.call(
                "PATCH",
                self.base,
                token=token,
                json={"ids": [self.hid(self.company), self.hid(hidden)], "phone": "1"},
            ),
            "bulk delete, a missing id": self.call(
                "DELETE", self.base, token=token, json={"ids": [gone_id]}
            ),
            "a relation outside the API": self.call(
                "POST",
                self.base,
                token=token,
                json=[{"name": "Leak a"}, {"name": "Leak b", "country_id": gone_id}],
            ),
            "an ambiguous upsert": self.call(
                "PUT", f"{self.base}/by/ref/LEAK", token=token, json={}
            ),
            "an upsert outside the API": self.call(
                "PUT", f"{self.base}/by/ref/HIDDEN", token=token, json={"name": "x"}
            ),
            "an unknown record": self.call(
                "GET", f"{self.base}/{gone_id}", token=token
            ),
            "a hidden record": self.call(
                "GET", f"{self.base}/{self.hid(hidden)}", token=token
            ),
        }
        for case, answer in answers.items():
            with self.subTest(case=case):
                self.assertGreaterEqual(answer.status, 400, answer.body)
                self.assertNoRawId(answer)

    def test_idempotent_answers_and_replays_hold_no_raw_id(self):
        answers = []
        for _attempt in range(2):
            answers.append(
                self.call(
                    "POST",
                    self.base,
                    token=self.bearer,
                    json=[{"name": "Leak idem 1"}, {"name": "Leak idem 2"}],
                    headers={"Idempotency-Key": "leak-1"},
                )
            )
            answers.append(
                self.call(
                    "DELETE",
                    f"{self.base}/{self.hid(self.contacts[2])}",
                    token=self.bearer,
                    headers={"Idempotency-Key": "leak-2"},
                )
            )
        self.assertEqual(answers[-1].headers.get("Idempotent-Replayed"), "true")
        self.assertNoRawId(*answers)
        stored = self.env["secure.api.idempotency"].sudo().search([])
        self.assertIsNone(
            self.RAW_ID.search(json.dumps(stored.read(["headers", "body"]))),
        )

    def test_search_read_and_rpc_answers_hold_no_raw_id(self):
        company = self.hid(self.company)
        answers = [
            self.get(domain=self.domain, count="exact"),
            self.get(domain=json.dumps([["id", "=", company]])),
            self.call("GET", f"{self.base}/{company}", token=self.bearer),
            self.call(
                "POST", f"{self.base}/{company}/address_get", token=self.bearer, json={}
            ),
            self.call(
                "POST",
                f"{self.base}/find_or_create",
                token=self.bearer,
                json={"args": ["leak@example.com"]},
            ),
            self.call("HEAD", f"{self.base}/{company}", token=self.bearer),
            self.call("OPTIONS", self.base, token=self.bearer),
        ]
        self.assertNoRawId(*answers)

    def test_webhook_payloads_hold_no_raw_id(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.webhook_allow_private", "1"
        )
        receiver = Receiver()
        self.addCleanup(receiver.close)
        hook = self.env["secure.api.webhook"].create(
            {"api_id": self.api.id, "url": receiver.url, "user_id": self.api_user.id}
        )
        self.addCleanup(hook._unregister_hook)
        partner = self.env["res.partner"].create({"name": "Leak hooked"})
        partner.phone = "5"
        self.env["secure.api.webhook"]._cron_deliver()
        partner.unlink()
        self.env["secure.api.webhook"]._cron_deliver()
        self.assertEqual(len(receiver.received), 3)
        for headers, body in receiver.received:
            text = json.dumps([headers, body.decode()])
            self.assertIsNone(self.RAW_ID.search(text), text)
