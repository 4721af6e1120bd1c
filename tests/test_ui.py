from odoo.tests import tagged

from .. import compat
from .common import SecureApiHttpCase


@tagged("post_install", "-at_install")
class TestSecureApiUi(SecureApiHttpCase):
    """An admin configures an API and a client app through the forms."""

    def run_tour(self, name, url):
        if self.env["ir.module.module"]._get("web_tour").state == "installed":
            self.start_tour(url, name, login="admin")
        else:
            # Trees without web_tour (such as a stripped Odoo) replay the same
            # steps in the same real browser.
            self.browser_js(
                url,
                f"window.secureApiRunTour({name!r})",
                ready="!!(window.secureApiRunTour"
                " && document.querySelector('.o_action_manager .o_view_controller'))",
                login="admin",
                timeout=120,
            )

    def test_create_api_through_the_form(self):
        self.run_tour(
            "secure_api_tour_api", compat.action_url("secure_api.secure_api_action")
        )
        api = self.env["secure.api"].search([("route", "=", "tour/partners")])
        self.assertEqual(api.state, "active")
        self.assertEqual(api.model_id.model, "res.partner")
        self.assertEqual(api.field_ids.field_id.name, "email")
        self.assertEqual(
            sorted(api.endpoint_ids.mapped("operation")), ["read", "search"]
        )

    def test_create_client_through_the_form(self):
        self.run_tour(
            "secure_api_tour_client",
            compat.action_url("secure_api.secure_api_client_action"),
        )
        client = self.env["secure.api.client"].search([("name", "=", "Tour App")])
        self.assertEqual(client.user_id, self.api_user)
        self.assertTrue(client.has_secret)
        self.assertTrue(client.sudo().client_secret_hash.startswith("$pbkdf2-sha256$"))
