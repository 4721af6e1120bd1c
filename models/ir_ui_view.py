from odoo import api, models

from .. import compat


class IrUiView(models.Model):
    """17.0 only: read the views this addon writes with ``<list>`` as
    ``<tree>``, and its kanban ``card`` templates as ``kanban-box``
    (``compat.kanban_box_arch``).

    The views are written once, in the ``<list>`` of 18.0 and 19.0. On a
    series without that view type, every architecture is translated when it
    is stored, at install and at each update alike (``-u`` rewrites the
    ``arch`` through ``write``), so the stored view is always valid there.
    Architectures without ``<list>`` pass unchanged.
    """

    _inherit = "ir.ui.view"

    @api.model_create_multi
    def create(self, vals_list):
        if not compat.has_list_views(self.env):
            vals_list = [self._tree_values(vals) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        if not compat.has_list_views(self.env):
            vals = self._tree_values(vals)
        return super().write(vals)

    @api.model
    def _tree_values(self, vals):
        vals = dict(vals)
        for key in ("arch", "arch_db", "arch_base"):
            if key in vals:
                vals[key] = compat.kanban_box_arch(compat.tree_arch(vals[key]))
        if vals.get("type") == "list":
            vals["type"] = "tree"
        return vals
