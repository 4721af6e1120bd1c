import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import compat

METHOD_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")


def is_exposable_method(model, name):
    """Whether ``name`` may be whitelisted for RPC on ``model``.

    Only public methods that the model's own classes define (its definition
    and the extensions of the same model) qualify. Never the generic ORM
    API of ``BaseModel`` (``copy_data``, ``web_save``, ``update``,
    ``name_create``, ``fetch``, ``onchange``, ...) nor methods inherited from
    mixins and other models: they read or write fields, records and values
    without the API's field, domain and operation limits.
    """
    if not METHOD_RE.match(name or "") or hasattr(models.BaseModel, name):
        return False
    origin = None
    for klass in type(model).__mro__:
        if name in vars(klass):
            origin = klass  # the last one found defines the method first
    return (
        origin is not None
        and getattr(origin, "_name", None) == model._name
        and callable(getattr(model, name, None))
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
    _inherit = ["secure.api.cache.mixin", "secure.api.privileged.mixin"]
    _description = "API RPC Method"
    _order = "api_id, name"

    api_id = fields.Many2one(
        "secure.api",
        string="API",
        required=True,
        ondelete="cascade",
        index=True,
        help="The API whose clients may call this method.",
    )
    model_id = fields.Many2one(
        "ir.model",
        ondelete="cascade",
        help="Several-models APIs: the model of the method.",
    )
    name = fields.Char(
        string="Method Name",
        required=True,
        help="The Python method clients may call, e.g. action_confirm: a "
        "public method defined by the model itself (not a generic ORM "
        "method). It runs as the execution user.",
    )
    on_records = fields.Boolean(
        default=True,
        help="Called on the record of the URL (POST /api/<route>/<id>/<method>). "
        "Off: called on the model, without records "
        "(POST /api/<route>/call/<method>).",
    )
    response_encoding = fields.Selection(
        [
            ("none", "None"),
            ("manual", "Manual keys"),
            ("suffix", "By suffix (_id, _ids)"),
            ("model", "By model definition"),
        ],
        string="IDs in the Answer",
        default="model",
        required=True,
        help="How ids in the result are obfuscated when the API obfuscates ids. "
        "Recordsets are always returned as obfuscated ids. None: plain values "
        "are returned as they are (raw ids included). Manual keys: the values "
        "under the keys listed below are ids of the API's model. By suffix: "
        "'id' and keys ending in _id or _ids. By model definition: 'id' and "
        "keys that are relational fields of the model; a bare id or id list "
        "is taken as the model's. Check the answer of a method on the test "
        "wizard: any key holding an id that none of these rules names is "
        "shown raw.",
    )
    encoded_keys = fields.Char(
        string="Keys Holding IDs",
        help="Manual encoding: comma-separated keys holding ids of the API's "
        "model, or * for every key (when the client chooses the keys, as with "
        "address_get).",
    )
    description = fields.Text(
        help="Notes for administrators: what the method does and why clients "
        "may call it."
    )

    @api.constrains("name", "api_id", "model_id")
    def _check_name(self):
        for line in self:
            models_names = (
                [line.model_id.model]
                if line.model_id
                else line.api_id._get_model_names()
            )
            for model_name in models_names:
                if model_name in self.env and not is_exposable_method(
                    self.env[model_name], line.name
                ):
                    raise ValidationError(
                        _(
                            "%(method)s cannot be whitelisted on %(model)s: only "
                            "public methods that the model itself defines, never "
                            "the generic ORM methods or those of mixins.",
                            model=model_name,
                            method=line.name,
                        )
                    )
