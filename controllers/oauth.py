from odoo import http
from odoo.http import request

from .main import render, request_data

# path -> what the token server serves there
TOKEN_ROUTES = {
    "/api/oauth2/token": "token",
    "/api/jwt/token": "jwt",
    "/api/oauth2/revoke": "revoke",
    "/api/oauth2/introspect": "introspect",
}


class SecureApiOauthController(http.Controller):
    # GET is routed too, so that it gets the RFC's error rather than a 404.
    @http.route(
        list(TOKEN_ROUTES),
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def token_server(self, **_kwargs):
        kind = TOKEN_ROUTES[request.httprequest.path]
        server = request.env["secure.api.oauth"].sudo()
        return render(*server._serve(kind, request_data("")))
