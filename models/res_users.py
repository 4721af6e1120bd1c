from odoo import SUPERUSER_ID, api, fields, models

from .. import compat, replica

# Users whose rights would lift an API's limits: never execution users.
PRIVILEGED_GROUPS = ("base.group_system", "base.group_erp_manager")


class ResUsers(models.Model):
    _inherit = "res.users"

    secure_api_consent_ids = fields.One2many(
        "secure.api.consent",
        "user_id",
        string="Connected Apps",
        domain=[("state", "=", "active")],
        help="The client apps this user allowed to act as them; revoking one "
        "stops its tokens at once.",
    )

    @property
    def SELF_READABLE_FIELDS(self):  # noqa: N802 - Odoo's name
        # Each user sees their connected apps in their preferences.
        return super().SELF_READABLE_FIELDS + ["secure_api_consent_ids"]

    def write(self, vals):
        result = super().write(vals)
        if {"active", compat.user_groups_field(self.env)} & vals.keys():
            # Execution users are checked against this state on every
            # request: archiving or promoting one stops its tokens at once,
            # in every worker.
            self.env.registry.clear_cache()
        return result

    @api.model
    @replica.ormcache("uid")
    def _secure_api_user_state(self, uid):
        """``{"active", "privileged"}`` of a user, cached until users or
        groups change; read on the primary (see ``replica``).

        From the user's stored groups, not from ``has_group``: Odoo's group
        cache may have been filled on a replica by any read-only request.
        """
        user = self.sudo().with_context(active_test=False).browse(uid).exists()
        if not user:
            return {"active": False, "privileged": False}
        # 19.0 stores the groups given, and computes those they imply;
        # earlier series store both.
        name = "all_group_ids" if "all_group_ids" in user._fields else None
        groups = user[name or compat.user_groups_field(self.env)]
        privileged_ids = {self.env.ref(group).id for group in PRIVILEGED_GROUPS}
        privileged = (
            uid == SUPERUSER_ID
            or user._is_superuser()
            or bool(privileged_ids & set(groups.ids))
        )
        return {"active": user.active, "privileged": privileged}

    @api.model
    @replica.ormcache("uid")
    def _secure_api_companies(self, uid):
        """``(default company id, ids of the user's companies)``, cached
        until users or companies change (Odoo clears the caches then); read
        on the primary (see ``replica``): which companies a request may run
        in is the user's current state."""
        user = self.sudo().with_context(active_test=False).browse(uid)
        return user.company_id.id, tuple(user._get_company_ids())
