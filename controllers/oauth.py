from odoo import http
from odoo.http import request

from .main import render, request_data


class SecureApiOauthController(http.Controller):
    def _serve(self, kind):
        status, headers, body = (
            request.env["secure.api.oauth"].sudo()._serve(kind, request_data(""))
        )
        return render(status, headers, body)

    @http.route(
        "/api/oauth2/token",
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def oauth2_token(self, **_kwargs):
        return self._serve("token")

    @http.route(
        "/api/jwt/token",
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def jwt_token(self, **_kwargs):
        return self._serve("jwt")

    @http.route(
        "/api/oauth2/revoke",
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def oauth2_revoke(self, **_kwargs):
        return self._serve("revoke")

    @http.route(
        "/api/oauth2/introspect",
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def oauth2_introspect(self, **_kwargs):
        return self._serve("introspect")
