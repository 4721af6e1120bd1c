from odoo import SUPERUSER_ID, api, models, tools

from .. import compat

# Users whose rights would lift an API's limits: never execution users.
PRIVILEGED_GROUPS = ("base.group_system", "base.group_erp_manager")


class ResUsers(models.Model):
    _inherit = "res.users"

    def write(self, vals):
        result = super().write(vals)
        if {"active", compat.user_groups_field(self.env)} & vals.keys():
            # Execution users are checked against this state on every
            # request: archiving or promoting one stops its tokens at once,
            # in every worker.
            self.env.registry.clear_cache()
        return result

    @api.model
    @tools.ormcache("uid")
    def _secure_api_user_state(self, uid):
        """``{"active", "privileged"}`` of a user, cached until users or
        groups change."""
        user = self.sudo().with_context(active_test=False).browse(uid).exists()
        if not user:
            return {"active": False, "privileged": False}
        privileged = (
            uid == SUPERUSER_ID
            or user._is_superuser()
            or any(user.has_group(group) for group in PRIVILEGED_GROUPS)
        )
        return {"active": user.active, "privileged": privileged}

    @api.model
    @tools.ormcache("uid")
    def _secure_api_companies(self, uid):
        """``(default company id, ids of the user's companies)``, cached
        until users or companies change (Odoo clears the caches then)."""
        user = self.sudo().with_context(active_test=False).browse(uid)
        return user.company_id.id, tuple(user._get_company_ids())
