"""The contract's operations and the pipeline's guarantees, in process.

Each test calls the pipeline with the same request value a real HTTP request
builds (``self.call``) and checks one behaviour. What needs HTTP itself
(cookies, streaming, chunked bodies, concurrency) is in ``test_http``.
"""

import logging
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.translate import code_translations

from .common import SecureApiTransactionCase

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAA"
    "AABJRU5ErkJggg=="
)


@tagged("post_install", "-at_install")
class TestOperations(SecureApiTransactionCase):
    """One behaviour per operation, on the plain and the obfuscated API."""

    def setUp(self):
        super().setUp()
        self.bearer = self.issue()

    def apis(self):
        for api in (self.api_plain, self.api_obf):
            with self.subTest(obfuscated=api.obfuscate_ids):
                yield api, f"/api/{api.route}"

    def create_partner(self, api, base, **values):
        answer = self.call(
            "POST", base, token=self.bearer, json={"name": "New Co", **values}
        )
        created = self.result(answer, 201)
        return created, self.env["res.partner"].search([("name", "=", "New Co")])

    def test_search_renders_aliases_relations_and_ids(self):
        for api, base in self.apis():
            found = self.result(
                self.call(
                    "GET",
                    f'{base}?domain=[("name","=","Azure Interior API Test")]',
                    token=self.bearer,
                )
            )
            self.assertEqual(found["length"], 1)
            record = found["records"][0]
            self.assertEqual(record["id"], self.ids(api, self.partner))
            self.assertIsInstance(record["id"], str if api.obfuscate_ids else int)
            self.assertEqual(record["mail"], "azure@example.com")
            self.assertEqual(
                record["country_id"],
                [self.ids(api, self.belgium), {"name": "Belgium", "code": "BE"}],
            )
            self.assertEqual(record["tags"], [])

    def test_read_answers_the_record_as_search_does(self):
        for api, base in self.apis():
            domain = '[("name","=","Azure Interior API Test")]'
            found = self.result(
                self.call("GET", f"{base}?domain={domain}", token=self.bearer)
            )
            pid = self.ids(api, self.partner)
            read = self.result(self.call("GET", f"{base}/{pid}", token=self.bearer))
            self.assertEqual(read, found["records"][0])

    def test_create_runs_as_the_client_user_with_decoded_relations(self):
        for api, base in self.apis():
            created, new = self.create_partner(
                api,
                base,
                mail="new@example.com",
                country_id=self.ids(api, self.france),
                tags=[self.ids(api, self.tag)],
            )
            self.assertEqual(created["id"], self.ids(api, new))
            self.assertEqual(new.country_id, self.france)
            self.assertEqual(new.category_id, self.tag)
            self.assertEqual(new.create_uid, self.api_user)
            new.unlink()

    def test_update_one_with_patch_and_put(self):
        for api, base in self.apis():
            created, new = self.create_partner(
                api, base, tags=[self.ids(api, self.tag)]
            )
            url = f"{base}/{created['id']}"
            patched = self.call("PATCH", url, token=self.bearer, json={"phone": "123"})
            self.assertEqual(self.result(patched)["phone"], "123")
            self.result(self.call("PUT", url, token=self.bearer, json={"tags": []}))
            self.assertFalse(new.category_id)
            new.unlink()

    def test_bulk_create_answers_every_record(self):
        for _api, base in self.apis():
            bulk = self.result(
                self.call(
                    "POST",
                    base,
                    token=self.bearer,
                    json=[{"name": "Bulk A"}, {"name": "Bulk B"}],
                ),
                201,
            )
            self.assertEqual([r["name"] for r in bulk], ["Bulk A", "Bulk B"])

    def test_bulk_update_in_both_shapes(self):
        for _api, base in self.apis():
            bulk = self.result(
                self.call(
                    "POST", base, token=self.bearer, json=[{"name": "A"}, {"name": "B"}]
                ),
                201,
            )
            ids = [r["id"] for r in bulk]
            same = self.call(
                "PATCH", base, token=self.bearer, json={"ids": ids, "phone": "5"}
            )
            self.assertEqual([r["phone"] for r in self.result(same)], ["5", "5"])
            each = self.call(
                "PATCH",
                base,
                token=self.bearer,
                json=[{"id": ids[0], "phone": "1"}, {"id": ids[1], "phone": "2"}],
            )
            self.assertEqual([r["phone"] for r in self.result(each)], ["1", "2"])

    def test_delete_one_and_bulk_answer_the_deleted_ids(self):
        for _api, base in self.apis():
            bulk = self.result(
                self.call(
                    "POST", base, token=self.bearer, json=[{"name": "A"}, {"name": "B"}]
                ),
                201,
            )
            ids = [r["id"] for r in bulk]
            deleted = self.call(
                "DELETE", base, token=self.bearer, json={"ids": ids[:1]}
            )
            self.assertEqual(self.result(deleted), ids[:1])
            deleted = self.call("DELETE", f"{base}/{ids[1]}", token=self.bearer)
            self.assertEqual(self.result(deleted), ids[1:])
            self.error(
                self.call("GET", f"{base}/{ids[1]}", token=self.bearer),
                404,
                "not_found",
            )


