"""Creating, updating and deleting records (contract: Routes, Responses), in
process: what a body may hold, bulk atomicity, the forced domain on writes,
defaults."""

from odoo import Command
from odoo.tests import tagged

from .common import SecureApiTransactionCase


class WriteCase(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"

    def write_api(self, route, domain, **values):
        """An API of this client with its own forced domain."""
        api = self.make_api(route, obfuscate=False, domain=domain, **values)
        api.client_ids = [Command.set([self.client.id])]
        return api

    def expose(self, api, name):
        api.field_ids = [
            Command.create(
                {"field_id": self.field("res.partner", name).id, "writable": True}
            )
        ]


@tagged("post_install", "-at_install")
class TestWriteBodies(WriteCase):
    """What a create body may hold; anything else is 400 and writes nothing."""

    def assert_create_refused(self, *bodies, name=None):
        before = self.partner_count()
        for body in bodies:
            with self.subTest(body=str(body)[:40]):
                self.error(
                    self.call("POST", self.base, token=self.bearer, json=body),
                    400,
                    name,
                )
        self.assertEqual(self.partner_count(), before)

    def test_a_field_that_is_not_exposed_is_400(self):
        self.assert_create_refused(
            {"name": "x", "groups_id": [1]}, {"name": "x", "company_id": 1}
        )

    def test_an_id_in_a_create_body_is_400(self):
        self.assert_create_refused({"name": "x", "id": 5})

    def test_x2many_commands_are_400(self):
        self.assert_create_refused(
            {"name": "x", "tags": [[0, 0, {"name": "evil"}]]},
            {"name": "x", "tags": [[6, 0, [1]]]},
        )

    def test_a_context_in_the_body_is_400(self):
        self.assert_create_refused({"name": "x", "context": {"active_test": False}})

    def test_a_field_that_is_not_writable_is_400(self):
        self.assert_create_refused({"name": "x", "display_name": "y"})

    def test_a_body_that_is_not_an_object_or_a_list_of_objects_is_400(self):
        self.assert_create_refused("just a string", 42, [], [1, 2])

    def test_a_body_that_is_not_json_is_400_invalid_json(self):
        before = self.partner_count()
        answer = self.call(
            "POST",
            self.base,
            token=self.bearer,
            raw="{not json",
            headers={"Content-Type": "application/json"},
        )
        self.error(answer, 400, "invalid_json")
        self.assertEqual(self.partner_count(), before)

    def test_a_raw_integer_as_a_relation_value_is_400_when_obfuscated(self):
        answer = self.call(
            "POST",
            f"/api/{self.api_obf.route}",
            token=self.bearer,
            json={"name": "x", "country_id": self.belgium.id},
        )
        self.error(answer, 400, "invalid_id")

    def test_a_value_odoo_refuses_is_422_validation_error(self):
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
        answer = self.call(
            "PATCH",
            f"/api/{api.route}/{self.partner.id}",
            token=self.bearer,
            json={"parent_id": self.partner.id},
        )
        self.error(answer, 422, "validation_error")
        self.env.invalidate_all()
        self.assertFalse(self.partner.parent_id)


@tagged("post_install", "-at_install")
class TestBulkWrites(WriteCase):
    """A bulk call is all-or-nothing; its error names the failing item."""

    def items(self, failing):
        items = [{"name": f"Atomic {i}"} for i in range(8)]
        items[6] = failing
        return items

    def test_a_bulk_create_odoo_refuses_is_422_naming_the_failing_item(self):
        before = self.partner_count()
        # name=False violates res.partner's check_name constraint: a missing
        # required value is the client's 422, with no "bad query" and its
        # values in the server log.
        with self.assertNoLogs("odoo.sql_db", level="ERROR"):
            answer = self.call(
                "POST", self.base, token=self.bearer, json=self.items({"name": False})
            )
        error = self.error(answer, 422)
        self.assertEqual(error["data"]["index"], 6)
        self.assertIn("Item 6", error["message"])
        self.assertEqual(self.partner_count(), before)

    def test_a_bulk_create_with_a_value_the_api_refuses_is_400_naming_the_item(self):
        before = self.partner_count()
        # Refused by the serializer, before anything is written.
        items = self.items({"name": "ok", "mail": 5})
        error = self.error(
            self.call("POST", self.base, token=self.bearer, json=items), 400
        )
        self.assertEqual(error["data"]["index"], 6)
        self.assertEqual(self.partner_count(), before)

    def test_a_bulk_update_with_one_record_outside_the_domain_writes_nothing(self):
        created = self.result(
            self.call(
                "POST",
                self.base,
                token=self.bearer,
                json=[{"name": "U1"}, {"name": "U2"}],
            ),
            201,
        )
        answer = self.call(
            "PATCH",
            self.base,
            token=self.bearer,
            json=[
                {"id": created[0]["id"], "phone": "9"},
                {"id": self.hidden.id, "phone": "9"},
            ],
        )
        self.error(answer, 404)
        self.env.invalidate_all()
        self.assertFalse(self.env["res.partner"].browse(created[0]["id"]).phone)


@tagged("post_install", "-at_install")
class TestWritesStayInsideTheDomain(WriteCase):
    """A write that would leave the forced domain is 422 ``outside_domain``
    and changes nothing, however the record would leave it."""

    def assert_outside_domain(self, method, path, body):
        answer = self.call(method, path, token=self.bearer, json=body)
        self.error(answer, 422, "outside_domain")
        self.env.invalidate_all()

    def test_an_update_that_would_leave_the_forced_domain_is_422(self):
        api = self.write_api("test/persons", "[('is_company', '=', False)]")
        self.assert_outside_domain(
            "PATCH", f"/api/{api.route}/{self.partner.id}", {"is_company": True}
        )
        self.assertFalse(self.partner.is_company)

    def test_a_create_outside_the_forced_domain_is_422(self):
        api = self.write_api("test/persons", "[('is_company', '=', False)]")
        self.assert_outside_domain(
            "POST", f"/api/{api.route}", {"name": "Corp", "is_company": True}
        )
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Corp")]))

    def test_a_write_leaving_the_domain_through_a_computed_field_is_422(self):
        # complete_name is computed from name: writing name alone moves the
        # record out of this domain, and must be caught like a direct write.
        api = self.write_api(
            "test/unsealed", "[('complete_name', 'not like', 'SEALED%')]"
        )
        url = f"/api/{api.route}/{self.partner.id}"
        self.result(self.call("PATCH", url, token=self.bearer, json={"phone": "1"}))
        self.assert_outside_domain("PATCH", url, {"name": "SEALED now"})
        self.assertNotEqual(self.partner.name, "SEALED now")

    def test_a_write_leaving_the_domain_through_an_inverse_is_422(self):
        # company_type writes is_company through its inverse: the domain
        # field changes though it was not sent.
        api = self.write_api("test/companies", "[('is_company', '=', True)]")
        self.expose(api, "company_type")
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
                self.assert_outside_domain(method, base + path, body)
        self.assertTrue(all(companies.mapped("is_company")))

    def test_linking_a_record_cannot_push_the_target_out_of_the_domain(self):
        # Giving 'parent' a child takes it out of "has no children".
        api = self.write_api("test/leaves", "[('child_ids', '=', False)]")
        self.expose(api, "parent_id")
        parent, child = self.env["res.partner"].create(
            [{"name": "Leaf parent"}, {"name": "Leaf child"}]
        )
        self.assert_outside_domain(
            "PATCH", f"/api/{api.route}/{child.id}", {"parent_id": parent.id}
        )
        self.assertFalse(child.parent_id)

    def test_values_odoo_syncs_to_contacts_cannot_push_them_out(self):
        # A company's address flows down to its contacts: writing the city
        # of the company moves its contact out of "companies or no city".
        api = self.write_api(
            "test/cityless", "['|', ('is_company', '=', True), ('city', '=', False)]"
        )
        self.expose(api, "city")
        company = self.env["res.partner"].create(
            {"name": "Sync Co", "is_company": True}
        )
        contact = self.env["res.partner"].create(
            {"name": "Sync Kid", "parent_id": company.id, "type": "contact"}
        )
        self.assert_outside_domain(
            "PATCH", f"/api/{api.route}/{company.id}", {"city": "Paris"}
        )
        self.assertFalse(contact.city)

    def test_a_record_method_cannot_move_its_record_out_of_the_domain(self):
        api = self.write_api(
            "test/named",
            "[('company_name', '!=', False)]",
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
        partner = self.env["res.partner"].create(
            {"name": "Named person", "company_name": "Named Co"}
        )
        self.assert_outside_domain(
            "POST", f"/api/{api.route}/{partner.id}/create_company", {}
        )
        self.assertEqual(partner.company_name, "Named Co")
        self.assertFalse(partner.parent_id)

    def test_a_model_method_cannot_create_or_return_records_outside_the_domain(
        self,
    ):
        api = self.write_api(
            "test/companies_only",
            "[('is_company', '=', True)]",
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
        self.assert_outside_domain(
            "POST",
            f"/api/{api.route}/call/find_or_create",
            {"args": ["outsider@example.com"]},
        )
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "outsider@example.com")])
        )


@tagged("post_install", "-at_install")
class TestCreateDefaults(WriteCase):
    def create_named(self, name):
        answer = self.call("POST", self.base, token=self.bearer, json={"name": name})
        return self.result(answer, 201)

    def default(self, field, expression):
        self.env["secure.api.default"].create(
            {
                "api_id": self.api_plain.id,
                "field_id": self.field("res.partner", field).id,
                "expression": expression,
            }
        )

    def test_defaults_fill_a_create_from_their_expressions(self):
        self.default("ref", "'API'")
        self.default("comment", "str(today)")
        created = self.create_named("Defaulted")
        self.assertEqual(created["ref"], "API")
        partner = self.env["res.partner"].browse(created["id"])
        self.assertIn(str(partner.create_date.date()), partner.comment)

    def test_the_context_of_a_request_holds_the_api_and_the_client_app(self):
        self.default("ref", "'api=%s app=%s' % (api_id, app_id)")
        created = self.create_named("Ctx")
        self.assertEqual(
            created["ref"], f"api={self.api_plain.id} app={self.client.id}"
        )
