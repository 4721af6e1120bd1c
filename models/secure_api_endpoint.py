from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import compat
from ..core import operations

# Generated from the API's enabled operations (secure.api._sync_endpoints):
# only the system writes them; users switch endpoints on and off.
GENERATED_FIELDS = frozenset({"api_id", "operation", "http_method", "path"})


@compat.sql_constraints(
    (
        "operation_uniq",
        "unique (api_id, operation)",
        "An API has one endpoint per operation.",
    ),
)
class SecureApiEndpoint(models.Model):
    _name = "secure.api.endpoint"
    _inherit = ["secure.api.cache.mixin", "secure.api.privileged.mixin"]
    _description = "API Endpoint"
    _order = "api_id, id"
    _rec_name = "path"
    _rec_names_search = ["path", "operation"]
    # Switching an endpoint of a public API on is an administrator's
    # decision; switching it off is open to managers (see _narrows).
    _privileged_public_only = True

    api_id = fields.Many2one(
        "secure.api",
        string="API",
        required=True,
        ondelete="cascade",
        index=True,
        help="The API this endpoint belongs to.",
    )
    operation = fields.Selection(
        operations.selection(),
        required=True,
        readonly=True,
        help="What the endpoint does, generated from the operations the API enables.",
    )
    http_method = fields.Char(
        string="HTTP Method",
        required=True,
        readonly=True,
        help="The HTTP method clients use to call the endpoint.",
    )
    path = fields.Char(
        required=True,
        readonly=True,
        help="The path clients call, after the server's address.",
    )
    active = fields.Boolean(
        string="Enabled",
        default=True,
        help="Switched-off endpoints answer 404 (unknown route); the API's "
        "other endpoints keep answering.",
    )
    statistic_ids = fields.One2many(
        "secure.api.statistic",
        "endpoint_id",
        string="Statistics",
        help="The hourly usage counters of this endpoint.",
    )

    def write(self, vals):
        # An endpoint moved to another API or given another operation would
        # serve what that API's switches do not enable.
        if not self.env.su and GENERATED_FIELDS & vals.keys():
            raise UserError(
                _(
                    "Endpoints are generated from the API's operations: only "
                    "their Enabled switch can be changed."
                )
            )
        return super().write(vals)

    def _narrows(self, vals):
        return set(vals) == {"active"} and not vals["active"]

    @api.depends("operation", "http_method", "path")
    def _compute_display_name(self):
        labels = dict(operations.selection())
        for endpoint in self:
            endpoint.display_name = (
                f"{labels.get(endpoint.operation, '')} · "
                f"{endpoint.http_method or ''} {endpoint.path or ''}"
            )

    @api.model
    def _prepare_values(self, api_record, operation):
        model_part = "/{model}" if api_record.multi_model else ""
        return {
            "api_id": api_record.id,
            "operation": operation,
            **operations.endpoint_values(
                operation, f"/api/{api_record.route}{model_part}"
            ),
        }
