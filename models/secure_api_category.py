from odoo import api, fields, models

from .. import compat


@compat.sql_constraints(
    ("name_uniq", "unique (name)", "A category with this name already exists."),
)
class SecureApiCategory(models.Model):
    _name = "secure.api.category"
    _description = "API Category"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    description = fields.Text(translate=True)
    api_ids = fields.One2many("secure.api", "category_id", string="APIs")
    api_count = fields.Integer(compute="_compute_api_count", string="API Count")

    @api.depends("api_ids")
    def _compute_api_count(self):
        for category in self:
            category.api_count = len(category.api_ids)
