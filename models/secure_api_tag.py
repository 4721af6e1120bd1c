from odoo import fields, models

from .. import compat


@compat.sql_constraints(
    ("name_uniq", "unique (name)", "A tag with this name already exists."),
)
class SecureApiTag(models.Model):
    _name = "secure.api.tag"
    _description = "API Tag"
    _order = "name"

    name = fields.Char(
        required=True,
        translate=True,
        help="The tag's name, to label APIs and filter the dashboard.",
    )
    color = fields.Integer(help="Color of the tag on the APIs that carry it.")
