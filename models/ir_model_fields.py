from odoo import api, models

PICKER = "secure_api_technical_names"
# Written by hand: odoo.osv.expression is deprecated from 19.0 on, and
# 17.0 has no odoo.fields.Domain.
NEGATIVE = ("!=", "not like", "not ilike", "not =like", "not =ilike", "not in")


class IrModelFields(models.Model):
    """Field pickers that name fields as developers and clients see them.

    The API's field lines, related fields and default values pick Odoo
    fields; with the ``secure_api_technical_names`` context key they read
    ``Email (email)``, the technical name being what clients get when no
    alias is set, or ``Email (res.partner.email)`` when the fields shown
    together belong to several models (several-models APIs), and typing
    either the label or the technical name finds a field. Without the key,
    every other field picker of the database behaves as Odoo's.
    """

    _inherit = "ir.model.fields"

    @api.depends_context(PICKER)
    def _compute_display_name(self):
        result = super()._compute_display_name()
        if self.env.context.get(PICKER):
            qualified = len(set(self.mapped("model"))) > 1
            for field in self:
                name = f"{field.model}.{field.name}" if qualified else field.name
                field.display_name = f"{field.field_description} ({name})"
        return result

    def _picker_domain(self, operator, value):
        return [
            "&" if operator in NEGATIVE else "|",
            ("field_description", operator, value),
            ("name", operator, value),
        ]

    @api.model
    def _search_display_name(self, operator, value):
        # 18.0 and 19.0: name_search searches display_name.
        if self.env.context.get(PICKER) and isinstance(value, str):
            return self._picker_domain(operator, value)
        return super()._search_display_name(operator, value)

    @api.model
    def _name_search(self, name, domain=None, operator="ilike", limit=None, order=None):
        # 17.0: name_search goes through _name_search.
        if self.env.context.get(PICKER) and name:
            # Two complete domains one after the other are ANDed.
            domain = [*(domain or []), *self._picker_domain(operator, name)]
            return self._search(domain, limit=limit, order=order)
        return super()._name_search(
            name, domain=domain, operator=operator, limit=limit, order=order
        )
