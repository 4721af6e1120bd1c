"""Who may call what (contract: Authentication modes, Tokens, CORS), in
process. A session cookie itself is shown over HTTP (test_rest)."""

from odoo import Command
from odoo.tests import tagged

from .common import SecureApiTransactionCase


class AccessCase(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"


@tagged("post_install", "-at_install")
class TestAuthentication(AccessCase):
    def test_a_request_without_credentials_is_401_with_the_bearer_challenge(self):
        answer = self.call("GET", self.base)
        self.error(answer, 401)
        self.assertEqual(
            answer.headers["WWW-Authenticate"], 'Bearer realm="secure_api"'
        )

    def test_an_unknown_token_is_401_invalid_token(self):
        answer = self.call("GET", self.base, headers={"Authorization": "Bearer nope"})
        self.error(answer, 401, "invalid_token")
        self.assertIn('error="invalid_token"', answer.headers["WWW-Authenticate"])

    def test_a_malformed_authorization_header_is_401_invalid_request(self):
        for header in ("Bearer", "Bearer a b"):
            with self.subTest(header=header):
                answer = self.call("GET", self.base, headers={"Authorization": header})
                self.error(answer, 401, "invalid_request")

    def test_a_token_in_the_query_string_is_401_invalid_request(self):
        answer = self.call(
            "GET", f"{self.base}?access_token={self.bearer}", token=self.bearer
        )
        self.error(answer, 401, "invalid_request")

    def public_api(self):
        return self.make_api(
            "test/public",
            obfuscate=False,
            auth_mode="public",
            run_as_user_id=self.reader_user.id,
        )

    def test_a_public_api_answers_without_credentials(self):
        api = self.public_api()
        page = self.result(self.call("GET", f"/api/{api.route}?fields=name"))
        self.assertGreater(page["length"], 0)

    def test_a_public_api_cannot_do_what_its_run_as_user_may_not(self):
        api = self.public_api()
        self.error(self.call("POST", f"/api/{api.route}", json={"name": "x"}), 403)

    def test_a_session_form_post_is_403_csrf(self):
        answer = self.call(
            "POST",
            self.base,
            data={"name": "form post"},
            session_uid=self.api_user.id,
        )
        self.error(answer, 403, "csrf")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "form post")]))

    def test_a_session_post_from_another_origin_is_403_csrf(self):
        answer = self.call(
            "POST",
            self.base,
            json={"name": "x"},
            headers={"Origin": "https://evil.example.com"},
            session_uid=self.api_user.id,
        )
        self.error(answer, 403, "csrf")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "x")]))


@tagged("post_install", "-at_install")
class TestScopesAndRights(AccessCase):
    """A token may do what its scope, its API and its execution user's
    access rights all allow; the rest is 403."""

    def test_a_token_may_do_what_its_scope_allows(self):
        token = self.issue(self.reader_client)
        self.result(self.call("GET", self.base, token=token))

    def test_an_operation_outside_the_tokens_scope_is_403_insufficient_scope(self):
        token = self.issue(self.reader_client)
        for method, path, body in (
            ("POST", self.base, {"name": "x"}),
            ("DELETE", f"{self.base}/{self.partner.id}", None),
            ("PATCH", f"{self.base}/{self.partner.id}", {"name": "x"}),
        ):
            with self.subTest(method=method):
                answer = self.call(method, path, token=token, json=body)
                self.error(answer, 403, "insufficient_scope")
                challenge = answer.headers["WWW-Authenticate"]
                self.assertIn('error="insufficient_scope"', challenge)
                self.assertIn("scope=", challenge)
        self.assertEqual(self.partner.name, "Azure Interior API Test")

    def test_a_client_app_not_allowed_on_the_api_is_403(self):
        token = self.issue(self.reader_client)
        self.api_plain.client_ids = [Command.unlink(self.reader_client.id)]
        self.error(self.call("GET", self.base, token=token), 403)

    def weak_token(self):
        """A token of all scopes for a user who may only read contacts."""
        client, _secret = self.make_client(
            "Weak user app", self.reader_user, scopes="all"
        )
        self.api_plain.client_ids = [Command.link(client.id)]
        return self.issue(client)

    def test_the_execution_user_may_search_what_its_rights_allow(self):
        self.result(self.call("GET", self.base, token=self.weak_token()))

    def test_a_create_the_execution_user_may_not_do_is_403_access_denied(self):
        answer = self.call(
            "POST", self.base, token=self.weak_token(), json={"name": "nope"}
        )
        self.error(answer, 403, "access_denied")

    def test_a_delete_the_execution_user_may_not_do_is_403(self):
        answer = self.call(
            "DELETE", f"{self.base}/{self.partner.id}", token=self.weak_token()
        )
        self.error(answer, 403)
        self.assertTrue(self.partner.exists())


@tagged("post_install", "-at_install")
class TestCors(AccessCase):
    APP = "https://app.example.com"
    EVIL = "https://evil.example.com"

    def setUp(self):
        super().setUp()
        self.api_plain.write(
            {"cors_enabled": True, "cors_origins": self.APP, "cors_max_age": 300}
        )

    def test_an_allowed_origin_is_echoed_with_vary_origin(self):
        answer = self.call(
            "GET", self.base, token=self.bearer, headers={"Origin": self.APP}
        )
        self.assertEqual(answer.headers["Access-Control-Allow-Origin"], self.APP)
        self.assertIn("Origin", answer.headers["Vary"])

    def test_a_refused_origin_gets_no_allow_origin_header(self):
        answer = self.call(
            "GET", self.base, token=self.bearer, headers={"Origin": self.EVIL}
        )
        self.assertNotIn("Access-Control-Allow-Origin", answer.headers)

    def test_a_preflight_from_an_allowed_origin_is_204_with_methods_and_max_age(self):
        answer = self.call(
            "OPTIONS",
            self.base,
            headers={"Origin": self.APP, "Access-Control-Request-Method": "POST"},
        )
        self.assertEqual(answer.status, 204)
        self.assertEqual(answer.headers["Access-Control-Max-Age"], "300")
        self.assertIn("POST", answer.headers["Access-Control-Allow-Methods"])

    def test_a_preflight_from_a_refused_origin_gets_no_allow_origin_header(self):
        answer = self.call("OPTIONS", self.base, headers={"Origin": self.EVIL})
        self.assertNotIn("Access-Control-Allow-Origin", answer.headers)
