"""The token server's delegated grants (OAuth 2.1): ``authorization_code``
with PKCE and ``refresh_token`` with rotation, public clients, and refresh
tokens at the revocation and introspection endpoints.

Everything a refused request wrote (a code marked used, a family revoked,
a failure counted) commits: the pipeline answers errors as ordinary
responses and keeps the transaction.
"""

from odoo import fields, models

from ..core import oauth as core_oauth
from ..core import oauth_code as core_oauth_code
from ..core import traffic as core_traffic
from ..core.exceptions import ApiError, OAuthError
from ..core.messages import _lt
from ..core.oauth_code import AUTHORIZATION_CODE, REFRESH_TOKEN
from ..core.operations import SCOPES
from .secure_api_oauth import _present


def _intersect(*scopes):
    """The canonical text of the scope words every one of ``scopes`` holds."""
    sets = [set((scope or "").split()) for scope in scopes]
    common = set.intersection(*sets)
    return " ".join(word for word in SCOPES if word in common)


class SecureApiOauth(models.AbstractModel):
    _inherit = "secure.api.oauth"

    def _serve_token(self, req, params, token_type="opaque"):
        grant = params.get("grant_type")
        if token_type == "opaque" and grant in (AUTHORIZATION_CODE, REFRESH_TOKEN):
            return 200, getattr(self, f"_grant_{grant}")(req, params)
        return super()._serve_token(req, params, token_type)

    # ------------------------------------------------------------------
    # Client authentication: confidential clients with their secret, public
    # clients by their client_id alone (RFC 6749 2.1, 3.2.1)
    # ------------------------------------------------------------------

    def _sends_secret(self, req, params):
        authorization = (req.headers.get("authorization") or "").lower()
        return "client_secret" in params or authorization.startswith("basic ")

    def _authenticate_public_client(self, req, params, lockout_first=True):
        """The state of the public client app named by ``client_id``.

        Unknown, disabled, confidential (it must send its secret) or called
        from outside its allowlist: ``invalid_client``, counted like a wrong
        secret.
        """
        client_id = core_oauth_code.public_client_id(params, req.query)
        throttle = self.env["secure.api.throttle"].sudo()
        limits = self._throttle_limits(req, client_id)
        if lockout_first:
            self._check_lockout(throttle, limits)
        app = (
            self.env["secure.api.client"]._get_client_state(client_id)
            if len(client_id) <= 128
            else None
        )
        valid = (
            app
            and app["active"]
            and app["client_type"] == "public"
            and core_traffic.address_allowed(app["traffic"].allowlist, req.remote_addr)
        )
        if not valid:
            self._auth_failed(throttle, limits, lockout_first)
        return app

    def _authenticate_grant_client(self, req, params):
        """The client app of a delegated grant, allowed to use it."""
        if self._sends_secret(req, params):
            app = self._authenticate_client(req, params, execution_user=False)
        else:
            app = self._authenticate_public_client(req, params)
        if AUTHORIZATION_CODE not in app["grant_types"]:
            raise OAuthError(
                "unauthorized_client",
                _lt("This client may not use the authorization code grant"),
            )
        return app

    def _required(self, params, *names):
        values = []
        for name in names:
            value = params.get(name)
            if not core_oauth.is_credential(value) or len(value) > 4096:
                raise OAuthError(
                    "invalid_request",
                    _lt("The %(name)s parameter is required", name=name),
                )
            values.append(value)
        return values

    def _check_opaque_allowed(self, app):
        """Delegated tokens are opaque: a client that may no longer get
        opaque tokens gets none by a grant either."""
        if not app["allow_opaque"]:
            raise OAuthError(
                "unauthorized_client", _lt("This client may not obtain opaque tokens")
            )

    def _check_delegating_user(self, uid):
        user = self.env["res.users"]._secure_api_user_state(uid)
        if not user["active"] or user["privileged"]:
            raise OAuthError(
                "invalid_grant", _lt("The user can no longer grant access")
            )

    def _public_client_cors(self, req):
        """CORS headers for a public client's browser code: its token and
        revocation requests (simple form POSTs, no preflight) may be read
        from the origins of its redirect URIs, and from nowhere else."""
        origin = req.headers.get("origin")
        if not origin or req.method != "POST":
            return {}
        try:
            client_id = self._params(req).get("client_id")
        except ApiError:
            return {}
        app = (
            self.env["secure.api.client"]._get_client_state(client_id)
            if isinstance(client_id, str) and 0 < len(client_id) <= 128
            else None
        )
        if (
            not app
            or not app["active"]
            or app["client_type"] != "public"
            or origin.lower()
            not in core_oauth_code.redirect_origins(app["redirect_uris"])
        ):
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    # ------------------------------------------------------------------
    # The grants
    # ------------------------------------------------------------------

    def _grant_authorization_code(self, req, params):
        """Exchange a code (RFC 6749 4.1.3, RFC 7636 4.6) for an access
        token and a refresh token that act as the user who consented.

        A code is good for one attempt by its own client app: the first
        token request that names it uses it up, whatever its outcome, and a
        second one revokes every token the first obtained.
        """
        app = self._authenticate_grant_client(req, params)
        self._check_opaque_allowed(app)
        (code,) = self._required(params, "code")
        record = self.env["secure.api.oauth.code"].sudo()._claim(code)
        if not record or record.app_id.id != app["id"]:
            raise OAuthError("invalid_grant", _lt("Invalid authorization code"))
        if record.used:
            record.consent_id._revoke()
            raise OAuthError(
                "invalid_grant", _lt("The authorization code was already used")
            )
        record.used = True
        # Used up by this attempt whatever else it lacks.
        redirect_uri, verifier = self._required(params, "redirect_uri", "code_verifier")
        if record._expired():
            raise OAuthError("invalid_grant", _lt("The authorization code expired"))
        if redirect_uri != record.redirect_uri:
            raise OAuthError(
                "invalid_grant",
                _lt("The redirect_uri differs from the authorization request's"),
            )
        if not core_oauth_code.verify_pkce(verifier, record.code_challenge):
            raise OAuthError(
                "invalid_grant",
                _lt("The code_verifier does not match the code_challenge"),
            )
        self._check_delegating_user(record.user_id.id)
        scope = _intersect(record.scope, app["scope"])
        if not scope:
            raise OAuthError(
                "invalid_scope", _lt("The client app may no longer do this")
            )
        consent = (
            self.env["secure.api.consent"]
            .sudo()
            .create({"user_id": record.user_id.id, "app_id": app["id"], "scope": scope})
        )
        record.consent_id = consent
        return self.env["secure.api.token"].sudo()._issue_delegated(app, consent, scope)

    def _grant_refresh_token(self, req, params):
        """Rotate a refresh token (RFC 6749 6, OAuth 2.1 4.3): a new access
        token and a new refresh token; the presented one stops. One presented
        again revokes its whole family: every token of its consent."""
        app = self._authenticate_grant_client(req, params)
        self._check_opaque_allowed(app)
        (token,) = self._required(params, "refresh_token")
        tokens = self.env["secure.api.token"].sudo()
        record = tokens._claim_refresh(token)
        if not record or record.app_id.id != app["id"]:
            raise OAuthError("invalid_grant", _lt("Invalid refresh token"))
        consent = record.consent_id
        if record.revoked:
            consent._revoke()
            raise OAuthError("invalid_grant", _lt("The refresh token was already used"))
        if record.expires_at <= fields.Datetime.now():
            raise OAuthError("invalid_grant", _lt("The refresh token expired"))
        if not consent or consent.state != "active":
            raise OAuthError("invalid_grant", _lt("The user revoked this access"))
        self._check_delegating_user(consent.user_id.id)
        asked = params.get("scope")
        if asked:
            try:
                asked = core_oauth.requested_scope(asked, record.scope or "")
            except OAuthError:
                raise OAuthError(
                    "invalid_scope", _lt("The scope exceeds what the user allowed")
                ) from None
        scope = _intersect(asked or record.scope, app["scope"])
        if not scope:
            raise OAuthError(
                "invalid_scope", _lt("The client app may no longer do this")
            )
        record._revoke()
        return tokens._issue_delegated(app, consent, scope)

    # ------------------------------------------------------------------
    # Revocation (RFC 7009) and introspection (RFC 7662)
    # ------------------------------------------------------------------

    def _serve_revoke(self, req, params):
        # RFC 7009 2.1: a public client names itself by its client_id.
        if self._sends_secret(req, params):
            return super()._serve_revoke(req, params)
        app = self._authenticate_public_client(req, params, lockout_first=False)
        return self._revoke_own(app, params)

    def _revoke_found(self, found):
        # RFC 7009 2.1: revoking a refresh token revokes the access tokens
        # of the same grant, here its whole family.
        if found["token_type"] == "refresh":
            token = self.env["secure.api.token"].sudo().browse(found["id"])
            token.consent_id._revoke()
            token._revoke()
            return
        super()._revoke_found(found)

    def _introspection(self, app, token, found):
        if found["token_type"] == "refresh":
            return self._refresh_introspection(app, found)
        body = super()._introspection(app, token, found)
        if body.get("active") and found["user_id"]:
            body.update(self._delegation_claims(found))
        return body

    def _delegation_claims(self, found):
        user = self.env["res.users"].sudo().browse(found["user_id"])
        return {"sub": str(user.id), "username": user.login}

    def _refresh_introspection(self, app, found):
        """A refresh token is active while it could be exchanged."""
        tokens = self.env["secure.api.token"].sudo()
        record = tokens.browse(found["id"])
        user = self.env["res.users"]._secure_api_user_state(found["user_id"])
        if (
            found["consent_state"] != "active"
            or AUTHORIZATION_CODE not in app["grant_types"]
            or not user["active"]
            or user["privileged"]
        ):
            return {"active": False}
        return _present(
            {
                "active": True,
                "scope": _intersect(found["scope"], app["scope"]),
                "client_id": app["client_id"],
                "token_type": "refresh_token",
                "exp": int(found["expires_at"]),
                "iat": int(record.issued_at.timestamp()) if record.issued_at else None,
                "iss": tokens._issuer(),
                **self._delegation_claims(found),
            }
        )
