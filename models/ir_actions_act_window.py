from odoo import api, models

from .. import compat


class IrActionsActWindow(models.Model):
    """17.0 only: window actions written with the ``list`` view mode use
    ``tree`` there (see ``ir_ui_view``)."""

    _inherit = "ir.actions.act_window"

    @api.model_create_multi
    def create(self, vals_list):
        if not compat.has_list_views(self.env):
            vals_list = [
                dict(vals, view_mode=compat.tree_view_mode(vals["view_mode"]))
                if "view_mode" in vals
                else vals
                for vals in vals_list
            ]
        return super().create(vals_list)

    def write(self, vals):
        if "view_mode" in vals and not compat.has_list_views(self.env):
            vals = dict(vals, view_mode=compat.tree_view_mode(vals["view_mode"]))
        return super().write(vals)
