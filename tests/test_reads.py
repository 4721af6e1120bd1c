"""Reading records (contract: Routes, Responses), in process: ids, records
hidden by the forced domain or record rules, multi-model APIs, binaries."""

import base64

from hashids import Hashids

from odoo import Command
from odoo.tests import tagged

from ..compat import user_groups_field
from .common import SecureApiTransactionCase

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAA"
    "AABJRU5ErkJggg=="
)


class ReadCase(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()

    def apis(self):
        for api in (self.api_plain, self.api_obf):
            with self.subTest(obfuscated=api.obfuscate_ids):
                yield api, f"/api/{api.route}"

    def read_one(self, api, record_id):
        return self.call("GET", f"/api/{api.route}/{record_id}", token=self.bearer)

    def missing_id(self, api):
        return self.ids(api, self.env["res.partner"].browse(2**31 - 1))


@tagged("post_install", "-at_install")
class TestRecordIds(ReadCase):
    """An id the API did not give out is 404, whatever it looks like."""

    def assert_not_found(self, api, *record_ids, name="not_found"):
        for record_id in record_ids:
            with self.subTest(id=str(record_id)[:20]):
                self.error(self.read_one(api, record_id), 404, name)

    def test_a_plain_integer_id_on_an_obfuscated_api_is_404(self):
        self.assert_not_found(self.api_obf, str(self.partner.id), "0", str(2**31))

    def test_a_hashid_of_another_model_is_404(self):
        self.assert_not_found(self.api_obf, self.ids(self.api_obf, self.belgium))

    def test_a_hashid_of_several_numbers_is_404(self):
        several = Hashids(
            salt=f"{self.api_obf.hashid_salt}:res.partner",
            min_length=self.api_obf.hashid_min_length,
        ).encode(self.partner.id, self.partner.id)
        self.assert_not_found(self.api_obf, several)

    def test_an_oversized_id_is_404(self):
        self.assert_not_found(self.api_obf, "x" * 10_000)

    def test_an_id_that_is_not_a_positive_32_bit_integer_is_404_on_a_plain_api(self):
        self.assert_not_found(self.api_plain, "0", str(2**31), "-1", "abc", name=None)

    def test_a_hashid_on_a_plain_api_is_404(self):
        self.assert_not_found(
            self.api_plain, self.ids(self.api_obf, self.partner), name=None
        )


@tagged("post_install", "-at_install")
class TestHiddenRecords(ReadCase):
    """A record outside the forced domain or the user's record rules is
    answered exactly as a record that does not exist."""

    def assert_answered_as_missing(self, method, suffix="", body=None):
        for api, base in self.apis():
            hidden = self.call(
                method,
                f"{base}/{self.ids(api, self.hidden)}{suffix}",
                token=self.bearer,
                json=body,
            )
            missing = self.call(
                method,
                f"{base}/{self.missing_id(api)}{suffix}",
                token=self.bearer,
                json=body,
            )
            self.assertEqual(
                (hidden.status, hidden.body["error"]),
                (missing.status, missing.body["error"]),
            )
            self.assertEqual(hidden.status, 404)

    def test_reading_a_record_outside_the_forced_domain_is_the_missing_404(self):
        self.assert_answered_as_missing("GET")

    def test_updating_a_record_outside_the_forced_domain_is_the_missing_404(self):
        self.assert_answered_as_missing("PATCH", body={"phone": "1"})
        self.assertFalse(self.hidden.phone)

    def test_deleting_a_record_outside_the_forced_domain_is_the_missing_404(self):
        self.assert_answered_as_missing("DELETE")
        self.assertTrue(self.hidden.exists())

    def test_a_method_on_a_record_outside_the_forced_domain_is_the_missing_404(self):
        self.assert_answered_as_missing("POST", "/address_get", body={})

    def rule_out(self, ref):
        """A record rule of the execution user that hides contacts ``ref``."""
        group = self.env["res.groups"].create({"name": "Rule-bound API users"})
        self.api_user[user_groups_field(self.env)] = [Command.link(group.id)]
        self.env["ir.rule"].create(
            {
                "name": f"No {ref} partners",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "groups": [Command.set([group.id])],
                "domain_force": f"[('ref', '!=', '{ref}')]",
            }
        )
        return self.env["res.partner"].create({"name": "Ruled", "ref": ref})

    def test_a_record_hidden_by_a_record_rule_is_the_missing_404(self):
        ruled = self.rule_out("RULE")
        for api, _base in self.apis():
            hidden = self.read_one(api, self.ids(api, ruled))
            missing = self.read_one(api, self.missing_id(api))
            self.error(hidden, 404, "not_found")
            self.assertEqual(hidden.body["error"], missing.body["error"])

    def test_search_leaves_out_records_hidden_by_a_record_rule(self):
        self.rule_out("RULE")
        for _api, base in self.apis():
            page = self.result(self.call("GET", f"{base}?limit=200", token=self.bearer))
            self.assertNotIn("Ruled", [r["name"] for r in page["records"]])


@tagged("post_install", "-at_install")
class TestMultiModel(ReadCase):
    def setUp(self):
        super().setUp()
        self.api = self.env["secure.api"].create(
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
        self.api.action_publish()

    def test_a_multi_model_api_serves_each_allowed_model_under_its_name(self):
        page = self.result(
            self.call(
                "GET",
                "/api/test/multi/res.country?domain=[('code','=','BE')]",
                token=self.bearer,
            )
        )
        self.assertEqual(page["records"][0]["id"], self.ids(self.api, self.belgium))

    def test_a_model_not_allowed_on_a_multi_model_api_is_404(self):
        self.error(
            self.call("GET", "/api/test/multi/res.users", token=self.bearer), 404
        )

    def test_a_multi_model_api_without_a_model_is_404(self):
        self.error(self.call("GET", "/api/test/multi", token=self.bearer), 404)


@tagged("post_install", "-at_install")
class TestBinaryFields(ReadCase):
    """Binary fields read as a URL to the binary route, or inline base64.
    That the route streams the file is shown over HTTP (test_rest)."""

    def setUp(self):
        super().setUp()
        self.partner.image_1920 = PNG

    def image_url(self, api):
        return self.result(self.read_one(api, self.ids(api, self.partner)))["image_128"]

    def test_a_binary_field_reads_as_a_url_to_the_binary_route(self):
        for api, _base in self.apis():
            self.assertTrue(
                self.image_url(api).startswith(f"/api/image/{api.id}/res.partner/")
            )

    def test_the_binary_route_needs_credentials(self):
        for api, _base in self.apis():
            self.error(self.call("GET", self.image_url(api)), 401)

    def test_the_binary_of_a_record_outside_the_forced_domain_is_404(self):
        for api, _base in self.apis():
            url = self.image_url(api).replace(
                str(self.ids(api, self.partner)), str(self.ids(api, self.hidden))
            )
            self.error(self.call("GET", url, token=self.bearer), 404)

    def test_a_binary_field_that_is_not_exposed_is_404(self):
        for api, _base in self.apis():
            url = self.image_url(api).replace("image_128", "image_1920")
            self.error(self.call("GET", url, token=self.bearer), 404)

    def test_binary_mode_base64_reads_the_file_inline(self):
        api = self.make_api("test/b64", obfuscate=False, binary_mode="base64")
        api.client_ids = [Command.set([self.client.id])]
        record = self.result(self.read_one(api, self.partner.id))
        self.assertTrue(base64.b64decode(record["image_128"]).startswith(b"\x89PNG"))