@tagged("post_install", "-at_install")
class TestPipeline(SecureApiTransactionCase):
    """What every route gets from the one boundary and the one error mapping."""

    def binary_url(self):
        self.partner.image_1920 = PNG
        return f"/api/image/{self.api_plain.id}/res.partner/{self.partner.id}/image_128"

    def test_every_answer_carries_a_request_id(self):
        for path in (
            f"/api/{self.api_plain.route}",
            "/api/no/such/route",
            "/api/oauth2/token",
            "/api/image/1/res.partner/1/image_128",
            "/api/openapi.json",
        ):
            with self.subTest(path=path):
                answer = self.call("GET", path)
                self.assertRegex(answer.headers["X-Request-Id"], "^[0-9a-f]{16}$")

    def test_unexpected_error_is_a_generic_500_with_a_logged_request_id(self):
        def explode(engine, call):
            raise RuntimeError("SELECT secret FROM somewhere")

        engine_class = type(self.env["secure.api.engine"])
        with (
            patch.object(engine_class, "_op_search", explode),
            self.assertLogs("odoo.addons.secure_api", logging.ERROR) as logs,
        ):
            answer = self.call(
                "GET", f"/api/{self.api_plain.route}", token=self.issue()
            )
        error = self.error(answer, 500, "internal_error")
        request_id = answer.headers["X-Request-Id"]
        self.assertEqual(
            error["message"], f"Internal server error (request id {request_id})"
        )
        self.assertNotIn("SELECT", str(answer.body))
        self.assertIn(request_id, "\n".join(logs.output))

    def test_unexpected_error_in_the_token_server_is_json_and_not_stored(self):
        def explode(server, req, params):
            raise RuntimeError("boom")

        server_class = type(self.env["secure.api.oauth"])
        with (
            patch.object(server_class, "_serve_token", explode),
            self.assertLogs("odoo.addons.secure_api", logging.ERROR),
        ):
            answer = self.call(
                "POST",
                "/api/oauth2/token",
                data={"client_id": self.client.client_id, "client_secret": self.secret},
            )
        self.assertEqual(answer.status, 500)
        self.assertEqual(answer.body["error"], "server_error")
        self.assertIn(answer.headers["X-Request-Id"], answer.body["error_description"])
        self.assertEqual(answer.headers["Cache-Control"], "no-store")

    def test_body_over_the_limit_is_413_on_every_route(self):
        for path in (
            f"/api/{self.api_plain.route}",
            "/api/oauth2/token",
            "/api/jwt/token",
            "/api/oauth2/revoke",
            "/api/oauth2/introspect",
            "/api/no/such/route",
        ):
            with self.subTest(path=path):
                answer = self.call("POST", path, body_too_large=True)
                self.assertEqual(answer.status, 413, answer.body)

    def test_binary_401_carries_the_bearer_challenge(self):
        answer = self.call("GET", self.binary_url())
        self.error(answer, 401)
        self.assertEqual(
            answer.headers["WWW-Authenticate"], 'Bearer realm="secure_api"'
        )

    def test_binary_is_404_when_the_read_endpoint_is_off(self):
        self.api_plain.endpoint_ids.filtered(
            lambda e: e.operation == "read"
        ).active = False
        self.error(self.call("GET", self.binary_url(), token=self.issue()), 404)

    def test_binary_needs_the_read_scope(self):
        answer = self.call("GET", self.binary_url(), token=self.issue(scope="search"))
        self.error(answer, 403, "insufficient_scope")
        self.assertIn('scope="read"', answer.headers["WWW-Authenticate"])

    def test_preflight_advertises_only_served_methods(self):
        self.api_plain.write(
            {
                "cors_enabled": True,
                "cors_origins": "https://app.example",
                "allow_delete": False,
            }
        )
        answer = self.call(
            "OPTIONS",
            f"/api/{self.api_plain.route}/1",
            headers={"Origin": "https://app.example"},
        )
        self.assertEqual(answer.status, 204)
        methods = answer.headers["Access-Control-Allow-Methods"]
        self.assertNotIn("DELETE", methods)
        self.assertIn("PATCH", methods)

    def test_token_route_errors_use_rfc_6749_bodies(self):
        answer = self.call("GET", "/api/oauth2/token")
        self.assertEqual(answer.status, 405)
        self.assertEqual(answer.headers["Allow"], "POST")
        self.assertEqual(answer.body["error"], "invalid_request")
        self.assertEqual(answer.headers["Cache-Control"], "no-store")

    def test_documents_hidden_exactly_like_an_unknown_route(self):
        unknown = self.call("GET", "/api/no/such/route")
        for path in ("/api/openapi.json", "/api/docs"):
            with self.subTest(path=path):
                hidden = self.call("GET", path)
                self.assertEqual(hidden.status, unknown.status)
                self.assertEqual(hidden.body, unknown.body)


