"""What the attack run on the traffic policy and privileges found beyond
the traffic policy itself (see test_traffic.py for that), pinned."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SecureApiTransactionCase

TOKEN = "/api/oauth2/token"


@tagged("post_install", "-at_install")
class TestClientAppsOfPublicApis(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.public = self.make_api(
            "test/public-clients",
            obfuscate=False,
            auth_mode="public",
            run_as_user_id=self.api_user.id,
            method_ids=[],
        )
        self.manager_user = self.manager()

    def test_a_manager_cannot_attach_a_client_app_to_a_public_api_from_the_client(self):
        client = self.client.with_user(self.manager_user)
        with self.assertRaises(AccessError):
            client.write({"api_ids": [(4, self.public.id)]})

    def test_a_manager_cannot_detach_a_client_app_from_a_public_api(self):
        self.public.client_ids = [(4, self.client.id)]
        client = self.client.with_user(self.manager_user)
        with self.assertRaises(AccessError):
            client.write({"api_ids": [(3, self.public.id)]})

    def test_a_manager_still_attaches_client_apps_to_other_apis(self):
        own = self.make_api("test/not-public", obfuscate=False, method_ids=[])
        self.client.with_user(self.manager_user).write({"api_ids": [(4, own.id)]})
        self.assertIn(own, self.client.api_ids)


@tagged("post_install", "-at_install")
class TestLockedOutPartiesAddNoRows(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.auth_max_failures", 2
        )

    def rows(self):
        return self.env["secure.api.throttle"].sudo().search_count([])

    def test_introspection_failures_of_a_locked_out_address_add_no_rows(self):
        address = "203.0.113.50"
        statuses = []
        for number in range(40):
            bad = {"client_id": f"random-{number}", "client_secret": "x", "token": "t"}
            answer = self.call(
                "POST", "/api/oauth2/introspect", data=bad, remote_addr=address
            )
            statuses.append(answer.status)
        self.assertIn(429, statuses)
        before = self.rows()
        for number in range(10):
            bad = {"client_id": f"more-{number}", "client_secret": "x", "token": "t"}
            self.call("POST", "/api/oauth2/revoke", data=bad, remote_addr=address)
        self.assertEqual(self.rows(), before)

    def test_valid_credentials_still_introspect_from_a_locked_out_address(self):
        address = "203.0.113.51"
        for number in range(20):
            self.call(
                "POST",
                TOKEN,
                data={"client_id": f"x{number}", "client_secret": "x"},
                remote_addr=address,
            )
        good = {
            "client_id": self.client.client_id,
            "client_secret": self.secret,
            "token": self.issue(),
        }
        answer = self.call(
            "POST", "/api/oauth2/introspect", data=good, remote_addr=address
        )
        self.assertEqual(answer.status, 200, answer.body)
