from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import compat


class SecureApiConsent(models.Model):
    """One user's consent to one client app: an authorization grant.

    Created when the app exchanges the code the user's *Allow* gave it; every
    token obtained from that code, and from the refresh tokens that descend
    from it, belongs to the consent (its family). Revoking the consent, from
    the user's preferences or because a code or a refresh token was used
    twice, stops all of them at once.
    """

    _name = "secure.api.consent"
    _description = "API Consent (Connected App)"
    _order = "create_date desc, id desc"
    _rec_name = "app_id"

    user_id = fields.Many2one(
        "res.users",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        help="The user who allowed the app; its tokens act as this user, "
        "within this user's access rights.",
    )
    app_id = fields.Many2one(
        "secure.api.client",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        help="The client app the user allowed to act as them.",
    )
    scope = fields.Char(
        readonly=True,
        help="What the user allowed the app to do, within what the app may do "
        "now (search, read, create, update, delete, rpc).",
    )
    state = fields.Selection(
        [("active", "Connected"), ("revoked", "Revoked")],
        string="Status",
        default="active",
        required=True,
        readonly=True,
        index=True,
        help="Revoked: every token of this consent stopped working at once.",
    )
    revoked_at = fields.Datetime(readonly=True, help="When the consent was revoked.")
    create_date = fields.Datetime(
        string="Connected On",
        readonly=True,
        help="When the user allowed the app.",
    )
    token_ids = fields.One2many(
        "secure.api.token",
        "consent_id",
        help="The access and refresh tokens issued under this consent.",
    )
    api_names = fields.Char(
        string="APIs",
        compute="_compute_api_names",
        help="The APIs the app may call as the user.",
    )

    @api.depends("app_id")
    def _compute_api_names(self):
        for consent in self:
            apis = consent.app_id.sudo().api_ids.filtered(
                lambda api_: api_.state == "active" and api_.auth_mode == "user"
            )
            consent.api_names = ", ".join(apis.mapped("name"))

    def write(self, vals):
        # Like a token's row, a consent may only be revoked, except by code
        # running as the superuser.
        if not self.env.su and (set(vals) - {"state", "revoked_at"}) | (
            {vals.get("state")} - {"revoked"}
        ):
            raise UserError(_("A consent cannot be changed, only revoked."))
        return super().write(vals)

    def action_revoke(self):
        """Revoke these consents: every token of theirs stops at once.

        A user revokes their own consents; Secure API managers anyone's.
        """
        compat.check_access(self, "read")
        manager = self.env.user.has_group("secure_api.group_secure_api_manager")
        if not self.env.su and not manager and self.user_id != self.env.user:
            raise AccessError(_("You can only revoke the apps you connected."))
        self.sudo()._revoke()
        return True

    def _revoke(self):
        """Mark the consents revoked and revoke every token of theirs.

        Tokens are checked against their row and their consent on every
        request, so this write is all it takes: no cache is flushed.
        """
        live = self.filtered(lambda consent: consent.state == "active")
        live.write({"state": "revoked", "revoked_at": fields.Datetime.now()})
        self.env["secure.api.token"].sudo().search(
            [("consent_id", "in", self.ids), ("revoked", "=", False)]
        )._revoke()

    @api.model
    def _cron_cleanup(self):
        """Forget consents none of whose tokens is left.

        Tokens are deleted once expired (see ``secure.api.token``); a consent
        without any token can give no access any more. Young consents are
        kept: their code may still be in exchange.
        """
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=1)
        self.env.cr.execute(
            """SELECT c.id FROM secure_api_consent c
                WHERE c.create_date < %s
                  AND NOT EXISTS (SELECT 1 FROM secure_api_token t
                                   WHERE t.consent_id = c.id)""",
            [limit],
        )
        old = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        old.unlink()
        return len(old)