@tagged("post_install", "-at_install")
class TestDocumentsForClients(SecureApiTransactionCase):
    def test_a_client_gets_the_document_of_what_it_may_call(self):
        token = self.issue(self.reader_client)
        answer = self.call("GET", "/api/openapi.json", token=token)
        document = self.answer_body(answer)
        paths = document["paths"]
        base = f"/api/{self.api_plain.route}"
        self.assertIn("get", paths[base])
        self.assertNotIn("post", paths[base], "the reader client may not create")
        self.assertIn("/api/jwt/token", paths)
        self.assertIn("/api/oauth2/introspect", paths)

    def test_a_client_not_allowed_on_an_api_does_not_see_it(self):
        self.api_obf.client_ids = [Command.unlink(self.reader_client.id)]
        answer = self.call(
            "GET", "/api/openapi.json", token=self.issue(self.reader_client)
        )
        self.assertNotIn(
            f"/api/{self.api_obf.route}", self.answer_body(answer)["paths"]
        )

    def test_a_browser_without_a_session_is_sent_to_the_login_page(self):
        answer = self.call("GET", "/api/docs", headers={"Accept": "text/html"})
        self.assertEqual(answer.status, 302)
        self.assertEqual(answer.headers["Location"], "/web/login?redirect=/api/docs")

    def answer_body(self, answer):
        self.assertEqual(answer.status, 200, answer.body)
        return answer.body


@tagged("post_install", "-at_install")
class TestGuardRails(SecureApiTransactionCase):
    def test_a_published_api_keeps_its_route_and_model(self):
        for vals in (
            {"route": "test/renamed"},
            {"model_id": self.env["ir.model"]._get_id("res.country")},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(UserError):
                self.api_plain.write(vals)
        self.api_plain.write({"route": self.api_plain.route, "name": "Same route"})
        self.api_plain.action_reset_to_draft()
        self.api_plain.write({"route": "test/renamed"})
        self.assertEqual(self.api_plain.route, "test/renamed")


@tagged("post_install", "-at_install")
class TestErrorLanguage(SecureApiTransactionCase):
    """Error messages in the language the client asks for, among those the
    database has installed (contract: errors)."""

    def setUp(self):
        super().setUp()
        self.env["res.lang"]._activate_lang("fr_FR")
        catalogue = code_translations.python_translations
        key = ("secure_api", "fr_FR")
        saved = catalogue.get(key)
        catalogue[key] = {"Record not found": "Enregistrement introuvable"}
        self.addCleanup(
            lambda: (
                catalogue.pop(key)
                if saved is None
                else catalogue.__setitem__(key, saved)
            )
        )
        self.url = f"/api/{self.api_plain.route}/999999999"

    def test_accept_language_translates_the_error_message(self):
        answer = self.call(
            "GET", self.url, token=self.issue(), headers={"Accept-Language": "fr-CA,fr"}
        )
        error = self.error(answer, 404, "not_found")
        self.assertEqual(error["message"], "Enregistrement introuvable")
        self.assertEqual(answer.headers["Content-Language"], "fr-FR")

    def test_without_a_known_language_errors_stay_english(self):
        for header in ({}, {"Accept-Language": "nl-BE"}):
            with self.subTest(header=header):
                answer = self.call("GET", self.url, token=self.issue(), headers=header)
                error = self.error(answer, 404, "not_found")
                self.assertEqual(error["message"], "Record not found")
                self.assertNotIn("Content-Language", answer.headers)
