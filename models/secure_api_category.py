from odoo import api, fields, models

from .. import compat


@compat.sql_constraints(
    ("name_uniq", "unique (name)", "A category with this name already exists."),
)
class SecureApiCategory(models.Model):
    _name = "secure.api.category"
    _description = "API Category"
    _order = "sequence, name"

    name = fields.Char(
        required=True,
        translate=True,
        help="The category's name, a quick filter of the dashboard.",
    )
    sequence = fields.Integer(
        default=10, help="Order of the categories in the dashboard's filters."
    )
    color = fields.Integer(help="Color of the category's label.")
    description = fields.Text(
        translate=True, help="What the APIs of this category have in common."
    )
    api_ids = fields.One2many(
        "secure.api",
        "category_id",
        string="APIs",
        help="The APIs filed under this category.",
    )
    api_count = fields.Integer(
        compute="_compute_api_count",
        string="Number of APIs",
        help="How many APIs are filed under this category.",
    )

    @api.depends("api_ids")
    def _compute_api_count(self):
        for category in self:
            category.api_count = len(category.api_ids)
