from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def write(self, vals):
        result = super().write(vals)
        if "active" in vals:
            # Client apps cache their execution user's state: archiving the
            # user must stop its tokens at once, in every worker.
            self.env.registry.clear_cache()
        return result
