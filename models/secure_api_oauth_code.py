from datetime import timedelta

from odoo import api, fields, models

from .. import compat
from ..core import oauth_code as core_oauth_code
from ..core import tokens as core_tokens


@compat.sql_constraints(
    ("code_hash_uniq", "unique (code_hash)", "Code hashes are unique."),
)
class SecureApiOauthCode(models.Model):
    """An authorization code, given when a user allows an app.

    Stored only as a hash, bound to its client app, redirect URI, user, scope
    and PKCE challenge; exchanged once, within a minute. Kept for a day after
    it expired, so that a second use is recognised and revokes what the
    first one gave (RFC 6749 4.1.2).
    """

    _name = "secure.api.oauth.code"
    _description = "API Authorization Code"
    _order = "id desc"

    code_hash = fields.Char(required=True, copy=False, groups=fields.NO_ACCESS)
    app_id = fields.Many2one(
        "secure.api.client",
        string="Client App",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        help="The only client app that may exchange the code.",
    )
    user_id = fields.Many2one(
        "res.users",
        required=True,
        readonly=True,
        ondelete="cascade",
        help="The user who allowed the app.",
    )
    redirect_uri = fields.Char(
        string="Redirect URI",
        readonly=True,
        help="The redirect URI of the authorization request; the token "
        "request must name the same.",
    )
    scope = fields.Char(readonly=True, help="What the user allowed.")
    code_challenge = fields.Char(
        readonly=True, help="The PKCE (S256) challenge the code verifier must match."
    )
    expires_at = fields.Datetime(
        required=True, readonly=True, help="The code is refused after this moment."
    )
    used = fields.Boolean(
        readonly=True, help="Whether a token request presented the code already."
    )
    consent_id = fields.Many2one(
        "secure.api.consent",
        readonly=True,
        ondelete="set null",
        help="The consent, and its tokens, the code's exchange created.",
    )

    @api.model
    def _create_code(self, app, uid, redirect_uri, scope, challenge):
        """Record a new code for ``app`` (its state) and return it, once."""
        code = core_tokens.generate_opaque_token()
        now = fields.Datetime.now()
        self.create(
            {
                "code_hash": core_tokens.hash_token(code),
                "app_id": app["id"],
                "user_id": uid,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "code_challenge": challenge,
                "expires_at": now + timedelta(seconds=core_oauth_code.CODE_LIFETIME),
            }
        )
        return code

    @api.model
    def _claim(self, code):
        """The code's record, locked until the transaction ends (empty when
        unknown): of two concurrent exchanges, the second waits and then
        sees the code used."""
        if not isinstance(code, str) or not code or len(code) > 512:
            return self.browse()
        self.env.cr.execute(
            "SELECT id FROM secure_api_oauth_code WHERE code_hash = %s FOR UPDATE",
            [core_tokens.hash_token(code)],
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    def _expired(self):
        self.ensure_one()
        return self.expires_at <= fields.Datetime.now()

    @api.model
    def _cron_cleanup(self):
        """Forget codes a day after they expired."""
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=1)
        old = self.sudo().search([("expires_at", "<", limit)])
        old.unlink()
        return len(old)
