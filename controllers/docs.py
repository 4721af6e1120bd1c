from odoo import http
from odoo.http import request

from ..core.exceptions import NotFound, error_payload
from .main import render


class SecureApiDocsController(http.Controller):
    def _allowed(self):
        """Documents are public when Settings say so, else managers only."""
        public = (
            request.env["ir.config_parameter"]
            .sudo()
            .get_param("secure_api.openapi_public")
        )
        if public:
            return True
        uid = request.session.uid
        return bool(uid) and request.env["res.users"].sudo().browse(uid).has_group(
            "secure_api.group_secure_api_manager"
        )

    def _denied(self):
        return render(*error_payload(NotFound("Not found")))

    @http.route(
        "/api/openapi.json", type="http", auth="none", methods=["GET"], readonly=True
    )
    def openapi_document(self, **_kwargs):
        if not self._allowed():
            return self._denied()
        document = request.env["secure.api"].sudo().get_openapi_document()
        return render(200, {}, document)

    @http.route("/api/docs", type="http", auth="none", methods=["GET"], readonly=True)
    def docs_page(self, **_kwargs):
        if not self._allowed():
            return self._denied()
        apis = request.env["secure.api"].sudo()
        values = apis._docs_page_values()
        values["can_try"] = bool(request.session.uid)
        return request.render("secure_api.secure_api_docs_page", values)
