from types import SimpleNamespace

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import dateutil, safe_eval, test_python_expr

relativedelta = dateutil.relativedelta.relativedelta


class SecureApiDefault(models.Model):
    _name = "secure.api.default"
    _inherit = ["secure.api.cache.mixin"]
    _description = "API Default Value"
    _order = "api_id, id"

    api_id = fields.Many2one(
        "secure.api", required=True, ondelete="cascade", index=True
    )
    field_id = fields.Many2one("ir.model.fields", required=True, ondelete="cascade")
    expression = fields.Char(
        required=True,
        help="A Python expression evaluated safely at create time, e.g. today, now, "
        "user.id, user.company_id.id, 'constant' or 42.",
    )

    @api.constrains("expression")
    def _check_expression(self):
        for line in self:
            message = test_python_expr(expr=line.expression.strip(), mode="eval")
            if message:
                raise ValidationError(_("Invalid default expression: %s", message))

    @api.constrains("field_id", "api_id")
    def _check_model(self):
        for line in self:
            if line.field_id.model not in line.api_id._get_model_names():
                raise ValidationError(
                    _("The default's field must belong to a model of the API.")
                )

    @api.model
    def _evaluate(self, expression):
        """Evaluate a default expression as the current (execution) user.

        Only ``safe_eval`` with a small namespace: no imports, no dunders.
        """
        today = fields.Date.context_today(self)
        now = fields.Datetime.now()
        namespace = {
            "today": today,
            "now": now,
            "user": self.env.user,
            "uid": self.env.uid,
            "company": self.env.company,
            "datetime": safe_datetime,
            "relativedelta": relativedelta,
            # ``fields.Date.today()`` as the product page documents, without
            # handing the odoo.fields module to safe_eval.
            "fields": SimpleNamespace(
                Date=SimpleNamespace(
                    today=lambda: today, context_today=lambda *a: today
                ),
                Datetime=SimpleNamespace(now=lambda: now),
            ),
        }
        value = safe_eval(expression.strip(), namespace)
        if isinstance(value, models.BaseModel):
            value = value.id if len(value) == 1 else value.ids
        return value
