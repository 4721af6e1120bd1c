from odoo import api, models


class SecureApiPrivilegedMixin(models.AbstractModel):
    """Lines of an API that administrators alone create, change and remove.

    By default on every API: lines that decide what an API runs and as whom
    (default values, RPC methods; see ``secure.api._check_privileged_edit``).
    With ``_privileged_public_only``, on public APIs only: lines that decide
    what anonymous callers can do (exposed fields, endpoints; see
    ``secure.api._check_public_edit``); managers keep their other APIs'.
    """

    _name = "secure.api.privileged.mixin"
    _description = "Secure API administrator-only configuration"

    _privileged_public_only = False

    @api.model_create_multi
    def create(self, vals_list):
        # Checked before anything is evaluated (default expressions are).
        for vals in vals_list:
            self._check_privileged_line_edit(vals)
        records = super().create(vals_list)
        # The API may come from the context's defaults.
        records._check_privileged_line_edit()
        return records

    def write(self, vals):
        # The lines' current API and the one they move to.
        self._check_privileged_line_edit(vals)
        return super().write(vals)

    def unlink(self):
        self._check_privileged_line_edit()
        return super().unlink()

    def _narrows(self, vals):
        """Whether ``vals`` only take something away from anonymous callers
        (open to managers on public APIs too)."""
        return False

    def _check_privileged_line_edit(self, vals=None):
        apis = self.env["secure.api"]
        if not self._privileged_public_only:
            apis._check_privileged_edit()
            return
        if vals is not None and self and self._narrows(vals):
            return
        api_ids = set(self.sudo().api_id.ids)
        if vals and vals.get("api_id"):
            api_ids.add(vals["api_id"])
        apis.browse(list(api_ids))._public_apis()._check_public_edit()
