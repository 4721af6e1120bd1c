"""The token server: RFC 6749 client credentials, RFC 7009 and RFC 7662.

Served by the request pipeline (``secure.api.engine``) from the request
value; it returns ``(status, body)`` with bodies as the RFCs define them (no
envelope) and raises errors for the pipeline to render.
"""

import time

from odoo import api, models

from ..core import oauth as core_oauth
from ..core import params as core_params
from ..core import tokens as core_tokens
from ..core import traffic as core_traffic
from ..core.exceptions import (
    ApiError,
    OAuthError,
    TooManyRequests,
    Unauthorized,
)
from ..core.messages import _lt
from ..core.oauth_code import CLIENT_CREDENTIALS


def _present(claims):
    """An introspection answer without its absent members: RFC 7662 2.2
    members are optional, and ``null`` is no value for any of them."""
    return {key: value for key, value in claims.items() if value is not None}


# The per-address threshold is this many times the per-client one, so that
# clients behind one address are not locked out by one of them.
ADDRESS_FACTOR = 5


class SecureApiOauth(models.AbstractModel):
    _name = "secure.api.oauth"
    _description = "Secure API token server"

    @api.model
    def _serve(self, kind, req):
        """Serve ``kind`` (``token``, ``jwt``, ``revoke``, ``introspect``).

        Returns ``(status, body)``; errors are raised for the pipeline to
        render in RFC 6749's style.
        """
        if req.method != "POST":
            raise OAuthError(
                "invalid_request",
                _lt("Use POST"),
                status=405,
                headers={"Allow": "POST"},
            )
        return getattr(self, f"_serve_{kind}")(req, self._params(req))

    def _params(self, req):
        try:
            kind, body = req.payload
        except ApiError as error:
            raise OAuthError("invalid_request", error.message) from None
        if kind == "form":
            return core_params.collect_params(body)
        if kind == "json":
            if not isinstance(body, dict):
                raise OAuthError(
                    "invalid_request", _lt("The body must be a JSON object")
                )
            return body
        return {}

    def _throttle_limits(self, req, client_id):
        """Failure counters and their thresholds: per client and address,
        and per address over all clients.

        Nothing is counted per client alone, so that a client sending its
        right secret from another address is never refused because someone
        else sent wrong ones.
        """
        threshold = self.env["secure.api"]._get_settings()["auth_max_failures"]
        address = req.remote_addr or "-"
        limits = {f"ip:{address}": threshold * ADDRESS_FACTOR}
        if client_id:
            limits[f"client:{client_id[:128]}@{address}"] = threshold
        return limits

    def _authenticate_client(
        self, req, params, lockout_first=True, execution_user=True
    ):
        """Return the cached state of the authenticated client app.

        Unknown client, wrong secret, disabled app, archived or privileged
        user: all get the same ``invalid_client`` answer after the same hash
        work. With ``lockout_first`` (token requests) a locked-out party is
        refused before its secret is checked; otherwise (revocation and
        introspection) valid credentials are never locked out. Without
        ``execution_user`` (delegated grants, whose tokens act as the user
        who consented) the execution user's state is not checked.
        """
        client_id, secret, used_basic = core_oauth.client_credentials(
            params, req.headers.get("authorization"), req.query
        )
        throttle = self.env["secure.api.throttle"].sudo()
        limits = self._throttle_limits(req, client_id)
        if lockout_first:
            self._check_lockout(throttle, limits)
        app = (
            self.env["secure.api.client"]._get_client_state(client_id)
            if len(client_id) <= 128
            else None
        )
        valid = core_tokens.verify_secret(secret, app and app["secret_hash"])
        if valid and app["active"]:
            if execution_user:
                user = self.env["res.users"]._secure_api_user_state(app["uid"])
                valid = user["active"] and not user["privileged"]
            # From outside the allowlist the right secret is refused as a wrong one.
            valid = valid and core_traffic.address_allowed(
                app["traffic"].allowlist, req.remote_addr
            )
        if not valid or not app["active"]:
            self._auth_failed(throttle, limits, lockout_first, used_basic)
        return app

    def _auth_failed(self, throttle, limits, lockout_first, used_basic=False):
        """Count the failure and answer ``invalid_client``."""
        if not lockout_first:
            # A party already locked out adds no row: valid credentials
            # passed above whatever the lockout; these did not.
            self._check_lockout(throttle, limits)
        throttle._add_failure(limits)
        if not lockout_first:
            self._check_lockout(throttle, limits)
        headers = {"WWW-Authenticate": 'Basic realm="secure_api"'} if used_basic else {}
        raise OAuthError(
            "invalid_client",
            _lt("Client authentication failed"),
            status=401,
            headers=headers,
        )

    def _check_lockout(self, throttle, limits):
        wait = throttle._retry_after(limits)
        if wait:
            raise TooManyRequests(wait, _lt("Too many failed attempts"))

    def _check_grant(self, params):
        grant_type = params.get("grant_type")
        if grant_type not in (None, "client_credentials"):
            raise OAuthError("unsupported_grant_type", _lt("Unsupported grant type"))

    def _serve_token(self, req, params, token_type="opaque"):
        self._check_grant(params)
        app = self._authenticate_client(req, params)
        if CLIENT_CREDENTIALS not in app["grant_types"]:
            raise OAuthError(
                "unauthorized_client",
                _lt("This client may not use the client_credentials grant"),
            )
        scope = core_oauth.requested_scope(params.get("scope"), app["scope"])
        if not app["allow_jwt" if token_type == "jwt" else "allow_opaque"]:
            raise OAuthError(
                "unauthorized_client",
                _lt("This client may not obtain %(kind)s tokens", kind=token_type),
            )
        return 200, self.env["secure.api.token"].sudo()._issue(app, token_type, scope)

    def _serve_jwt(self, req, params):
        return self._serve_token(req, params, token_type="jwt")

    def _find_own_token(self, app, token):
        if not core_oauth.is_credential(token) or len(token) > 4096:
            raise OAuthError("invalid_request", _lt("The token parameter is required"))
        found = (
            self.env["secure.api.token"]
            .sudo()
            ._lookup_hash(core_tokens.hash_token(token))
        )
        if not found or found["app_id"] != app["id"]:
            return None
        return found

    def _serve_revoke(self, req, params):
        app = self._authenticate_client(req, params, lockout_first=False)
        return self._revoke_own(app, params)

    def _revoke_own(self, app, params):
        found = self._find_own_token(app, params.get("token"))
        if found and not found["revoked"]:
            self._revoke_found(found)
        # RFC 7009 2.2: 200 whether or not the token was known, so that the
        # endpoint tells nothing about other clients' tokens.
        return 200, {}

    def _revoke_found(self, found):
        self.env["secure.api.token"].sudo().browse(found["id"])._revoke()

    def _serve_introspect(self, req, params):
        app = self._authenticate_client(req, params, lockout_first=False)
        token = params.get("token")
        found = self._find_own_token(app, token)
        if not found or found["revoked"] or found["expires_at"] <= time.time():
            return 200, {"active": False}
        return 200, self._introspection(app, token, found)

    def _introspection(self, app, token, found):
        """RFC 7662's answer about a live token of ``app``."""
        try:
            leeway = self.env["secure.api"]._get_settings()["jwt_leeway"]
            current = (
                self.env["secure.api.token"].sudo()._authenticate_bearer(token, leeway)
            )
        except Unauthorized:
            return {"active": False}
        record = self.env["secure.api.token"].sudo().browse(found["id"])
        return _present(
            {
                "active": True,
                "scope": core_tokens.normalize_scope(" ".join(current["scope"])),
                "client_id": app["client_id"],
                "token_type": "Bearer",
                "exp": int(found["expires_at"]),
                "iat": int(record.issued_at.timestamp()) if record.issued_at else None,
                "sub": app["client_id"],
                "aud": "secure_api",
                "iss": self.env["secure.api.token"]._issuer(),
                "jti": record.jti or None,
            }
        )
