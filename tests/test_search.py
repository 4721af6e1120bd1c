"""Search parameters and domains (contract: Request parameters), in process."""

import json

from odoo.tests import tagged

from .common import SecureApiTransactionCase

PAGING = 'domain=[("name","=like","Paging%")]'
# The 30 "Paging" contacts, page 3 of 5 by name descending, two fields.
PAGE = f"{PAGING}&limit=5&offset=10&order=name desc&fields=name,mail"
JSON_PAGE = {"domain": [["name", "=like", "Paging%"]], "limit": 5, "count": "none"}


@tagged("post_install", "-at_install")
class TestSearchParameters(SecureApiTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.partner"].create(
            [{"name": f"Paging {i:02d}", "email": f"p{i}@x.org"} for i in range(30)]
        )

    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"

    def search(self, query="", **values):
        path = f"{self.base}?{query}" if query else self.base
        return self.call("GET", path, token=self.bearer, **values)

    def test_length_counts_every_matching_record_not_only_the_page(self):
        self.assertEqual(self.result(self.search(PAGE))["length"], 30)

    def test_offset_limit_and_order_choose_the_page(self):
        page = self.result(self.search(PAGE))
        self.assertEqual(
            [r["name"] for r in page["records"]],
            [f"Paging {i:02d}" for i in (19, 18, 17, 16, 15)],
        )

    def test_fields_chooses_exposed_fields_by_their_aliases(self):
        page = self.result(self.search(PAGE))
        self.assertEqual(set(page["records"][0]), {"id", "name", "mail"})

    def test_parameters_may_come_in_a_json_body_on_get(self):
        page = self.result(self.search(json=JSON_PAGE))
        self.assertEqual(len(page["records"]), 5)

    def test_count_none_leaves_the_length_out(self):
        page = self.result(self.search(json=JSON_PAGE))
        self.assertNotIn("length", page)

    def test_a_form_body_on_get_is_read_as_a_form_even_when_it_claims_json(self):
        # As some documented curl calls send it.
        answer = self.search(
            raw="limit=3&order=id", headers={"Content-Type": "application/json"}
        )
        self.assertEqual(len(self.result(answer)["records"]), 3)

    def test_limit_is_clamped_to_the_api_maximum(self):
        self.api_plain.write({"default_limit": 10, "max_limit": 20})
        page = self.result(self.search(f"{PAGING}&limit=1000000"))
        self.assertEqual(len(page["records"]), 20)
        self.assertLessEqual(len(page["records"]), self.api_plain.max_limit)

    def test_a_negative_limit_is_400(self):
        self.error(self.search("limit=-1"), 400, "invalid_parameter")

    def test_an_offset_that_is_not_a_number_is_400(self):
        self.error(self.search("offset=x"), 400, "invalid_parameter")

    def test_order_by_the_odoo_name_of_an_aliased_field_is_400(self):
        self.error(self.search("order=email"), 400, "invalid_field")

    def test_order_with_anything_but_fields_and_directions_is_400(self):
        self.error(self.search("order=name;drop"), 400, "invalid_parameter")

    def test_fields_naming_the_odoo_name_of_an_aliased_field_is_400(self):
        self.error(self.search("fields=email"), 400, "invalid_field")

    def test_an_unknown_count_is_400(self):
        self.error(self.search("count=maybe"), 400, "invalid_parameter")

    def test_a_parameter_given_twice_is_400(self):
        self.error(self.search("limit=1&limit=2"), 400, "invalid_parameter")

    def test_a_parameter_of_the_wrong_json_type_is_400_not_a_traceback(self):
        body = json.dumps({"domain": [["name", "=", "x"]], "fields": 5})
        self.error(self.search(raw=body), 400, "invalid_parameter")


@tagged("post_install", "-at_install")
class TestSearchDomains(SecureApiTransactionCase):
    """A domain is parsed as a literal over the API's searchable fields and
    ANDed with the forced domain; anything else is 400 and changes nothing."""

    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_obf.route}"

    def search(self, domain):
        return self.call("GET", self.base, token=self.bearer, json={"domain": domain})

    def assert_refused(self, *domains, name="invalid_domain"):
        before = self.partner_count()
        for domain in domains:
            with self.subTest(domain=domain[:40]):
                self.error(self.search(domain), 400, name)
        self.assertEqual(self.partner_count(), before)

    def test_a_domain_is_parsed_as_a_literal_never_evaluated(self):
        self.assert_refused(
            "__import__('os').system('echo pwned')",
            "[('name', '=', __import__('os').getcwd())]",
        )

    def test_a_malformed_domain_is_400(self):
        self.assert_refused("['|', ('name', '=', 'x')]", "['|']", "{'a': 1}")

    def test_a_domain_nested_too_deeply_is_400(self):
        self.assert_refused("[" * 1000 + "]" * 1000)

    def test_a_domain_on_a_field_that_is_not_searchable_is_400(self):
        self.assert_refused(
            "[('phone', '=', '1')]",  # exposed, not searchable
            "[('ref', '=', 'HIDDEN')]",  # exposed, not searchable, forced domain
            name="invalid_field",
        )

    def test_a_domain_through_a_relation_is_400_unless_configured(self):
        # Dotted paths go through configured related fields only (country_id
        # shows name and code).
        self.assert_refused(
            "[('country_id.phone_code', '=', 32)]",
            "[('country_id.name.x', '=', 'Belgium')]",
            "[('tags.name', '=', 'VIP')]",
            "[('parent_id.name', '=', 'x')]",
            name="invalid_field",
        )

    def test_a_domain_operator_that_is_not_plain_is_400(self):
        self.assert_refused("[('name', 'child_of', 1)]", "[('tags', 'any', [])]")

    def test_a_domain_value_too_long_is_400(self):
        self.assert_refused("[('name', '=', '" + "x" * 1_000_000 + "')]")

    def test_a_dangling_or_cannot_widen_the_forced_domain(self):
        before = self.partner_count()
        page = self.result(
            self.search("['|', ('name', '=', 'Hidden Partner'), ('name', '!=', 'zzz')]")
        )
        self.assertNotIn("Hidden Partner", [r["name"] for r in page["records"]])
        self.assertEqual(self.partner_count(), before)
