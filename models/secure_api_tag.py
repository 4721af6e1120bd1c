from odoo import fields, models


class SecureApiTag(models.Model):
    _name = "secure.api.tag"
    _description = "API Tag"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()

    _sql_constraints = [
        ("name_uniq", "unique (name)", "A tag with this name already exists."),
    ]
