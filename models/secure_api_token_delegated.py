"""Delegated tokens: issued through the authorization code grant, they act as
the user who consented, and come with a refresh token."""

import time
from datetime import datetime

from odoo import api, fields, models

from ..core import tokens as core_tokens
from ..core.exceptions import Unauthorized
from ..core.messages import _lt
from ..core.oauth_code import AUTHORIZATION_CODE


class SecureApiToken(models.Model):
    _inherit = "secure.api.token"

    token_type = fields.Selection(
        selection_add=[("refresh", "Refresh")],
        ondelete={"refresh": "cascade"},
        help="Opaque: a random string checked against the database. JWT: a "
        "signed token carrying its own claims. Refresh: exchanged once by its "
        "app for new tokens (authorization code grant); never calls an API.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Acts As",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
        help="For tokens of the authorization code grant: the user who "
        "consented, as whom the token calls. Empty: the app's execution user.",
    )
    consent_id = fields.Many2one(
        "secure.api.consent",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
        help="The consent the token descends from; revoking it revokes the token.",
    )

    def _authenticate_delegated(self, found, app):
        """The current rights of a delegated token (see ``_authenticate_bearer``).

        Checked on every request, against the current state of everything it
        depends on: the client app is active and still allows the
        authorization code grant, the consent is not revoked, the user is
        active and neither a superuser nor a settings administrator, and the
        scope is the token's within the client's current scopes.
        """
        if not app or not app["active"] or AUTHORIZATION_CODE not in app["grant_types"]:
            raise Unauthorized(_lt("The client app is disabled"), name="invalid_token")
        if not app["allow_opaque"]:
            # Delegated tokens are opaque: the type must still be allowed.
            raise Unauthorized(
                _lt("This client may no longer use opaque tokens"), name="invalid_token"
            )
        if found["consent_state"] != "active":
            raise Unauthorized(
                _lt("The user revoked this access"), name="invalid_token"
            )
        user = self.env["res.users"]._secure_api_user_state(found["user_id"])
        if not user["active"] or user["privileged"]:
            raise Unauthorized(
                _lt("The user can no longer grant access"), name="invalid_token"
            )
        granted = set(found["scope"].split()) & set(app["scope"].split())
        return {
            "app": app,
            "scope": granted,
            "token_id": found["id"],
            "uid": found["user_id"],
        }

    @api.model
    def _issue_delegated(self, app, consent, scope):
        """An access token with ``scope`` and a refresh token with the
        consent's scope, both acting as the consent's user; only their
        hashes are stored. Returns the RFC 6749 5.1 body."""
        now = int(time.time())
        access = core_tokens.generate_opaque_token()
        refresh = core_tokens.generate_opaque_token()
        common = {
            "app_id": app["id"],
            "user_id": consent.user_id.id,
            "consent_id": consent.id,
            "issued_at": datetime.utcfromtimestamp(now),
        }
        self.create(
            [
                dict(
                    common,
                    token_type="opaque",
                    token_hash=core_tokens.hash_token(access),
                    token_prefix=core_tokens.token_prefix(access),
                    scope=scope,
                    expires_at=datetime.utcfromtimestamp(now + app["lifetime"]),
                ),
                dict(
                    common,
                    token_type="refresh",
                    token_hash=core_tokens.hash_token(refresh),
                    token_prefix=core_tokens.token_prefix(refresh),
                    scope=consent.scope,
                    expires_at=datetime.utcfromtimestamp(now + app["refresh_lifetime"]),
                ),
            ]
        )
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": app["lifetime"],
            "scope": scope,
            "refresh_token": refresh,
        }

    @api.model
    def _claim_refresh(self, token):
        """The refresh token's record, locked until the transaction ends
        (empty when unknown): of two concurrent refreshes with one token,
        the second waits and then sees it used."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return self.browse()
        self.flush_model()
        self.env.cr.execute(
            """SELECT id FROM secure_api_token
                WHERE token_hash = %s AND token_type = 'refresh' FOR UPDATE""",
            [core_tokens.hash_token(token)],
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()
