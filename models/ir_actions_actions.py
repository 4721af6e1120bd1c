from odoo import api, models

# The window action that lists the access-log rows of one record.
RECORD_LOG_ACTION = "secure_api.action_secure_api_log_for_record"


class IrActionsActions(models.Model):
    """The entry "API access to this record" in the Action menu of every
    form, for the users who may read the access log (administrators and
    auditors).

    One action serves every model: a binding row per model would add an
    entry to every model's bindings for every user; here the entry is added
    when the web client asks for a form's bindings, and only for readers.
    """

    _inherit = "ir.actions.actions"

    @api.model
    def get_bindings(self, model_name):
        result = super().get_bindings(model_name)
        entry = self._secure_api_log_binding(model_name)
        if entry:
            result = dict(result)
            result["action"] = [*result.get("action", []), entry]
        return result

    @api.model
    def _secure_api_log_binding(self, model_name):
        model = self.env.get(model_name)
        if (
            model is None
            or model._abstract
            or model._transient
            or model_name == "secure.api.log"
            or not self.env["secure.api.log"]._may_read()
        ):
            return None
        action = self.env.ref(RECORD_LOG_ACTION, raise_if_not_found=False)
        action = action and action.sudo()
        if not action:
            return None
        return {
            "id": action.id,
            "name": action.name,
            "binding_view_types": "form",
            "sequence": 1000,
        }
