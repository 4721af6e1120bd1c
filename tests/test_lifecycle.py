"""API states, endpoints and test mode (contract: Lifecycle and test mode),
in process."""

from odoo.tests import tagged

from .common import SecureApiTransactionCase


class LifecycleCase(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"
        self.url = f"{self.base}/{self.partner.id}"

    def get(self, path):
        return self.call("GET", path, token=self.bearer)


@tagged("post_install", "-at_install")
class TestLifecycle(LifecycleCase):
    def test_an_operation_that_is_not_enabled_is_405_with_allow(self):
        self.api_plain.allow_delete = False
        answer = self.call("DELETE", self.url, token=self.bearer)
        self.error(answer, 405)
        self.assertNotIn("DELETE", answer.headers["Allow"])
        self.assertIn("GET", answer.headers["Allow"])

    def test_a_switched_off_endpoint_is_404_while_the_others_still_answer(self):
        self.api_plain.endpoint_ids.filtered(
            lambda e: e.operation == "search"
        ).active = False
        self.error(self.get(self.base), 404, "unknown_route")
        self.result(self.get(self.url))

    def test_an_inactive_api_is_404(self):
        self.api_plain.action_deactivate()
        self.error(self.get(self.url), 404)

    def test_a_draft_api_is_404(self):
        self.api_plain.action_deactivate()
        self.api_plain.action_reset_to_draft()
        self.error(self.get(self.url), 404)

    def test_an_unknown_route_is_404(self):
        self.error(self.get("/api/no/such/route"), 404)

    def test_a_path_deeper_than_the_api_knows_is_404(self):
        self.error(self.get(f"/api/{self.api_obf.route}/a/b/c"), 404)


@tagged("post_install", "-at_install")
class TestTestMode(LifecycleCase):
    """Test mode answers what the request would have answered, with
    ``X-Test-Mode: 1``, and rolls back everything it wrote."""

    def test_test_mode_of_the_api_answers_a_create_and_rolls_it_back(self):
        before = self.partner_count()
        self.api_plain.test_mode = True
        answer = self.call("POST", self.base, token=self.bearer, json={"name": "Ghost"})
        self.assertEqual(self.result(answer, 201)["name"], "Ghost")
        self.assertEqual(answer.headers.get("X-Test-Mode"), "1")
        self.assertEqual(self.partner_count(), before)

    def test_test_mode_of_the_client_app_answers_an_update_and_rolls_it_back(self):
        self.client.test_mode = True
        answer = self.call(
            "PATCH", self.url, token=self.bearer, json={"name": "Renamed"}
        )
        self.assertEqual(self.result(answer)["name"], "Renamed")
        self.assertEqual(answer.headers.get("X-Test-Mode"), "1")
        self.env.invalidate_all()
        self.assertEqual(self.partner.name, "Azure Interior API Test")
