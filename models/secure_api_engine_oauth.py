"""Pipeline routes of delegated access: the authorization endpoint and the
OAuth discovery documents (RFC 8414, RFC 9728)."""

from odoo import models

from ..core import oauth_code as core_oauth_code
from ..core.exceptions import MethodNotAllowed
from ..core.request import Answer

# Public documents: any web page may read them (no credentials involved).
DISCOVERY_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
}


class SecureApiEngineOauth(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _serve_oauth(self, call, kind):
        if kind in ("token", "revoke"):
            # On every answer, errors included: see _serve.
            call.headers.update(
                self.env["secure.api.oauth"]._public_client_cors(call.request)
            )
        return super()._serve_oauth(call, kind)

    def _serve_authorize(self, call):
        return self.env["secure.api.oauth.authorize"]._serve(call.request)

    def _serve_authorization_server(self, call):
        return self._serve_discovery(
            call, core_oauth_code.authorization_server_metadata
        )

    def _serve_protected_resource(self, call):
        return self._serve_discovery(call, core_oauth_code.protected_resource_metadata)

    def _serve_discovery(self, call, build):
        method = call.request.method
        if method == "OPTIONS":
            return Answer(204, dict(DISCOVERY_CORS, Allow="GET, HEAD, OPTIONS"))
        if method not in ("GET", "HEAD"):
            raise MethodNotAllowed(("GET", "HEAD", "OPTIONS"))
        issuer = self.env["secure.api.token"]._issuer()
        return Answer(200, dict(DISCOVERY_CORS), body=build(issuer))
