import base64
import json

from odoo import Command
from odoo.tests import tagged

from ..compat import user_groups_field
from .common import SecureApiHttpCase


@tagged("post_install", "-at_install")
class TestRestOperations(SecureApiHttpCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.token()

    def partner_count(self):
        self.env.invalidate_all()
        return self.env["res.partner"].with_context(active_test=False).search_count([])

    def test_search_parameters(self):
        self.env["res.partner"].create(
            [{"name": f"Paging {i:02d}", "email": f"p{i}@x.org"} for i in range(30)]
        )
        base = f"/api/{self.api_plain.route}"
        query = (
            'domain=[("name","=like","Paging%")]'
            "&limit=5&offset=10&order=name desc&fields=name,mail"
        )
        page = self.result(self.request("GET", f"{base}?{query}", token=self.bearer))
        self.assertEqual(page["length"], 30)
        self.assertEqual(
            [r["name"] for r in page["records"]],
            [f"Paging {i:02d}" for i in (19, 18, 17, 16, 15)],
        )
        self.assertEqual(set(page["records"][0]), {"id", "name", "mail"})
        # The same through a JSON body and a form body on GET (no Content-Type needed).
        body = {"domain": [["name", "=like", "Paging%"]], "limit": 5, "count": "none"}
        page = self.result(self.request("GET", base, token=self.bearer, json_body=body))
        self.assertNotIn("length", page)
        self.assertEqual(len(page["records"]), 5)
        page = self.result(
            self.request(
                "GET",
                base,
                token=self.bearer,
                raw="limit=3&order=id",
                headers={"Content-Type": "application/json"},
            )
        )
        self.assertEqual(len(page["records"]), 3)
        # limit is clamped to the maximum, never an error.
        page = self.result(
            self.request("GET", f"{base}?limit=1000000", token=self.bearer)
        )
        self.assertLessEqual(len(page["records"]), 200)
        for bad in (
            "limit=-1",
            "offset=x",
            "order=email",
            "order=name;drop",
            "fields=email",
            "count=maybe",
            "limit=1&limit=2",
        ):
            self.assertError(
                self.request("GET", f"{base}?{bad}", token=self.bearer), 400
            )

    def test_hostile_domains(self):
        before = self.partner_count()
        base = f"/api/{self.api_obf.route}"
        hostile = [
            "__import__('os').system('echo pwned')",
            "[('name', '=', __import__('os').getcwd())]",
            "['|', ('name', '=', 'x')]",
            "['|']",
            "[('phone', '=', '1')]",  # not searchable
            "[('ref', '=', 'HIDDEN')]",  # exposed but not searchable
            # Dotted paths go through configured related fields only.
            "[('country_id.phone_code', '=', 32)]",
            "[('country_id.name.x', '=', 'Belgium')]",
            "[('tags.name', '=', 'VIP')]",
            "[('parent_id.name', '=', 'x')]",
            "[('name', 'child_of', 1)]",
            "[('tags', 'any', [])]",
            "[" * 1000 + "]" * 1000,
            "[('name', '=', '" + "x" * 1_000_000 + "')]",
            "{'a': 1}",
        ]
        for domain in hostile:
            with self.subTest(domain=domain[:40]):
                response = self.request(
                    "GET", base, token=self.bearer, json_body={"domain": domain}
                )
                self.assertIn(response.status_code, (400, 413), response.text[:200])
                self.assertNotIn("Traceback", response.text)
        # A dangling '|' cannot OR past the forced domain, even when well-formed.
        page = self.result(
            self.request(
                "GET",
                base,
                token=self.bearer,
                json_body={
                    "domain": "['|', ('name', '=', 'Hidden Partner'), "
                    "('name', '!=', 'zzz')]"
                },
            )
        )
        self.assertNotIn("Hidden Partner", [r["name"] for r in page["records"]])
        self.assertEqual(self.partner_count(), before)

    def test_hostile_ids(self):
        base = f"/api/{self.api_obf.route}"
        from hashids import Hashids

        salt = self.api_obf.hashid_salt
        country_id = self.ids(self.api_obf, self.belgium)
        multi = Hashids(
            salt=f"{salt}:res.partner", min_length=self.api_obf.hashid_min_length
        ).encode(self.partner.id, self.partner.id)
        for bad in (
            str(self.partner.id),
            country_id,
            multi,
            "0",
            str(2**31),
            "x" * 10_000,
        ):
            with self.subTest(id=bad[:20]):
                self.assertError(
                    self.request("GET", f"{base}/{bad}", token=self.bearer),
                    404,
                    "not_found",
                )
        plain = f"/api/{self.api_plain.route}"
        for bad in ("0", str(2**31), "-1", "abc", self.ids(self.api_obf, self.partner)):
            self.assertError(
                self.request("GET", f"{plain}/{bad}", token=self.bearer), 404
            )
        # A raw integer as a relation value is refused when obfuscated.
        self.assertError(
            self.request(
                "POST",
                base,
                token=self.bearer,
                json_body={"name": "x", "country_id": self.belgium.id},
            ),
            400,
            "invalid_id",
        )

    def test_hostile_bodies(self):
        before = self.partner_count()
        base = f"/api/{self.api_plain.route}"
        for body in (
            {"name": "x", "groups_id": [1]},
            {"name": "x", "company_id": 1},
            {"name": "x", "id": 5},
            {"name": "x", "tags": [[0, 0, {"name": "evil"}]]},
            {"name": "x", "tags": [[6, 0, [1]]]},
            {"name": "x", "context": {"active_test": False}},
            {"name": "x", "display_name": "y"},
            "just a string",
            42,
            [],
            [1, 2],
        ):
            with self.subTest(body=str(body)[:40]):
                self.assertError(
                    self.request("POST", base, token=self.bearer, json_body=body), 400
                )
        self.assertError(
            self.request(
                "POST",
                base,
                token=self.bearer,
                raw="{not json",
                headers={"Content-Type": "application/json"},
            ),
            400,
            "invalid_json",
        )
        self.env["ir.config_parameter"].sudo().set_param("secure_api.max_body_kb", 1)
        big = {"name": "x" * 5000}
        self.assertError(
            self.request("POST", base, token=self.bearer, json_body=big), 413
        )
        self.assertEqual(self.partner_count(), before)

    def test_bulk_create_is_atomic_and_names_the_index(self):
        before = self.partner_count()
        base = f"/api/{self.api_plain.route}"
        items = [{"name": f"Atomic {i}"} for i in range(8)]
        items[6] = {"name": False}  # violates res.partner's check_name constraint
        # A missing required value is the client's 422: no "bad query" with
        # its values in the server log.
        with self.assertNoLogs("odoo.sql_db", level="ERROR"):
            error = self.assertError(
                self.request("POST", base, token=self.bearer, json_body=items), 422
            )
        self.assertEqual(error["data"]["index"], 6)
        self.assertIn("Item 6", error["message"])
        items[6] = {
            "name": "ok",
            "mail": 5,
        }  # refused by the serializer before any write
        error = self.assertError(
            self.request("POST", base, token=self.bearer, json_body=items), 400
        )
        self.assertEqual(error["data"]["index"], 6)
        self.assertEqual(self.partner_count(), before)
        # Bulk update: one bad id means nothing is written.
        ids = self.result(
            self.request(
                "POST",
                base,
                token=self.bearer,
                json_body=[{"name": "U1"}, {"name": "U2"}],
            ),
            201,
        )
        response = self.request(
            "PATCH",
            base,
            token=self.bearer,
            json_body=[
                {"id": ids[0]["id"], "phone": "9"},
                {"id": self.hidden.id, "phone": "9"},
            ],
        )
        self.assertError(response, 404)
        self.env.invalidate_all()
        self.assertFalse(self.env["res.partner"].browse(ids[0]["id"]).phone)

    def test_forced_domain_hides_records_like_missing_ones(self):
        for api in (self.api_plain, self.api_obf):
            base = f"/api/{api.route}"
            hidden = self.ids(api, self.hidden)
            missing = self.ids(api, self.env["res.partner"].browse(2**31 - 1))
            for method, suffix, body in (
                ("GET", "", None),
                ("PATCH", "", {"phone": "1"}),
                ("DELETE", "", None),
                ("POST", "/address_get", {}),
            ):
                a = self.request(
                    method,
                    f"{base}/{hidden}{suffix}",
                    token=self.bearer,
                    json_body=body,
                )
                b = self.request(
                    method,
                    f"{base}/{missing}{suffix}",
                    token=self.bearer,
                    json_body=body,
                )
                self.assertEqual(
                    (a.status_code, a.json()["error"]),
                    (b.status_code, b.json()["error"]),
                )
                self.assertEqual(a.status_code, 404)
        self.assertTrue(self.hidden.exists())
        self.assertFalse(self.hidden.phone)

    def test_record_rules_hide_records_like_missing_ones(self):
        group = self.env["res.groups"].create({"name": "Rule-bound API users"})
        self.api_user[user_groups_field(self.env)] = [Command.link(group.id)]
        self.env["ir.rule"].create(
            {
                "name": "No RULE partners",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "groups": [Command.set([group.id])],
                "domain_force": "[('ref', '!=', 'RULE')]",
            }
        )
        ruled = self.env["res.partner"].create({"name": "Ruled", "ref": "RULE"})
        for api in (self.api_plain, self.api_obf):
            base = f"/api/{api.route}"
            hidden = self.request(
                "GET", f"{base}/{self.ids(api, ruled)}", token=self.bearer
            )
            missing = self.request(
                "GET",
                f"{base}/{self.ids(api, self.env['res.partner'].browse(2**31 - 1))}",
                token=self.bearer,
            )
            self.assertError(hidden, 404, "not_found")
            self.assertEqual(hidden.json()["error"], missing.json()["error"])
            page = self.result(
                self.request("GET", f"{base}?limit=200", token=self.bearer)
            )
            self.assertNotIn("Ruled", [r["name"] for r in page["records"]])

    def test_odoo_validation_errors_answer_422(self):
        api = self.make_api(
            "test/parents",
            obfuscate=False,
            field_ids=[
                Command.create(
                    {
                        "field_id": self.field("res.partner", "parent_id").id,
                        "writable": True,
                    }
                )
            ],
        )
        api.client_ids = [Command.set([self.client.id])]
        response = self.request(
            "PATCH",
            f"/api/{api.route}/{self.partner.id}",
            token=self.bearer,
            json_body={"parent_id": self.partner.id},
        )
        self.assertError(response, 422, "validation_error")
        self.env.invalidate_all()
        self.assertFalse(self.partner.parent_id)

    def test_writes_stay_inside_a_forced_domain_over_computed_fields(self):
        # complete_name is computed from name: writing name alone moves the
        # record out of this domain, and must be caught like a direct write.
        api = self.make_api(
            "test/unsealed",
            obfuscate=False,
            domain="[('complete_name', 'not like', 'SEALED%')]",
        )
        api.client_ids = [Command.set([self.client.id])]
        url = f"/api/{api.route}/{self.partner.id}"
        self.result(
            self.request("PATCH", url, token=self.bearer, json_body={"phone": "1"})
        )
        self.assertError(
            self.request(
                "PATCH", url, token=self.bearer, json_body={"name": "SEALED now"}
            ),
            422,
            "outside_domain",
        )
        self.env.invalidate_all()
        self.assertNotEqual(self.partner.name, "SEALED now")

    def test_writes_through_inverses_and_overrides_stay_inside_the_domain(self):
        # company_type writes is_company through its inverse: the domain
        # field changes though it was not sent.
        api = self.make_api(
            "test/companies", obfuscate=False, domain="[('is_company', '=', True)]"
        )
        api.field_ids = [
            Command.create(
                {
                    "field_id": self.field("res.partner", "company_type").id,
                    "writable": True,
                }
            )
        ]
        api.client_ids = [Command.set([self.client.id])]
        companies = self.env["res.partner"].create(
            [{"name": f"Inverse Co {i}", "is_company": True} for i in range(3)]
        )
        base = f"/api/{api.route}"
        for method, path, body in (
            ("PATCH", f"/{companies[0].id}", {"company_type": "person"}),
            ("PATCH", "", {"ids": [companies[1].id], "company_type": "person"}),
            ("PATCH", "", [{"id": companies[2].id, "company_type": "person"}]),
        ):
            with self.subTest(method=method, path=path, body=body):
                self.assertError(
                    self.request(
                        method, base + path, token=self.bearer, json_body=body
                    ),
                    422,
                    "outside_domain",
                )
        self.env.invalidate_all()
        self.assertTrue(all(companies.mapped("is_company")))

    def test_linking_a_record_cannot_push_the_target_out_of_the_domain(self):
        # Giving 'parent' a child takes it out of "has no children".
        api = self.make_api(
            "test/leaves", obfuscate=False, domain="[('child_ids', '=', False)]"
        )
        api.field_ids = [
            Command.create(
                {
                    "field_id": self.field("res.partner", "parent_id").id,
                    "writable": True,
                }
            )
        ]
        api.client_ids = [Command.set([self.client.id])]
        parent, child = self.env["res.partner"].create(
            [{"name": "Leaf parent"}, {"name": "Leaf child"}]
        )
        self.assertError(
            self.request(
                "PATCH",
                f"/api/{api.route}/{child.id}",
                token=self.bearer,
                json_body={"parent_id": parent.id},
            ),
            422,
            "outside_domain",
        )
        self.env.invalidate_all()
        self.assertFalse(child.parent_id)

    def test_record_rpc_cannot_move_its_record_out_of_the_domain(self):
        api = self.make_api(
            "test/named",
            obfuscate=False,
            domain="[('company_name', '!=', False)]",
            method_ids=[
                Command.create(
                    {
                        "name": "create_company",
                        "on_records": True,
                        "response_encoding": "manual",
                    }
                )
            ],
        )
        api.client_ids = [Command.set([self.client.id])]
        partner = self.env["res.partner"].create(
            {"name": "Named person", "company_name": "Named Co"}
        )
        self.assertError(
            self.request(
                "POST",
                f"/api/{api.route}/{partner.id}/create_company",
                token=self.bearer,
                json_body={},
            ),
            422,
            "outside_domain",
        )
        self.env.invalidate_all()
        self.assertEqual(partner.company_name, "Named Co")
        self.assertFalse(partner.parent_id)

    def test_values_odoo_syncs_to_contacts_cannot_push_them_out(self):
        # A company's address flows down to its contacts: writing the city
        # of the company moves its contact out of "companies or no city".
        api = self.make_api(
            "test/cityless",
            obfuscate=False,
            domain="['|', ('is_company', '=', True), ('city', '=', False)]",
        )
        api.field_ids = [
            Command.create(
                {"field_id": self.field("res.partner", "city").id, "writable": True}
            )
        ]
        api.client_ids = [Command.set([self.client.id])]
        company = self.env["res.partner"].create(
            {"name": "Sync Co", "is_company": True}
        )
        contact = self.env["res.partner"].create(
            {"name": "Sync Kid", "parent_id": company.id, "type": "contact"}
        )
        self.assertError(
            self.request(
                "PATCH",
                f"/api/{api.route}/{company.id}",
                token=self.bearer,
                json_body={"city": "Paris"},
            ),
            422,
            "outside_domain",
        )
        self.env.invalidate_all()
        self.assertFalse(contact.city)

    def test_model_rpc_cannot_create_or_return_records_outside_the_domain(self):
        api = self.make_api(
            "test/companies_only",
            obfuscate=False,
            domain="[('is_company', '=', True)]",
            method_ids=[
                Command.create(
                    {
                        "name": "find_or_create",
                        "on_records": False,
                        "response_encoding": "model",
                    }
                )
            ],
        )
        api.client_ids = [Command.set([self.client.id])]
        self.assertError(
            self.request(
                "POST",
                f"/api/{api.route}/call/find_or_create",
                token=self.bearer,
                json_body={"args": ["outsider@example.com"]},
            ),
            422,
            "outside_domain",
        )
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "outsider@example.com")])
        )

    def test_writes_stay_inside_the_forced_domain(self):
        api = self.make_api(
            "test/persons", obfuscate=False, domain="[('is_company', '=', False)]"
        )
        api.client_ids = [Command.set([self.client.id])]
        base = f"/api/{api.route}"
        self.assertError(
            self.request(
                "PATCH",
                f"{base}/{self.partner.id}",
                token=self.bearer,
                json_body={"is_company": True},
            ),
            422,
            "outside_domain",
        )
        self.assertError(
            self.request(
                "POST",
                base,
                token=self.bearer,
                json_body={"name": "Corp", "is_company": True},
            ),
            422,
            "outside_domain",
        )
        self.env.invalidate_all()
        self.assertFalse(self.partner.is_company)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Corp")]))

    def test_record_rules_and_acls_of_the_execution_user(self):
        reader_client, secret = self.make_client(
            "Weak user app", self.reader_user, scopes="all"
        )
        self.api_plain.client_ids = [Command.link(reader_client.id)]
        token = self.token(reader_client, secret)
        base = f"/api/{self.api_plain.route}"
        self.result(self.request("GET", base, token=token))
        self.assertError(
            self.request("POST", base, token=token, json_body={"name": "nope"}),
            403,
            "access_denied",
        )
        self.assertError(
            self.request("DELETE", f"{base}/{self.partner.id}", token=token), 403
        )
        self.assertTrue(self.partner.exists())

    def test_operations_lifecycle_and_endpoints(self):
        base = f"/api/{self.api_plain.route}"
        self.api_plain.allow_delete = False
        response = self.request(
            "DELETE", f"{base}/{self.partner.id}", token=self.bearer
        )
        self.assertError(response, 405)
        self.assertNotIn("DELETE", response.headers["Allow"])
        self.assertIn("GET", response.headers["Allow"])
        search = self.api_plain.endpoint_ids.filtered(lambda e: e.operation == "search")
        search.active = False
        self.assertError(
            self.request("GET", base, token=self.bearer), 404, "unknown_route"
        )
        self.result(self.request("GET", f"{base}/{self.partner.id}", token=self.bearer))
        self.api_plain.action_deactivate()
        self.assertError(
            self.request("GET", f"{base}/{self.partner.id}", token=self.bearer), 404
        )
        self.api_plain.action_reset_to_draft()
        self.assertError(
            self.request("GET", f"{base}/{self.partner.id}", token=self.bearer), 404
        )
        self.assertError(
            self.request("GET", "/api/no/such/route", token=self.bearer), 404
        )
        self.assertError(
            self.request("GET", f"/api/{self.api_obf.route}/a/b/c", token=self.bearer),
            404,
        )

    def test_scopes(self):
        token = self.token(self.reader_client, self.reader_secret)
        base = f"/api/{self.api_plain.route}"
        self.result(self.request("GET", base, token=token))
        for method, path, body in (
            ("POST", base, {"name": "x"}),
            ("DELETE", f"{base}/{self.partner.id}", None),
            ("PATCH", f"{base}/{self.partner.id}", {"name": "x"}),
        ):
            response = self.request(method, path, token=token, json_body=body)
            self.assertError(response, 403, "insufficient_scope")
            self.assertIn(
                'error="insufficient_scope"', response.headers["WWW-Authenticate"]
            )
            self.assertIn("scope=", response.headers["WWW-Authenticate"])
        self.assertEqual(self.partner.name, "Azure Interior API Test")
        # A client app not allowed on this API gets nothing.
        self.api_plain.client_ids = [Command.unlink(self.reader_client.id)]
        self.assertError(self.request("GET", base, token=token), 403)

    def test_authentication_required(self):
        base = f"/api/{self.api_plain.route}"
        response = self.request("GET", base)
        self.assertError(response, 401)
        self.assertEqual(
            response.headers["WWW-Authenticate"], 'Bearer realm="secure_api"'
        )
        response = self.request("GET", base, headers={"Authorization": "Bearer nope"})
        self.assertError(response, 401, "invalid_token")
        self.assertIn('error="invalid_token"', response.headers["WWW-Authenticate"])
        for header in ("Bearer", "Bearer a b"):
            response = self.request("GET", base, headers={"Authorization": header})
            self.assertError(response, 401, "invalid_request")
        response = self.request(
            "GET", f"{base}?access_token={self.bearer}", token=self.bearer
        )
        self.assertError(response, 401, "invalid_request")

    def test_public_mode_runs_as_its_user(self):
        api = self.make_api(
            "test/public",
            obfuscate=False,
            auth_mode="public",
            run_as_user_id=self.reader_user.id,
        )
        page = self.result(self.request("GET", f"/api/{api.route}?fields=name"))
        self.assertGreater(page["length"], 0)
        self.assertError(
            self.request("POST", f"/api/{api.route}", json_body={"name": "x"}), 403
        )

    def test_test_mode_rolls_back(self):
        before = self.partner_count()
        self.api_plain.test_mode = True
        response = self.request(
            "POST",
            f"/api/{self.api_plain.route}",
            token=self.bearer,
            json_body={"name": "Ghost"},
        )
        created = self.result(response, 201)
        self.assertEqual(created["name"], "Ghost")
        self.assertEqual(response.headers.get("X-Test-Mode"), "1")
        self.assertEqual(self.partner_count(), before)
        self.api_plain.test_mode = False
        self.client.test_mode = True
        response = self.request(
            "PATCH",
            f"/api/{self.api_plain.route}/{self.partner.id}",
            token=self.bearer,
            json_body={"name": "Renamed"},
        )
        self.assertEqual(self.result(response)["name"], "Renamed")
        self.assertEqual(response.headers.get("X-Test-Mode"), "1")
        self.env.invalidate_all()
        self.assertEqual(self.partner.name, "Azure Interior API Test")

    def test_cors(self):
        self.api_plain.write(
            {
                "cors_enabled": True,
                "cors_origins": "https://app.example.com",
                "cors_max_age": 300,
            }
        )
        base = f"/api/{self.api_plain.route}"
        response = self.request(
            "GET",
            base,
            token=self.bearer,
            headers={"Origin": "https://app.example.com"},
        )
        self.assertEqual(
            response.headers["Access-Control-Allow-Origin"], "https://app.example.com"
        )
        self.assertIn("Origin", response.headers["Vary"])
        response = self.request(
            "GET",
            base,
            token=self.bearer,
            headers={"Origin": "https://evil.example.com"},
        )
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)
        response = self.request(
            "OPTIONS",
            base,
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
            },
        )
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response.headers["Access-Control-Max-Age"], "300")
        self.assertIn("POST", response.headers["Access-Control-Allow-Methods"])
        response = self.request(
            "OPTIONS", base, headers={"Origin": "https://evil.example.com"}
        )
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)

    def test_session_cookie_with_csrf_defence(self):
        self.authenticate("secure_api_runner", "secure_api_runner_pw")
        base = f"/api/{self.api_plain.route}"
        self.result(self.request("GET", base))
        self.result(self.request("POST", base, json_body={"name": "Via session"}), 201)
        self.assertError(
            self.request("POST", base, data={"name": "form post"}), 403, "csrf"
        )
        self.assertError(
            self.request(
                "POST",
                base,
                json_body={"name": "x"},
                headers={"Origin": "https://evil.example.com"},
            ),
            403,
            "csrf",
        )
        self.result(
            self.request(
                "POST",
                base,
                json_body={"name": "Same origin"},
                headers={"Origin": self.base_url()},
            ),
            201,
        )
        self.assertFalse(
            self.env["res.partner"].search([("name", "in", ("form post", "x"))])
        )

    def test_rpc(self):
        for api in (self.api_plain, self.api_obf):
            base = f"/api/{api.route}"
            pid = self.ids(api, self.partner)
            result = self.result(
                self.request(
                    "POST", f"{base}/{pid}/address_get", token=self.bearer, json_body={}
                )
            )
            self.assertEqual(result["contact"], pid)
            created = self.result(
                self.request(
                    "POST",
                    f"{base}/call/find_or_create",
                    token=self.bearer,
                    json_body={"args": [f"Rpc Co <rpc@{api.id}.example.com>"]},
                )
            )
            new = self.env["res.partner"].search(
                [("email", "=", f"rpc@{api.id}.example.com")]
            )
            self.assertEqual(created[0], self.ids(api, new))
            self.assertError(
                self.request(
                    "POST",
                    f"{base}/call/find_or_create",
                    token=self.bearer,
                    json_body={"args": [], "kwargs": {"bogus": 1}},
                ),
                400,
                "invalid_arguments",
            )
            self.assertError(
                self.request(
                    "POST", f"{base}/call/unlink", token=self.bearer, json_body={}
                ),
                404,
            )
            self.assertError(
                self.request(
                    "POST",
                    f"{base}/{pid}/find_or_create",
                    token=self.bearer,
                    json_body={},
                ),
                404,
            )
            self.assertError(
                self.request(
                    "POST",
                    f"{base}/call/find_or_create",
                    token=self.bearer,
                    json_body={"args": ["x"], "kwargs": {"context": {}}},
                ),
                400,
            )

    def test_multi_model(self):
        api = self.env["secure.api"].create(
            {
                "name": "Multi",
                "route": "test/multi",
                "multi_model": True,
                "obfuscate_ids": True,
                "allowed_model_ids": [
                    Command.set([self.env["ir.model"]._get_id("res.country")])
                ],
                "field_ids": [
                    Command.create(
                        {
                            "field_id": self.field("res.country", "code").id,
                            "searchable": True,
                        }
                    )
                ],
                "client_ids": [Command.set([self.client.id])],
            }
        )
        api.action_publish()
        page = self.result(
            self.request(
                "GET",
                "/api/test/multi/res.country?domain=[('code','=','BE')]",
                token=self.bearer,
            )
        )
        self.assertEqual(page["records"][0]["id"], self.ids(api, self.belgium))
        self.assertError(
            self.request("GET", "/api/test/multi/res.users", token=self.bearer), 404
        )
        self.assertError(self.request("GET", "/api/test/multi", token=self.bearer), 404)

    def test_binary_route(self):
        png = base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
        )
        self.partner.image_1920 = base64.b64encode(png)
        for api in (self.api_plain, self.api_obf):
            record = self.result(
                self.request(
                    "GET",
                    f"/api/{api.route}/{self.ids(api, self.partner)}",
                    token=self.bearer,
                )
            )
            url = record["image_128"]
            self.assertTrue(url.startswith(f"/api/image/{api.id}/res.partner/"))
            response = self.request("GET", url, token=self.bearer)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["Content-Type"], "image/png")
            self.assertEqual(self.request("GET", url).status_code, 401)
            hidden = url.replace(
                str(self.ids(api, self.partner)), str(self.ids(api, self.hidden))
            )
            self.assertEqual(
                self.request("GET", hidden, token=self.bearer).status_code, 404
            )
            other = url.replace("image_128", "image_1920")
            self.assertEqual(
                self.request("GET", other, token=self.bearer).status_code, 404
            )
        api = self.make_api("test/b64", obfuscate=False, binary_mode="base64")
        api.client_ids = [Command.set([self.client.id])]
        record = self.result(
            self.request(
                "GET", f"/api/{api.route}/{self.partner.id}", token=self.bearer
            )
        )
        self.assertTrue(base64.b64decode(record["image_128"]).startswith(b"\x89PNG"))

    def test_defaults_on_create(self):
        self.env["secure.api.default"].create(
            [
                {
                    "api_id": self.api_plain.id,
                    "field_id": self.field("res.partner", "ref").id,
                    "expression": "'API'",
                },
                {
                    "api_id": self.api_plain.id,
                    "field_id": self.field("res.partner", "comment").id,
                    "expression": "str(today)",
                },
            ]
        )
        created = self.result(
            self.request(
                "POST",
                f"/api/{self.api_plain.route}",
                token=self.bearer,
                json_body={"name": "Defaulted"},
            ),
            201,
        )
        self.assertEqual(created["ref"], "API")
        partner = self.env["res.partner"].browse(created["id"])
        self.assertIn(str(partner.create_date.date()), partner.comment)

    def test_context_holds_api_and_app(self):
        self.env["secure.api.default"].create(
            {
                "api_id": self.api_plain.id,
                "field_id": self.field("res.partner", "ref").id,
                "expression": "'api=%s app=%s' % (api_id, app_id)",
            }
        )
        created = self.result(
            self.request(
                "POST",
                f"/api/{self.api_plain.route}",
                token=self.bearer,
                json_body={"name": "Ctx"},
            ),
            201,
        )
        self.assertEqual(
            created["ref"], f"api={self.api_plain.id} app={self.client.id}"
        )

    def test_no_traceback_on_unexpected_errors(self):
        response = self.request(
            "GET",
            f"/api/{self.api_plain.route}",
            token=self.bearer,
            raw=json.dumps({"domain": [["name", "=", "x"]], "fields": 5}),
        )
        self.assertError(response, 400)
