"""Who may change what: Secure API Managers against administrators.

What anonymous callers of a public API can do is an administrator's
decision; a manager keeps full control over the APIs that are not public.
Every test acts as a user in the manager group only (``with_user``), on the
rows of a public API an administrator configured, and on dependent models.
"""

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SecureApiTransactionCase

ORIGINS = "https://a.example.com\nhttps://b.example.com"


@tagged("post_install", "-at_install")
class TestPublicApiPrivileges(SecureApiTransactionCase):
    """The finding: a manager reset an administrator's public API to draft,
    enabled writes and exposed fields, and anonymous callers then wrote as
    the run-as user the administrator chose."""

    def setUp(self):
        super().setUp()
        self.manager_user = self.manager()
        self.admin = self.env.ref("base.user_admin")
        self.public = self.make_api(
            "test/public-privileges",
            obfuscate=False,
            auth_mode="public",
            run_as_user_id=self.api_user.id,
            allow_create=False,
            allow_update=False,
            allow_delete=False,
            allow_rpc=False,
            method_ids=[],
            cors_enabled=True,
            cors_origins=ORIGINS,
            cors_methods="GET, OPTIONS",
            cors_headers="Authorization, Content-Type",
            cors_max_age=600,
        )
        self.as_manager = self.public.with_user(self.manager_user)

    def own_api(self, route="test/managers-own", **values):
        """A user-authenticated API the manager creates and publishes."""
        api = (
            self.env["secure.api"]
            .with_user(self.manager_user)
            .create(
                {
                    "name": "Manager's own API",
                    "route": route,
                    "model_id": self.env["ir.model"]._get_id("res.partner"),
                    "field_ids": [
                        Command.create(
                            {"field_id": self.field("res.partner", "name").id}
                        )
                    ],
                    **values,
                }
            )
        )
        api.action_publish()
        return api

    def endpoint(self, api, operation):
        return (
            self.env["secure.api.endpoint"]
            .with_context(active_test=False)
            .search([("api_id", "=", api.id), ("operation", "=", operation)])
        )

    def test_operations_of_a_public_api_are_enabled_by_administrators_only(self):
        for name in ("allow_create", "allow_update", "allow_delete", "allow_rpc"):
            with self.subTest(name=name), self.assertRaises(AccessError):
                self.as_manager.write({name: True})
        answer = self.call("POST", f"/api/{self.public.route}", json={"name": "Anon"})
        self.error(answer, 405)
        self.public.with_user(self.admin).write({"allow_create": True})
        answer = self.call("POST", f"/api/{self.public.route}", json={"name": "Anon"})
        self.result(answer, 201)

    def test_a_manager_may_switch_operations_of_a_public_api_off(self):
        self.as_manager.write({"allow_read": False})
        self.assertFalse(self.endpoint(self.public, "read"))
        with self.assertRaises(AccessError):
            self.as_manager.write({"allow_read": True})

    def test_the_state_of_a_public_api_is_changed_by_administrators_only(self):
        for action in ("action_reset_to_draft", "action_deactivate", "action_archive"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(self.as_manager, action)()
        self.public.with_user(self.admin).action_reset_to_draft()
        with self.assertRaises(AccessError):
            self.as_manager.action_publish()
        self.assertEqual(self.public.state, "draft")

    def test_only_administrators_make_an_api_public_or_not(self):
        own = self.own_api()
        own.with_user(self.admin).run_as_user_id = self.api_user
        with self.assertRaises(AccessError):
            own.write({"auth_mode": "public"})
        with self.assertRaises(AccessError):
            self.as_manager.write({"auth_mode": "user"})
        self.assertEqual((own.auth_mode, self.public.auth_mode), ("user", "public"))

    def test_fields_of_a_public_api_are_exposed_by_administrators_only(self):
        lines = self.env["secure.api.field"].with_user(self.manager_user)
        line = self.public.field_ids.filtered(
            lambda f: f.field_id.name == "country_id"
        ).with_user(self.manager_user)
        comment = {"field_id": self.field("res.partner", "comment").id}
        with self.assertRaises(AccessError):
            lines.create(dict(comment, api_id=self.public.id))
        with self.assertRaises(AccessError):
            lines.with_context(default_api_id=self.public.id).create(comment)
        for vals in (
            {"writable": False},
            {"searchable": False},
            {"alias": "land"},
            {"sequence": 99},
            {"field_id": self.field("res.partner", "parent_id").id},
            {"related_field_ids": [Command.link(self.field("res.country", "id").id)]},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(AccessError):
                line.write(vals)
        with self.assertRaises(AccessError):
            line.unlink()
        with self.assertRaises(AccessError):
            self.as_manager.write({"field_ids": [Command.create(comment)]})
        self.public.with_user(self.admin).write(
            {"field_ids": [Command.create(comment)]}
        )

    def test_field_lines_move_into_or_out_of_a_public_api_by_administrators(self):
        own = self.own_api()
        own_line = own.field_ids.with_user(self.manager_user)
        public_line = self.public.field_ids[:1].with_user(self.manager_user)
        with self.assertRaises(AccessError):
            own_line.write({"api_id": self.public.id})
        with self.assertRaises(AccessError):
            public_line.write({"api_id": own.id})
        # Through the manager's own API's lines.
        for command in (
            Command.link(public_line.id),
            Command.update(public_line.id, {"writable": False}),
            Command.delete(public_line.id),
        ):
            with self.subTest(command=command[0]), self.assertRaises(AccessError):
                own.write({"field_ids": [command]})

    def test_endpoints_of_a_public_api_are_switched_on_by_administrators(self):
        endpoint = self.endpoint(self.public, "search")
        endpoint.with_user(self.admin).active = False
        with self.assertRaises(AccessError):
            endpoint.with_user(self.manager_user).write({"active": True})
        self.error(self.call("GET", f"/api/{self.public.route}"), 404)

    def test_a_manager_may_switch_endpoints_of_a_public_api_off(self):
        self.endpoint(self.public, "search").with_user(self.manager_user).write(
            {"active": False}
        )
        self.error(self.call("GET", f"/api/{self.public.route}"), 404)

    def test_cors_of_a_public_api_is_widened_by_administrators_only(self):
        for vals in (
            {"cors_origins": "https://a.example.com\nhttps://evil.example.com"},
            {"cors_origins": "*"},
            {"cors_methods": "GET, POST, OPTIONS"},
            {"cors_methods": ""},  # empty means every method
            {"cors_headers": "Authorization, Content-Type, X-Other"},
            {"cors_max_age": 86400},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self.as_manager.write(vals)
        self.as_manager.write({"cors_enabled": False})
        with self.assertRaises(AccessError):
            self.as_manager.write({"cors_enabled": True})

    def test_a_manager_may_narrow_cors_of_a_public_api(self):
        self.as_manager.write(
            {
                "cors_origins": "https://a.example.com/",
                "cors_methods": "get",
                "cors_headers": "authorization",
                "cors_max_age": 60,
            }
        )
        self.as_manager.write({"cors_enabled": False})
        self.assertFalse(self.public.cors_enabled)

    def test_other_settings_of_a_public_api_are_administrators_only(self):
        for vals in (
            {"test_mode": True},
            {"max_limit": 1000},
            {"default_limit": 5},
            {"default_order": "id desc"},
            {"obfuscate_ids": True},
            {"hashid_min_length": 12},
            {"binary_mode": "base64"},
            {"statistics_enabled": False},
            {"client_ids": [Command.link(self.client.id)]},
            {"endpoint_ids": [Command.update(self.public.endpoint_ids[0].id, {})]},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(AccessError):
                self.as_manager.write(vals)

    def test_a_manager_may_relabel_a_public_api(self):
        category = self.env["secure.api.category"].create({"name": "Partners"})
        tag = self.env["secure.api.tag"].create({"name": "Shop"})
        self.as_manager.write(
            {
                "name": "Shop partners",
                "description": "Who buys from the shop.",
                "sequence": 3,
                "category_id": category.id,
                "tag_ids": [Command.link(tag.id)],
            }
        )
        self.assertEqual(self.public.name, "Shop partners")

    def test_a_manager_cannot_create_or_copy_a_public_api(self):
        with self.assertRaises(AccessError):
            self.as_manager.copy({"route": "test/public-copy"})
        with self.assertRaises(AccessError):
            self.env["secure.api"].with_user(self.manager_user).create(
                {
                    "name": "Public by a manager",
                    "route": "test/public-by-manager",
                    "model_id": self.env["ir.model"]._get_id("res.partner"),
                    "auth_mode": "public",
                }
            )

    def test_a_manager_keeps_full_control_of_apis_that_are_not_public(self):
        own = self.own_api(cors_enabled=True, cors_origins="https://a.example.com")
        own.write({"allow_create": True, "allow_delete": True, "cors_origins": "*"})
        own.write({"test_mode": True, "max_limit": 1000})
        line = own.field_ids.with_user(self.manager_user)
        line.write({"searchable": True, "writable": True, "alias": "label"})
        self.env["secure.api.field"].with_user(self.manager_user).create(
            {"api_id": own.id, "field_id": self.field("res.partner", "email").id}
        )
        endpoint = self.endpoint(own, "create").with_user(self.manager_user)
        endpoint.write({"active": False})
        endpoint.write({"active": True})
        own.action_deactivate()
        own.action_reset_to_draft()
        line.unlink()
        own.action_publish()
        self.assertEqual(own.state, "active")
        # An administrator's API that is not public is the managers' too.
        self.api_plain.with_user(self.manager_user).write({"allow_delete": False})

    def test_defaults_and_methods_stay_administrators_only_on_every_api(self):
        own = self.own_api()
        defaults = self.env["secure.api.default"].with_user(self.manager_user)
        # Refused before the expression is tried out (1/0 would fail it).
        with self.assertRaises(AccessError):
            defaults.create(
                {
                    "api_id": own.id,
                    "field_id": self.field("res.partner", "ref").id,
                    "expression": "1/0",
                }
            )
        with self.assertRaises(AccessError):
            self.env["secure.api.method"].with_user(self.manager_user).create(
                {"api_id": own.id, "name": "address_get"}
            )
        method = self.api_plain.method_ids[:1].with_user(self.manager_user)
        with self.assertRaises(AccessError):
            method.write({"on_records": False})


@tagged("post_install", "-at_install")
class TestDependentModelPrivileges(SecureApiTransactionCase):
    """Models that drive a side effect are guarded like their parent."""

    def setUp(self):
        super().setUp()
        self.manager_user = self.manager()
        self.admin = self.env.ref("base.user_admin")

    def test_endpoints_are_generated_never_rewritten(self):
        endpoints = self.env["secure.api.endpoint"].with_context(active_test=False)
        create = endpoints.search(
            [("api_id", "=", self.api_plain.id), ("operation", "=", "create")]
        ).with_user(self.manager_user)
        for vals in (
            {"operation": "search"},
            {"path": "/api/elsewhere"},
            {"http_method": "GET"},
            {"api_id": self.api_obf.id},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(UserError):
                create.write(vals)
        with self.assertRaises(AccessError):
            create.unlink()
        with self.assertRaises(AccessError):
            endpoints.with_user(self.manager_user).create(
                endpoints._prepare_values(self.api_plain, "create")
            )
        create.write({"active": False})
        self.assertFalse(create.active)

    def test_a_manager_cannot_issue_tokens(self):
        with self.assertRaises(AccessError):
            self.env["secure.api.token"].with_user(self.manager_user).create(
                {
                    "app_id": self.client.id,
                    "token_hash": "0" * 64,
                    "scope": "create read update delete search rpc",
                    "expires_at": "2099-01-01 00:00:00",
                }
            )

    def test_a_manager_may_only_revoke_or_delete_tokens(self):
        self.issue()
        self.issue()
        tokens = (
            self.env["secure.api.token"]
            .search([("app_id", "=", self.client.id)], limit=2)
            .with_user(self.manager_user)
        )
        first, second = tokens
        for vals in (
            {"revoked_at": "2000-01-01 00:00:00"},
            {"expires_at": "2099-01-01 00:00:00"},
            {"scope": "create read update delete search rpc"},
            {"app_id": self.reader_client.id},
            {"token_type": "jwt"},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(UserError):
                first.write(vals)
        self.assertFalse(first.revoked_at)
        before = fields.Datetime.now()
        first.write({"revoked": True, "revoked_at": "2000-01-01 00:00:00"})
        self.assertGreaterEqual(first.revoked_at, before)
        with self.assertRaises(UserError):
            first.write({"revoked": False})
        second.unlink()
        self.assertFalse(second.exists())

    def test_client_secrets_and_keys_are_never_written_by_users(self):
        client = self.client.with_user(self.manager_user)
        for name in ("client_secret_hash", "jwt_key"):
            with self.subTest(name=name), self.assertRaises(AccessError):
                client.write({name: "known"})
        with self.assertRaises(AccessError):
            self.client.with_user(self.admin).write({"jwt_key": "known"})

    def test_idempotency_rows_are_written_by_the_system_only(self):
        rows = self.env["secure.api.idempotency"]
        row = rows.create(
            {
                "scope": f"api:{self.api_plain.id}|app:{self.client.id}",
                "key_hash": "k" * 64,
                "fingerprint": "f",
                "status": 201,
                "body": "{}",
                "expires_at": "2099-01-01 00:00:00",
            }
        )
        vals = {
            "scope": "api:1|app:1",
            "key_hash": "x" * 64,
            "fingerprint": "f",
            "expires_at": "2099-01-01 00:00:00",
        }
        for user in (self.manager_user, self.admin):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    rows.with_user(user).create(vals)
                with self.assertRaises(AccessError):
                    row.with_user(user).write({"body": '{"result": "forged"}'})
        with self.assertRaises(AccessError):
            row.with_user(self.manager_user).unlink()

    def test_statistics_and_lockout_counters_are_kept_by_the_system_only(self):
        for model, vals in (
            (
                "secure.api.statistic",
                {"api_id": self.api_plain.id, "bucket": "2020-01-01 00:00:00"},
            ),
            ("secure.api.throttle", {"key": "client:x", "failures": 0}),
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.manager_user).create(vals)
        self.env.cr.execute(
            "INSERT INTO secure_api_throttle (key, failures, window_start)"
            " VALUES ('client:y', 9, now() AT TIME ZONE 'UTC')"
        )
        counter = self.env["secure.api.throttle"].search([("key", "=", "client:y")])
        with self.assertRaises(AccessError):
            counter.with_user(self.manager_user).write({"failures": 0})
