import json

from lxml import etree

from odoo.tests import TransactionCase, tagged
from odoo.tools.safe_eval import safe_eval

from .. import compat
from .common import SecureApiHttpCase

# The menus whose actions the app offers: its own, and Settings > API
# Management. Every action under them is opened in each of its views.
APP_MENUS = (
    "secure_api.secure_api_menu_root",
    "secure_api.secure_api_menu_settings_management",
)


@tagged("post_install", "-at_install")
class TestSecureApiUi(SecureApiHttpCase):
    """An admin configures an API and a client app through the forms, and
    every screen of the app opens without a client error."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # Something to show in the graphs, pivots and lists.
        endpoint = cls.api_plain.endpoint_ids[:1]
        statistics = env["secure.api.statistic"]
        for error in (False, False, True):
            statistics._record_call(
                cls.api_plain.id, endpoint.id, cls.client.id, 12.5, error
            )
        statistics._flush_buffer()

    def make_webhook(self):
        """A subscription with one delivery. Its hook on res.partner is
        removed after the test, as Odoo's tests require of patched models."""
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.webhook_allow_private", "1"
        )
        webhook = self.env["secure.api.webhook"].create(
            {
                "api_id": self.api_plain.id,
                "url": "http://127.0.0.1:9/secure-api-ui-test",
                "user_id": self.api_user.id,
            }
        )
        self.addCleanup(webhook._unregister_hook)
        webhook.action_send_test_event()
        return webhook

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

    def check_js(self, url, code, timeout=90):
        """Open ``url`` as admin and run ``code``, one of the checks of
        static/tests/tours/secure_api_tours.js: the test fails on an error
        dialog or a console error."""
        self.browser_js(
            url,
            code,
            ready="!!window.secureApiCheckViews",
            login="admin",
            timeout=timeout,
        )

    @staticmethod
    def url(xmlid, view_type=None, res_id=None):
        """The web client's URL of an action's view, or of one record."""
        base = compat.action_url(xmlid)
        if base.startswith("/odoo/"):  # 18.0+
            if res_id:
                return f"{base}/{res_id}"
            return f"{base}?view_type={view_type}" if view_type else base
        if res_id:  # 17.0
            return f"{base}&id={res_id}&view_type=form"
        return f"{base}&view_type={view_type}" if view_type else base

    def app_actions(self):
        """The window actions of the app's menus, in menu order."""
        roots = self.env["ir.ui.menu"]
        for xmlid in APP_MENUS:
            roots |= self.env.ref(xmlid)
        menus = self.env["ir.ui.menu"].search([("id", "child_of", roots.ids)])
        actions = []
        for menu in menus.sorted(lambda m: (m.parent_path, m.sequence)):
            action = menu.action
            if action and action not in actions:
                actions.append(action)
        return actions

    def app_views(self):
        """(action xmlid, view type, record id) of every view of every
        action of the app's menus: forms open the first record, or a new
        one where there is none (the settings, a transient form, have no
        record id)."""
        views = []
        for action in self.app_actions():
            self.assertEqual(
                action._name,
                "ir.actions.act_window",
                f"{action.name}: only window actions are checked",
            )
            xmlid = action.get_external_id()[action.id]
            self.assertTrue(xmlid, f"{action.name} has no xmlid")
            model = self.env[action.res_model]
            for view_type in action.view_mode.split(","):
                view_type = "list" if view_type == "tree" else view_type
                res_id = None
                if view_type == "form" and not model.is_transient():
                    domain = safe_eval(action.domain or "[]")
                    record = model.with_context(active_test=False).search(
                        domain, limit=1
                    )
                    res_id = record.id or "new"
                views.append((xmlid, view_type, res_id))
        return views

    def test_every_view_of_every_menu_opens(self):
        """Data-driven: a new menu, action or view type is covered at once."""
        self.make_webhook()
        views = self.app_views()
        covered = {(xmlid, view_type) for xmlid, view_type, _res_id in views}
        # What the issue names explicitly, so that a menu change cannot drop it.
        for expected in [
            ("secure_api.secure_api_action", "kanban"),
            ("secure_api.secure_api_action", "list"),
            ("secure_api.secure_api_action", "form"),
            ("secure_api.secure_api_client_action", "form"),
            ("secure_api.secure_api_statistic_action", "graph"),
            ("secure_api.secure_api_statistic_action", "pivot"),
            ("secure_api.secure_api_webhook_action", "list"),
            ("secure_api.secure_api_webhook_action", "form"),
            ("secure_api.secure_api_webhook_delivery_action", "list"),
            ("secure_api.secure_api_webhook_delivery_action", "graph"),
            ("secure_api.secure_api_webhook_delivery_action", "pivot"),
            ("secure_api.secure_api_config_settings_action", "form"),
        ]:
            self.assertIn(expected, covered)
        self.assertTrue(self.env["secure.api.statistic"].search_count([]))
        self.assertTrue(self.env["secure.api.webhook.delivery"].search_count([]))
        targets = [
            (self.url(xmlid, view_type, res_id), view_type)
            for xmlid, view_type, res_id in views
        ]
        # One browser session opens them all, each in a frame of the page.
        self.check_js(
            self.url("secure_api.secure_api_action"),
            f"window.secureApiCheckViews({json.dumps(targets)})",
            timeout=60 + 15 * len(targets),
        )

    def form_tabs(self, model):
        """The names of the notebook pages of ``model``'s form view."""
        arch = self.env[model].get_views([(False, "form")])["views"]["form"]["arch"]
        names = etree.fromstring(arch).xpath("//notebook/page/@name")
        self.assertTrue(names, f"the {model} form has no named tab")
        return names

    def test_every_tab_of_the_api_and_client_forms(self):
        for xmlid, record in [
            ("secure_api.secure_api_action", self.api_plain),
            ("secure_api.secure_api_client_action", self.client),
        ]:
            names = self.form_tabs(record._name)
            with self.subTest(model=record._name):
                self.check_js(
                    self.url(xmlid, res_id=record.id),
                    f"window.secureApiVisitTabs({names!r})",
                )

    def test_wizards(self):
        """Live test (with an answer) and export, from the API form."""
        self.run_tour(
            "secure_api_tour_wizards",
            self.url("secure_api.secure_api_action", res_id=self.api_plain.id),
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


@tagged("post_install", "-at_install")
class TestSecureApiLabels(TransactionCase):
    """Every field an admin sees on the app's forms and lists says what it
    does (a help) under a label meant for people."""

    # The webhook models document themselves in their own module files.
    SKIPPED_MODELS = ("secure.api.webhook", "secure.api.webhook.delivery")

    def app_views(self):
        data = self.env["ir.model.data"].search(
            [("module", "=", "secure_api"), ("model", "=", "ir.ui.view")]
        )
        return self.env["ir.ui.view"].browse(data.mapped("res_id")).exists()

    def shown_fields(self, view):
        """(model, field name) of each field ``view`` shows, inline lists
        of its x2many fields included."""
        arch = etree.fromstring(view.arch)
        for node in arch.iter("field"):
            if node.get("invisible") in ("1", "True") or node.get(
                "column_invisible"
            ) in ("1", "True"):
                continue
            model, parent = view.model, node.getparent()
            path = []
            while parent is not None:
                if parent.tag == "field":
                    path.append(parent.get("name"))
                parent = parent.getparent()
            for name in reversed(path):
                model = self.env[model]._fields[name].comodel_name
            if model == "res.config.settings" and not node.get("name").startswith(
                "secure_api_"
            ):
                continue
            yield model, node.get("name")

    def test_every_field_shown_has_a_help_and_a_human_label(self):
        missing, technical = [], []
        for view in self.app_views():
            if view.type not in ("form", "list", "tree", "kanban"):
                continue
            for model, name in self.shown_fields(view):
                if model in self.SKIPPED_MODELS:
                    continue
                field = self.env[model]._fields[name]
                where = f"{model}.{name} ({view.name})"
                if not (field.help or "").strip():
                    missing.append(where)
                if "Api" in field.string.split() or "_" in field.string:
                    technical.append(f"{where}: {field.string!r}")
        self.assertFalse(missing, "fields without help")
        self.assertFalse(technical, "technical labels")

    def test_settings_labels_are_their_fields_strings(self):
        view = self.env.ref("secure_api.res_config_settings_view_form")
        settings = self.env["res.config.settings"]
        for setting in etree.fromstring(view.arch).iter("setting"):
            for node in setting.iter("field"):
                with self.subTest(field=node.get("name")):
                    self.assertEqual(
                        setting.get("string"), settings._fields[node.get("name")].string
                    )
