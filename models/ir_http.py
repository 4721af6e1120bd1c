from odoo import models
from odoo.http import request

from ..controllers.main import prepare_body


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        result = super()._pre_dispatch(rule, args)
        if rule.endpoint.routing.get("secure_api_body"):
            # Before Odoo parses a form body for the route's parameters, so
            # that a body over the limit is refused without being read whole.
            limit = request.env["secure.api"].sudo()._get_settings()["max_body"]
            prepare_body(request.httprequest, limit)
        return result
