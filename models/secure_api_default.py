import datetime
from types import SimpleNamespace

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import dateutil, safe_eval, test_python_expr

relativedelta = dateutil.relativedelta.relativedelta
PLAIN_TYPES = (
    str,
    int,
    float,
    bool,
    type(None),
    datetime.date,
    datetime.datetime,
    list,
    tuple,
)


class SecureApiDefault(models.Model):
    _name = "secure.api.default"
    _inherit = ["secure.api.cache.mixin", "secure.api.privileged.mixin"]
    _description = "API Default Value"
    _order = "api_id, id"

    api_id = fields.Many2one(
        "secure.api",
        string="API",
        required=True,
        ondelete="cascade",
        index=True,
        help="The API whose creations receive this default value.",
    )
    field_id = fields.Many2one(
        "ir.model.fields",
        required=True,
        ondelete="cascade",
        help="The field set on every record created through the API when "
        "the client does not send it (its technical name in brackets).",
    )
    expression = fields.Char(
        string="Value",
        required=True,
        help="A Python expression evaluated at create time over plain values: "
        "today, now, uid, company_id, lang, tz, api_id, app_id, user.id, "
        "user.company_id.id, "
        "datetime, relativedelta; e.g. today + relativedelta(days=30), "
        "'constant' or 42. No records and no environment are reachable.",
    )

    @api.constrains("expression")
    def _check_expression(self):
        for line in self:
            message = test_python_expr(expr=line.expression.strip(), mode="eval")
            if not message:
                try:
                    # A trial run over sample values: what fails here would
                    # fail every create.
                    self._evaluate(line.expression, sample=True)
                except Exception as error:  # noqa: BLE001 - shown to the admin
                    message = str(error)
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
    def _evaluate(self, expression, sample=False):
        """Evaluate a default expression over plain values only.

        The namespace holds dates, numbers and text (the execution user's id,
        company id, language and time zone), never a record or an
        environment: an expression cannot reach anything the execution user
        could not send itself.
        """
        context = self.env.context
        # The API's environment holds the execution user's language and time
        # zone (None when unset): reading them from the user costs a query.
        lang, tz = context.get("lang"), context.get("tz")
        if not sample and ("lang" not in context or "tz" not in context):
            lang, tz = self.env.user.lang or lang, self.env.user.tz or tz
        lang, tz = lang or "en_US", tz or "UTC"
        today = fields.Date.context_today(self.with_context(tz=tz))
        now = fields.Datetime.now()
        company_id = self.env.company.id
        values = {
            "id": self.env.uid,
            "company_id": SimpleNamespace(id=company_id),
            "lang": lang,
            "tz": tz,
        }
        namespace = {
            "today": today,
            "now": now,
            "uid": self.env.uid,
            # The request's API and client app, as the context holds them.
            "api_id": self.env.context.get("api_id") or False,
            "app_id": self.env.context.get("app_id") or False,
            "company_id": company_id,
            "lang": values["lang"],
            "tz": values["tz"],
            "user": SimpleNamespace(**values),
            "company": SimpleNamespace(id=company_id),
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
        if not isinstance(value, PLAIN_TYPES) or (
            isinstance(value, list | tuple)
            and not all(isinstance(item, int) for item in value)
        ):
            raise ValidationError(
                _("A default expression must give a date, a number or text.")
            )
        return value
