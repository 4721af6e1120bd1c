"""The documents of APIs for their clients: OpenAPI, Postman and the
/api/docs explorer page."""

from odoo import SUPERUSER_ID, api, models

from ..core import docs as core_docs
from ..core import operations
from ..core.messages import html_lang
from ..core.openapi import build_openapi, token_paths
from ..core.postman import build_postman


class SecureApiDocuments(models.Model):
    _inherit = "secure.api"

    def get_openapi_document(self, app=None):
        """The OpenAPI 3 document of these APIs (all active ones if empty).

        With ``app`` (a client app's state), exactly the APIs and operations
        that this client app may use now.
        """
        specs = self._doc_specs()
        if app is not None:
            specs = self._specs_for_app(specs, app)
        return self._openapi_for_specs(specs)

    @api.model
    def _openapi_for_specs(self, specs):
        # The issuer: the flows' URLs are the discovery document's endpoints.
        document = build_openapi(specs, self.env["secure.api.token"]._issuer())
        document["paths"].update(token_paths())
        return document

    @api.model
    def _specs_for_app(self, specs, app, scope=None):
        """The specs a client app may call, with what its scope allows."""
        allowed = set(scope if scope is not None else app["scope"].split())
        result = []
        for spec in specs:
            if app["id"] not in spec["client_ids"]:
                continue
            operations_ = tuple(
                name
                for name in spec["operations"]
                if operations.get(name).scope in allowed
            )
            if operations_:
                result.append(dict(spec, operations=operations_))
        return result

    def get_postman_collection(self):
        """The Postman v2.1 collection of these APIs (all active ones if empty)."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return build_postman(self._doc_specs(), base_url)

    def _doc_specs(self):
        """Plain descriptions of the active APIs for documents: no secrets."""
        apis = self or self.search([("state", "=", "active")])
        specs = []
        for record in apis.sudo().filtered(lambda a: a.state == "active"):
            spec = self._get_spec(record.id)
            if spec is None:
                # Active on a lagging replica, no longer on the primary.
                continue
            spec = dict(spec)
            spec.pop("salt", None)
            spec["description"] = record.description or ""
            spec["webhooks"] = bool(
                record.webhook_ids.filtered(lambda hook: hook.state == "active")
            )
            specs.append(spec)
        return specs

    @api.model
    def _documents_allowed(self, req):
        """Documents are public when Settings say so, else managers only."""
        if self._get_settings()["openapi_public"]:
            return True
        uid = req.session_uid
        return bool(uid) and self.env["res.users"].sudo().browse(uid).has_group(
            "secure_api.group_secure_api_manager"
        )

    @api.model
    def _docs_page_html(self, req):
        """The /api/docs page, rendered for ``req``'s session: Swagger UI
        and its start script, which load the document from /api/openapi.json
        (what each reader sees is decided there)."""
        user = self.env["res.users"].sudo().browse(req.session_uid or SUPERUSER_ID)
        values = {
            "page_lang": html_lang(user.lang),
            "swagger_ui_version": core_docs.SWAGGER_UI_VERSION,
        }
        page = (
            self.env["ir.qweb"]
            .sudo()
            ._render("secure_api.secure_api_docs_page", values)
        )
        # QWeb escapes a doctype written in a template: standards mode needs
        # it first, as is.
        return "<!DOCTYPE html>\n" + str(page)
