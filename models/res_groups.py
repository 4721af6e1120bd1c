from odoo import api, models

from .. import compat


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model_create_multi
    def create(self, vals_list):
        groups = super().create(vals_list)
        self._clear_secure_api_user_state(*(vals.keys() for vals in vals_list))
        return groups

    def write(self, vals):
        result = super().write(vals)
        self._clear_secure_api_user_state(vals.keys())
        return result

    def _clear_secure_api_user_state(self, *keys):
        """Membership changes may make an execution user an administrator."""
        watched = {compat.group_users_field(self.env), "implied_ids"}
        if any(watched & set(names) for names in keys):
            self.env.registry.clear_cache()
