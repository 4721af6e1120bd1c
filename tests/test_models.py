import threading
from datetime import timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, TransactionCase, tagged
from odoo.tools import mute_logger

from ..compat import user_groups_field
from .common import SecureApiTransactionCase


@tagged("post_install", "-at_install")
class TestSecureApiModels(SecureApiTransactionCase):
    def new_api(self, route, **values):
        vals = {
            "name": "New",
            "route": route,
            "model_id": self.env["ir.model"]._get_id("res.partner"),
        }
        vals.update(values)
        return self.env["secure.api"].create(vals)

    def test_route_constraints(self):
        with self.assertRaises(ValidationError):
            self.new_api("Bad Route")
        for route in ("/lead", "trail/", "a//b", "a b", "UPPER"):
            with self.assertRaises(ValidationError, msg=route):
                self.new_api(route)
        for prefix in (
            "web",
            "website",
            "longpolling",
            "xmlrpc",
            "jsonrpc",
            "json",
            "odoo",
        ):
            with self.assertRaises(ValidationError, msg=prefix):
                self.new_api(f"{prefix}/partners")
        self.new_api("ok/partners-2")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.new_api("ok/partners-2")

    def test_limits_constraints(self):
        for values in (
            {"default_limit": 0},
            {"max_limit": 0},
            {"hashid_min_length": 99},
        ):
            with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
                with self.env.cr.savepoint():
                    self.new_api("limits/x", **values)
        with self.assertRaises(ValidationError):
            self.new_api("limits/y", default_limit=100, max_limit=50)

    def test_publish_needs_fields_and_generates_endpoints(self):
        api = self.new_api("no/fields")
        with self.assertRaises(UserError):
            api.action_publish()
        self.assertEqual(api.state, "draft")
        api.field_ids = [
            Command.create({"field_id": self.field("res.partner", "name").id})
        ]
        api.write({"allow_create": True, "allow_delete": False})
        api.action_publish()
        self.assertEqual(api.state, "active")
        endpoints = api.with_context(active_test=False).endpoint_ids
        self.assertEqual(
            sorted(endpoints.mapped("operation")), ["create", "read", "search"]
        )
        read = endpoints.filtered(lambda e: e.operation == "read")
        self.assertEqual((read.http_method, read.path), ("GET", "/api/no/fields/{id}"))
        read.active = False
        api.write({"allow_delete": True, "allow_create": False})
        endpoints = api.with_context(active_test=False).endpoint_ids
        self.assertEqual(
            sorted(endpoints.mapped("operation")), ["delete", "read", "search"]
        )
        self.assertFalse(
            endpoints.filtered(lambda e: e.operation == "read").active, "toggle kept"
        )
        with self.assertRaises(ValidationError):
            api.field_ids = [Command.clear()]
        api.action_deactivate()
        self.assertEqual(api.state, "inactive")
        api.action_reset_to_draft()
        self.assertEqual(api.state, "draft")

    def test_run_as_and_client_users_never_admins(self):
        for user in (self.env.ref("base.user_root"), self.env.ref("base.user_admin")):
            with self.assertRaises(ValidationError):
                self.new_api("public/x", auth_mode="public", run_as_user_id=user.id)
            with self.assertRaises(ValidationError):
                self.env["secure.api.client"].create({"name": "x", "user_id": user.id})
        with self.assertRaises(ValidationError):
            self.new_api("public/y", auth_mode="public")
        api = self.new_api(
            "public/z", auth_mode="public", run_as_user_id=self.reader_user.id
        )
        self.assertEqual(api.run_as_user_id, self.reader_user)

    def test_forced_domain_validated(self):
        for domain in (
            "[('nope', '=', 1)]",
            "['|', ('name', '=', 1)]",
            "not a domain",
            "[(1,",
        ):
            with self.assertRaises(ValidationError, msg=domain):
                self.new_api("dom/x", domain=domain)
        self.new_api("dom/y", domain="[('parent_id.name', '!=', False)]")

    def test_field_line_constraints(self):
        api = self.api_plain
        with self.assertRaises(ValidationError):  # alias used twice
            api.field_ids = [
                Command.create(
                    {"field_id": self.field("res.partner", "phone").id, "alias": "mail"}
                )
            ]
        with self.assertRaises(ValidationError):  # read-only field made writable
            api.field_ids = [
                Command.create(
                    {
                        "field_id": self.field("res.partner", "display_name").id,
                        "writable": True,
                    }
                )
            ]
        with self.assertRaises(ValidationError):  # field of another model
            api.field_ids = [
                Command.create({"field_id": self.field("res.country", "code").id})
            ]
        with self.assertRaises(ValidationError):  # bad alias
            api.field_ids = [
                Command.create(
                    {"field_id": self.field("res.partner", "city").id, "alias": "a b"}
                )
            ]
        with self.assertRaises(ValidationError):  # related field not on the comodel
            api.field_ids = [
                Command.create(
                    {
                        "field_id": self.field("res.partner", "parent_id").id,
                        "related_field_ids": [
                            Command.set([self.field("res.country", "code").id])
                        ],
                    }
                )
            ]

    def test_method_whitelist(self):
        for name in (
            "unlink",
            "write",
            "sudo",
            "_private",
            "with_user",
            "no_such_method",
            "Bad",
        ):
            with self.assertRaises(ValidationError, msg=name):
                self.env["secure.api.method"].create(
                    {"api_id": self.api_plain.id, "name": name}
                )

    def test_default_expression_checked(self):
        with self.assertRaises(ValidationError):
            self.env["secure.api.default"].create(
                {
                    "api_id": self.api_plain.id,
                    "field_id": self.field("res.partner", "ref").id,
                    "expression": "1 +",
                }
            )

    def test_secret_hashed_and_shown_once(self):
        client = self.env["secure.api.client"].create(
            {"name": "App", "user_id": self.api_user.id}
        )
        self.assertFalse(client.has_secret)
        action = client.with_context(
            secure_api_show_secret=True
        ).action_generate_secret()
        secret = action["context"]["default_client_secret"]
        self.assertEqual(action["res_model"], "secure.api.client.secret.show")
        self.assertGreaterEqual(len(secret), 43)
        stored = client.sudo().client_secret_hash
        self.assertTrue(stored.startswith("$pbkdf2-sha256$"))
        self.assertNotIn(secret, stored)
        self.assertTrue(client.has_secret)
        # Never readable through the ORM, not even by a manager.
        manager = client.with_user(self.env.ref("base.user_admin"))
        self.assertEqual(manager.name, "App")
        with self.assertRaises(AccessError):
            manager.read(["client_secret_hash"])
        with self.assertRaises(AccessError):
            manager.read(["jwt_key"])
        # The dialog model is abstract: the secret is stored nowhere in clear.
        self.assertFalse(self.env["secure.api.client.secret.show"]._auto)
        self.env.cr.execute(
            "SELECT count(*) FROM secure_api_client WHERE client_secret_hash = %s",
            [secret],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        new_secret = client.action_generate_secret()
        self.assertNotEqual(new_secret, secret)
        self.assertNotEqual(client.sudo().client_secret_hash, stored)

    def test_salt_for_managers_only(self):
        user = self.env["res.users"].create(
            {
                "name": "API viewer",
                "login": "secure_api_viewer",
                user_groups_field(self.env): [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref("secure_api.group_secure_api_user").id,
                        ]
                    )
                ],
            }
        )
        api = self.api_obf.with_user(user)
        self.assertEqual(api.name, self.api_obf.name)
        with self.assertRaises(AccessError):
            api.read(["hashid_salt"])
        with self.assertRaises(AccessError):
            api.write({"name": "nope"})
        self.assertTrue(self.api_obf.hashid_salt)

    def test_client_id_unique(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env["secure.api.client"].create(
                    {
                        "name": "Dup",
                        "user_id": self.api_user.id,
                        "client_id": self.client.client_id,
                    }
                )

    def test_an_api_manager_picks_models_and_fields(self):
        # A Secure API Manager who is no settings administrator configures
        # an API through the pickers: models and fields must be readable.
        manager = self.manager()
        models_ = self.env["ir.model"].with_user(manager)
        model = models_.name_search("Contact", [("model", "=", "res.partner")])
        self.assertTrue(model)
        picker = (
            self.env["ir.model.fields"]
            .with_user(manager)
            .with_context(secure_api_technical_names=True)
        )
        found = picker.name_search("email", [("model", "=", "res.partner")])
        self.assertIn("Email (email)", [name for _id, name in found])
        api = (
            self.env["secure.api"]
            .with_user(manager)
            .create(
                {
                    "name": "Manager's API",
                    "route": "test/managers",
                    "model_id": model[0][0],
                    "field_ids": [Command.create({"field_id": found[0][0]})],
                }
            )
        )
        self.assertEqual(api.field_ids.field_id.name, "email")

    def test_jwts_are_told_apart_in_the_token_list(self):
        # Every JWT starts with the same encoded header: the list shows the
        # start of its jti instead, which the token itself carries.
        token_model = self.env["secure.api.token"].sudo()
        state = self.client.sudo()._state_dict()
        for _index in range(2):
            token_model._issue(state, "jwt", "read")
        tokens = token_model.search(
            [("app_id", "=", self.client.id), ("token_type", "=", "jwt")]
        )
        self.assertEqual(len(set(tokens.mapped("token_prefix"))), 2)
        for token in tokens:
            self.assertEqual(token.token_prefix, f"jti:{token.jti[:8]}")

    def test_token_state_over_time(self):
        token_model = self.env["secure.api.token"].sudo()
        body = token_model._issue(self.client.sudo()._state_dict(), "opaque", "read")
        token = token_model.search(
            [("app_id", "=", self.client.id)], limit=1, order="id desc"
        )
        self.assertEqual(token.state, "active")
        self.assertEqual(token.token_prefix, body["access_token"][:8])
        self.assertNotEqual(token.sudo().token_hash, body["access_token"])
        with self.assertRaises(AccessError):
            token.with_user(self.env.ref("base.user_admin")).read(["token_hash"])
        later = fields.Datetime.now() + timedelta(
            seconds=self.client.token_lifetime + 5
        )
        with freeze_time(later):
            self.assertEqual(token_model._cron_update_state(), 1)
        self.assertEqual(token.state, "expired")
        body = token_model._issue(self.client.sudo()._state_dict(), "opaque", "read")
        other = token_model.search(
            [("app_id", "=", self.client.id), ("state", "=", "active")]
        )
        self.assertEqual(len(other), 1)
        other.action_revoke()
        self.assertEqual(other.state, "revoked")
        self.assertTrue(other.revoked_at)
        with freeze_time(fields.Datetime.now() + timedelta(days=30)):
            self.assertGreaterEqual(token_model._cron_cleanup(), 2)
        self.assertFalse(token.exists())

    def test_route_cache_follows_lifecycle(self):
        route_map = self.env["secure.api"]._get_route_map()
        self.assertEqual(route_map.get("test/plain"), self.api_plain.id)
        self.api_plain.action_deactivate()
        self.assertNotIn("test/plain", self.env["secure.api"]._get_route_map())
        self.assertIsNone(self.env["secure.api"]._get_spec(self.api_plain.id))
        self.api_plain.action_publish()
        self.assertIn("test/plain", self.env["secure.api"]._get_route_map())
        spec = self.env["secure.api"]._get_spec(self.api_plain.id)
        self.assertEqual(
            [f["alias"] for f in spec["models"]["res.partner"]["fields"]][:2],
            ["name", "mail"],
        )
        self.api_plain.field_ids[:1].alias = "label"
        spec = self.env["secure.api"]._get_spec(self.api_plain.id)
        self.assertEqual(spec["models"]["res.partner"]["fields"][0]["alias"], "label")

    def test_statistics_from_two_threads_add_up(self):
        stat_model = self.env["secure.api.statistic"]
        endpoint = self.api_plain.endpoint_ids.filtered(
            lambda e: e.operation == "search"
        )
        stat_model._flush_buffer()
        # Calls other tests left in the process-wide buffer are flushed by
        # now: start from no row.
        domain = [("api_id", "=", self.api_plain.id), ("endpoint_id", "=", endpoint.id)]
        stat_model.search(domain).unlink()
        per_thread = 500

        def work():
            for index in range(per_thread):
                stat_model._record_call(
                    self.api_plain.id, endpoint.id, self.client.id, 2.0, index % 10 == 0
                )

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(stat_model._flush_buffer(), 2 * per_thread)
        stats = stat_model.search(domain)
        self.assertEqual(sum(stats.mapped("calls")), 2 * per_thread)
        self.assertEqual(sum(stats.mapped("errors")), 2 * per_thread // 10)
        self.assertAlmostEqual(stats[0].duration_avg_ms, 2.0)
        # A second flush adds to the same hour bucket instead of conflicting.
        stat_model._record_call(
            self.api_plain.id, endpoint.id, self.client.id, 4.0, False
        )
        self.assertEqual(stat_model._flush_buffer(), 1)
        stats = stat_model.search(
            [("api_id", "=", self.api_plain.id), ("endpoint_id", "=", endpoint.id)]
        )
        self.assertEqual(sum(stats.mapped("calls")), 2 * per_thread + 1)

    def test_statistics_of_a_deleted_client_app_or_endpoint_are_dropped(self):
        stat_model = self.env["secure.api.statistic"]
        stat_model._flush_buffer()
        # Calls other tests left in the process-wide buffer: out of the way.
        stat_model.search([("api_id", "=", self.api_plain.id)]).unlink()
        app, _secret = self.make_client("Short-lived", self.api_user)
        endpoint = self.api_plain.endpoint_ids.filtered(
            lambda e: e.operation == "search"
        )
        read = self.api_plain.endpoint_ids.filtered(lambda e: e.operation == "read")
        stat_model._record_call(self.api_plain.id, endpoint.id, app.id, 3.0, False)
        stat_model._record_call(self.api_plain.id, read.id, False, 3.0, False)
        stat_model._record_call(self.api_plain.id, endpoint.id, False, 5.0, False)
        app.unlink()
        read.unlink()
        # Neither a foreign-key error nor counters kept for what is gone.
        self.assertEqual(stat_model._flush_buffer(), 1)
        stats = stat_model.search([("api_id", "=", self.api_plain.id)])
        self.assertEqual(stats.endpoint_id, endpoint)
        self.assertFalse(stats.app_id)

    def test_live_test_wizard_starts_as_a_client_of_the_api(self):
        wizard = Form(
            self.env["secure.api.test.wizard"].with_context(
                default_api_id=self.api_plain.id
            )
        )
        self.assertEqual(wizard.auth_type, "app")
        self.assertIn(wizard.app_id, self.api_plain.client_ids)
        self.assertEqual(wizard.endpoint_id.api_id, self.api_plain)

    def test_live_test_wizard_curl_runs_as_shown(self):
        # The query belongs to the operations that show it; the token
        # variable expands when the line is pasted into a shell.
        endpoints = self.api_plain.endpoint_ids
        wizard = self.env["secure.api.test.wizard"].create(
            {
                "api_id": self.api_plain.id,
                "endpoint_id": endpoints.filtered(lambda e: e.operation == "search").id,
                "auth_type": "app",
                "app_id": self.client.id,
                "query": "limit=2",
            }
        )
        wizard.action_run()
        self.assertIn("?limit=2", wizard.curl)
        self.assertIn('"Authorization: Bearer $TOKEN"', wizard.curl)
        wizard.write(
            {
                "endpoint_id": endpoints.filtered(lambda e: e.operation == "create").id,
                "body": '{"name": "Wizard QA"}',
            }
        )
        wizard.action_run()
        self.assertEqual(wizard.response_status, 201, wizard.response_body)
        self.assertNotIn("limit=2", wizard.curl)


@tagged("post_install", "-at_install")
class TestFieldPickers(TransactionCase):
    def test_pickers_show_and_find_technical_names_only_in_the_app(self):
        fields_model = self.env["ir.model.fields"]
        picker = fields_model.with_context(secure_api_technical_names=True)
        domain = [("model", "=", "res.partner")]
        found = picker.name_search("commercial_company_name", domain, limit=5)
        self.assertIn(
            "Company Name Entity (commercial_company_name)",
            [name for _id, name in found],
        )
        # Every other field picker of the database is left as Odoo has it.
        field = fields_model._get("res.partner", "commercial_company_name")
        self.assertNotIn("(commercial_company_name)", field.display_name)
        self.assertNotIn(
            field.id,
            [
                fid
                for fid, _name in fields_model.name_search(
                    "commercial_company_name", domain
                )
            ],
        )

    def test_aliases_are_plain_identifiers(self):
        line = self.env["secure.api.field"].create(
            {
                "api_id": self.env["secure.api"]
                .create(
                    {
                        "name": "Aliases",
                        "route": "test/aliases",
                        "model_id": self.env["ir.model"]._get_id("res.partner"),
                    }
                )
                .id,
                "field_id": self.env["ir.model.fields"]._get("res.partner", "email").id,
            }
        )
        for alias in ("em\n", "1st", "e-mail", "mail'", "x" * 64):
            with self.subTest(alias=alias), self.assertRaises(ValidationError):
                line.alias = alias
        line.alias = "mail_2"
