import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import compat

METHOD_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# ORM entry points that an RPC whitelist must never open: they bypass the
# API's field, domain and operation limits.
FORBIDDEN_METHODS = frozenset(
    {
        "browse",
        "copy",
        "create",
        "unlink",
        "write",
        "read",
        "search",
        "search_read",
        "search_count",
        "read_group",
        "web_search_read",
        "web_read",
        "name_search",
        "sudo",
        "with_user",
        "with_context",
        "with_env",
        "with_company",
        "exists",
        "export_data",
        "load",
        "fields_get",
        "mapped",
        "filtered",
        "sorted",
        "ensure_one",
        "invalidate_cache",
        "flush",
        "check_access_rights",
        "check_access_rule",
        "toggle_active",
        "action_archive",
        "action_unarchive",
        "message_post",
        "get_metadata",
        "init",
    }
)


@compat.sql_constraints(
    (
        "name_uniq",
        "unique (api_id, model_id, name)",
        "This method is already whitelisted.",
    ),
)
class SecureApiMethod(models.Model):
    _name = "secure.api.method"
    _inherit = ["secure.api.cache.mixin"]
    _description = "API RPC Method"
    _order = "api_id, name"

    api_id = fields.Many2one(
        "secure.api", required=True, ondelete="cascade", index=True
    )
    model_id = fields.Many2one(
        "ir.model",
        ondelete="cascade",
        help="Multi-model APIs: the model of the method.",
    )
    name = fields.Char(string="Method Name", required=True)
    on_records = fields.Boolean(
        default=True,
        help="Called on the record of the URL (POST /api/<route>/<id>/<method>).",
    )
    response_encoding = fields.Selection(
        [
            ("none", "None"),
            ("manual", "Manual keys"),
            ("suffix", "By suffix (_id, _ids)"),
            ("model", "By model definition"),
        ],
        default="model",
        required=True,
        help="How ids in the result are obfuscated when the API obfuscates ids.",
    )
    encoded_keys = fields.Char(
        help="Manual encoding: comma-separated keys holding ids."
    )
    description = fields.Text()

    @api.constrains("name", "api_id", "model_id")
    def _check_name(self):
        for line in self:
            if not METHOD_RE.match(line.name or "") or line.name in FORBIDDEN_METHODS:
                raise ValidationError(
                    _(
                        "'%s' cannot be whitelisted: public methods only, "
                        "and no ORM entry point.",
                        line.name,
                    )
                )
            models_names = (
                [line.model_id.model]
                if line.model_id
                else line.api_id._get_model_names()
            )
            for model_name in models_names:
                if model_name in self.env and not callable(
                    getattr(self.env[model_name], line.name, None)
                ):
                    raise ValidationError(
                        _(
                            "Model %(model)s has no method %(method)s.",
                            model=model_name,
                            method=line.name,
                        )
                    )
