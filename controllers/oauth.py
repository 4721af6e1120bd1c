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
    # Every method is routed, so that all but POST get a JSON 405 with Allow.
    @http.route(
        list(TOKEN_ROUTES),
        type="http",
        auth="none",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def token_server(self, **_kwargs):
        kind = TOKEN_ROUTES[request.httprequest.path]
        server = request.env["secure.api.oauth"].sudo()
        return render(*server._serve(kind, request_data("")))
