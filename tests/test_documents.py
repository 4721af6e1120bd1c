import base64
import json
import threading

import requests

from odoo import Command
from odoo.tests import tagged

from .common import SecureApiHttpCase

try:
    import openapi_spec_validator
except ImportError:  # a test-only dependency
    openapi_spec_validator = None


@tagged("post_install", "-at_install")
class TestDeveloperExperience(SecureApiHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.multi = cls.env["secure.api"].create(
            {
                "name": "Multi",
                "route": "test/multi",
                "multi_model": True,
                "allowed_model_ids": [
                    Command.set(
                        [
                            cls.env["ir.model"]._get_id("res.country"),
                            cls.env["ir.model"]._get_id("res.partner"),
                        ]
                    )
                ],
                "field_ids": [
                    Command.create(
                        {
                            "field_id": cls.field("res.country", "code").id,
                            "searchable": True,
                        }
                    ),
                    Command.create(
                        {
                            "field_id": cls.field("res.partner", "name").id,
                            "writable": True,
                        }
                    ),
                ],
                "allow_create": True,
                "client_ids": [Command.set([cls.client.id])],
            }
        )
        cls.multi.action_publish()
        cls.b64 = cls.make_api("test/b64", obfuscate=False, binary_mode="base64")

    def test_openapi_document_validates(self):
        if openapi_spec_validator is None:
            self.skipTest("openapi-spec-validator is not installed")
        document = self.env["secure.api"].get_openapi_document()
        openapi_spec_validator.validate(document)
        paths = document["paths"]
        for route in ("test/plain", "test/obf", "test/b64"):
            self.assertIn(f"/api/{route}", paths)
            self.assertIn(f"/api/{route}/{{id}}", paths)
            self.assertIn(f"/api/{route}/{{id}}/address_get", paths)
            self.assertIn(f"/api/{route}/call/find_or_create", paths)
        self.assertIn("/api/test/multi/res.country", paths)
        self.assertIn("/api/oauth2/token", paths)
        schemas = document["components"]["schemas"]
        obf = schemas["TestObfResPartnerRecord"]["properties"]
        self.assertEqual(obf["id"]["type"], "string")
        self.assertEqual(
            schemas["TestPlainResPartnerRecord"]["properties"]["id"]["type"], "integer"
        )
        self.assertIn("mail", obf)
        self.assertEqual(
            set(obf["country_id"]["items"]["oneOf"][1]["properties"]), {"name", "code"}
        )
        self.assertNotIn(self.api_obf.hashid_salt, json.dumps(document))
        # A single API's document holds that API only.
        single = self.api_obf.get_openapi_document()
        self.assertNotIn("/api/test/plain", single["paths"])

    def test_every_answer_provoked_is_documented_for_its_operation(self):
        """A fuzzer found DELETE /{id} answering 400 (a malformed
        Idempotency-Key) where the document listed no 400: what each
        operation answers here, error or not, must be listed for it."""
        document = self.env["secure.api"].get_openapi_document()
        token = self.issue()
        route = f"/api/{self.api_obf.route}"
        one = f"{route}/{self.ids(self.api_obf, self.partner)}"
        etag = self.call("GET", one, token=token).headers["ETag"]
        bad_key = {"headers": {"Idempotency-Key": "not a key"}}
        minimal = {"Prefer": "return=minimal"}
        cases = [
            ("DELETE", one, "/{id}", 400, bad_key),
            ("DELETE", one, "/{id}", 400, {"raw": "{not json"}),
            ("DELETE", one, "/{id}", 413, {"body_too_large": True}),
            ("GET", one, "/{id}", 304, {"headers": {"If-None-Match": etag}}),
            ("GET", one, "/{id}", 400, {"raw": "{not json"}),
            ("GET", one, "/{id}", 413, {"body_too_large": True}),
            ("GET", f"{route}?limit=many", "", 400, {}),
            ("POST", f"{one}/address_get", "/{id}/address_get", 400, bad_key),
            ("POST", route, "", 201, {"json": {"name": "Doc"}, "headers": minimal}),
            ("PATCH", one, "/{id}", 204, {"json": {"name": "D"}, "headers": minimal}),
            ("PATCH", one, "/{id}", 412, {"json": {}, "headers": {"If-Match": '"0"'}}),
        ]
        for method, path, template, status, kwargs in cases:
            with self.subTest(method=method, path=path, status=status):
                answer = self.call(method, path, token=token, **kwargs)
                self.assertEqual(answer.status, status, answer.body)
                operation = document["paths"][route + template][method.lower()]
                self.assertIn(str(status), operation["responses"])

    def test_a_create_links_to_the_created_record(self):
        document = self.env["secure.api"].get_openapi_document()
        ids = {
            operation["operationId"]
            for entry in document["paths"].values()
            for verb, operation in entry.items()
            if verb != "parameters"
        }
        create = document["paths"][f"/api/{self.api_obf.route}"]["post"]
        links = create["responses"]["201"]["links"]
        self.assertEqual(set(links), {"read", "update", "replace", "delete"})
        for link in links.values():
            self.assertIn(link["operationId"], ids)
            self.assertEqual(link["parameters"], {"id": "$response.body#/result/id"})
        # The id is where the expression points, with and without Prefer.
        token = self.issue()
        for headers in ({}, {"Prefer": "return=minimal"}):
            answer = self.call(
                "POST",
                f"/api/{self.api_obf.route}",
                token=token,
                json={"name": "Linked"},
                headers=headers,
            )
            record_id = self.result(answer, 201)["id"]
            read = self.call(
                "GET", f"/api/{self.api_obf.route}/{record_id}", token=token
            )
            self.assertEqual(read.status, 200)

    def test_openapi_route_access(self):
        self.assertEqual(self.request("GET", "/api/openapi.json").status_code, 404)
        self.authenticate("admin", "admin")
        response = self.request("GET", "/api/openapi.json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["openapi"], "3.0.3")
        self.logout()
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.openapi_public", "True"
        )
        self.assertEqual(self.request("GET", "/api/openapi.json").status_code, 200)

    def test_postman_collection(self):
        collection = (self.api_plain | self.api_obf).get_postman_collection()
        self.assertTrue(collection["info"]["schema"].endswith("v2.1.0/collection.json"))
        folders = {folder["name"]: folder for folder in collection["item"]}
        self.assertEqual(
            set(folders), {"Authentication", self.api_plain.name, self.api_obf.name}
        )
        requests_ = folders[self.api_plain.name]["item"]
        self.assertEqual(
            [item["request"]["method"] for item in requests_],
            # search, search by cursor, create, its replayed retry, read,
            # update, delete
            ["GET", "GET", "POST", "POST", "GET", "PATCH", "DELETE"],
        )

    def test_export_wizard_downloads_a_file(self):
        self.authenticate("admin", "admin")
        wizard = self.env["secure.api.export.wizard"].create(
            {"api_ids": [Command.set(self.api_obf.ids)], "export_format": "postman"}
        )
        action = wizard.action_export()
        self.assertEqual(action["type"], "ir.actions.act_url")
        content = json.loads(base64.b64decode(wizard.data))
        self.assertEqual(content["item"][1]["name"], self.api_obf.name)
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response.headers.get("Content-Disposition", ""))
        self.assertEqual(json.loads(response.content), content)
        wizard.write({"export_format": "openapi"})
        wizard.action_export()
        self.assertEqual(json.loads(base64.b64decode(wizard.data))["openapi"], "3.0.3")

    def test_live_test_wizard_matches_http_and_rolls_back(self):
        search = self.api_plain.endpoint_ids.filtered(lambda e: e.operation == "search")
        wizard = self.env["secure.api.test.wizard"].create(
            {
                "api_id": self.api_plain.id,
                "endpoint_id": search.id,
                "auth_type": "app",
                "app_id": self.client.id,
                "query": "limit=3&order=id&fields=name,mail",
            }
        )
        wizard.action_run()
        self.assertEqual(wizard.response_status, 200)
        self.assertIn("X-Test-Mode: 1", wizard.response_headers)
        http = self.request(
            "GET",
            f"/api/{self.api_plain.route}?limit=3&order=id&fields=name,mail",
            token=self.token(),
        )
        shown, answered = json.loads(wizard.response_body), http.json()
        # Cursors are encrypted over a random nonce: each answer has its own.
        cursor = shown["result"].pop("next_cursor")
        self.assertTrue(answered["result"].pop("next_cursor"))
        self.assertEqual(shown, answered)
        following = self.request(
            "GET",
            f"/api/{self.api_plain.route}?limit=3&fields=name,mail&cursor={cursor}",
            token=self.token(),
        )
        self.assertEqual(following.status_code, 200, following.text)
        self.assertIn("curl", wizard.curl)
        create = self.api_plain.endpoint_ids.filtered(lambda e: e.operation == "create")
        before = self.env["res.partner"].search_count([])
        tokens_before = self.env["secure.api.token"].sudo().search_count([])
        wizard.write(
            {
                "endpoint_id": create.id,
                "query": False,
                "body": '{"name": "Wizard Partner"}',
            }
        )
        wizard.action_run()
        self.assertEqual(wizard.response_status, 201, wizard.response_body)
        self.assertEqual(self.env["res.partner"].search_count([]), before)
        self.assertEqual(
            self.env["secure.api.token"].sudo().search_count([]), tokens_before
        )
        wizard.write({"test_mode": False, "auth_type": "user"})
        wizard.action_run()
        self.assertEqual(wizard.response_status, 201, wizard.response_body)
        self.assertEqual(self.env["res.partner"].search_count([]), before + 1)

    def test_statistics_count_every_request_from_two_threads(self):
        statistic = self.env["secure.api.statistic"]
        statistic._flush_buffer()  # earlier tests' calls, counted in this transaction
        domain = [("api_id", "=", self.api_plain.id)]
        calls_before = sum(statistic.search(domain).mapped("calls"))
        errors_before = sum(statistic.search(domain).mapped("errors"))
        token = self.token()
        url = f"{self.base_url()}/api/{self.api_plain.route}?limit=1"
        # Nothing below touches the ORM until the threads are done: the test
        # cursor is shared with the server.
        per_thread = 25
        self.env.flush_all()

        def work(bad):
            for _index in range(per_thread):
                headers = {"Authorization": "Bearer " + ("bad" if bad else token)}
                requests.get(url, headers=headers, cookies=cookies, timeout=60)

        with self.raw_requests() as cookies:
            threads = [
                threading.Thread(target=work, args=(bad,)) for bad in (False, True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.assertEqual(statistic._flush_buffer(), 2 * per_thread)
        stats = statistic.search(domain)
        self.assertEqual(sum(stats.mapped("calls")) - calls_before, 2 * per_thread)
        self.assertEqual(sum(stats.mapped("errors")) - errors_before, per_thread)
        self.api_plain.invalidate_recordset()
        self.assertEqual(self.api_plain.calls_24h, calls_before + 2 * per_thread)
