from odoo import api, models


class SecureApiPrivilegedMixin(models.AbstractModel):
    """Lines that decide what an API runs and as whom (default values, RPC
    methods): created, changed and removed by administrators only (see
    ``secure.api._check_privileged_edit``)."""

    _name = "secure.api.privileged.mixin"
    _description = "Secure API administrator-only configuration"

    @api.model_create_multi
    def create(self, vals_list):
        self.env["secure.api"]._check_privileged_edit()
        return super().create(vals_list)

    def write(self, vals):
        self.env["secure.api"]._check_privileged_edit()
        return super().write(vals)

    def unlink(self):
        self.env["secure.api"]._check_privileged_edit()
        return super().unlink()
