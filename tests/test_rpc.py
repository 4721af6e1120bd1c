"""RPC on whitelisted methods (contract: Routes), in process, on the plain
and the obfuscated API."""

from odoo.tests import tagged

from .common import SecureApiTransactionCase


@tagged("post_install", "-at_install")
class TestRpc(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()

    def apis(self):
        for api in (self.api_plain, self.api_obf):
            with self.subTest(obfuscated=api.obfuscate_ids):
                yield api, f"/api/{api.route}"

    def rpc(self, path, body):
        return self.call("POST", path, token=self.bearer, json=body)

    def test_a_record_method_runs_on_its_record_and_answers_the_apis_ids(self):
        for api, base in self.apis():
            pid = self.ids(api, self.partner)
            result = self.result(self.rpc(f"{base}/{pid}/address_get", {}))
            self.assertEqual(result["contact"], pid)

    def test_a_model_method_answers_records_as_ids_of_the_api(self):
        for api, base in self.apis():
            email = f"rpc@{api.id}.example.com"
            created = self.result(
                self.rpc(f"{base}/call/find_or_create", {"args": [f"Rpc Co <{email}>"]})
            )
            new = self.env["res.partner"].search([("email", "=", email)])
            self.assertEqual(created[0], self.ids(api, new))

    def test_unknown_keyword_arguments_are_400_invalid_arguments(self):
        for _api, base in self.apis():
            answer = self.rpc(
                f"{base}/call/find_or_create", {"args": [], "kwargs": {"bogus": 1}}
            )
            self.error(answer, 400, "invalid_arguments")

    def test_a_context_in_the_keyword_arguments_is_400(self):
        for _api, base in self.apis():
            answer = self.rpc(
                f"{base}/call/find_or_create",
                {"args": ["x"], "kwargs": {"context": {}}},
            )
            self.error(answer, 400)

    def test_a_method_that_is_not_whitelisted_is_404(self):
        for _api, base in self.apis():
            self.error(self.rpc(f"{base}/call/unlink", {}), 404)

    def test_a_model_method_called_on_a_record_is_404(self):
        for api, base in self.apis():
            pid = self.ids(api, self.partner)
            self.error(self.rpc(f"{base}/{pid}/find_or_create", {}), 404)
