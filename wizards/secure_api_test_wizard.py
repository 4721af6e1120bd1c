import json
import logging
import time
from urllib.parse import parse_qsl

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core import operations, routing
from ..core.docs import curl_line
from ..core.request import ApiRequest

_logger = logging.getLogger(__name__)


# The operations whose parameters are the query string's.
QUERY_OPERATIONS = ("search", "read", "aggregate")


class _Rollback(Exception):
    pass


class SecureApiTestWizard(models.TransientModel):
    """Runs one request through the real engine, from the API form."""

    _name = "secure.api.test.wizard"
    _description = "Test an API live"

    api_id = fields.Many2one(
        "secure.api",
        string="API",
        required=True,
        ondelete="cascade",
        help="The API to call.",
    )
    endpoint_id = fields.Many2one(
        "secure.api.endpoint",
        required=True,
        ondelete="cascade",
        domain="[('api_id', '=', api_id)]",
        help="The operation to run: the form shows the inputs it takes.",
    )
    operation = fields.Selection(related="endpoint_id.operation")
    multi_model = fields.Boolean(related="api_id.multi_model")
    model_name = fields.Char(
        string="Model",
        help="Several-models APIs: the technical name of the model in the "
        "path, e.g. res.partner.",
    )
    auth_type = fields.Selection(
        [("user", "Current user (session)"), ("app", "Client app (Bearer token)")],
        string="Run As",
        default="user",
        required=True,
        help="Current user: the request runs with your session, as the web "
        "client's calls do. Client app: a short-lived token of the app is "
        "used, so the request runs as its execution user, within its scope.",
    )
    app_id = fields.Many2one(
        "secure.api.client",
        string="Client App",
        ondelete="cascade",
        help="The app whose token the request carries; it must be allowed on the API.",
    )
    record_ref = fields.Char(
        string="Record ID",
        help="The id in the path, as the API shows it (obfuscated when the "
        "API obfuscates ids). Empty for an RPC method called on the model.",
    )
    method_name = fields.Char(
        string="RPC Method",
        help="The whitelisted method to call, e.g. action_archive.",
    )
    query = fields.Char(
        string="Query Parameters",
        help="The URL's query string, e.g. limit=5&order=name desc, or "
        "groupby=country_id&measures=color:sum for an aggregate.",
    )
    body = fields.Text(
        string="JSON Body",
        help="The request's JSON body: an object of field values (an array "
        "for several records), or the args and kwargs of a method.",
    )
    idempotency_key = fields.Char(
        help="Sent as Idempotency-Key: a repeat with the same key replays the "
        "first answer (not stored in test mode)."
    )
    if_match = fields.Char(
        string="If-Match",
        help="The ETag of the record as read: the write is refused (412) if the "
        "record changed since.",
    )
    test_mode = fields.Boolean(
        default=True,
        help="Roll back everything the request writes. Untick to write for real.",
    )
    response_status = fields.Integer(
        string="HTTP Status",
        readonly=True,
        help="The HTTP status of the answer: 2xx success, 4xx refused "
        "request, 5xx server error.",
    )
    response_headers = fields.Text(readonly=True, help="The answer's HTTP headers.")
    response_body = fields.Text(
        readonly=True,
        help="The answer's JSON body, as the client would get it.",
    )
    duration_ms = fields.Float(
        string="Time (ms)",
        readonly=True,
        help="How long the server took to answer, in milliseconds.",
    )
    curl = fields.Char(
        string="cURL",
        readonly=True,
        help="The same request as a curl command line, to run from a "
        "terminal with a real token in $TOKEN.",
    )

    @api.onchange("api_id")
    def _onchange_api_id(self):
        self.endpoint_id = self.api_id.endpoint_ids[:1]
        # Test as a client of the API would call it, when it has one.
        client = self.api_id.client_ids[:1]
        if client:
            self.auth_type, self.app_id = "app", client

    def _path(self):
        self.ensure_one()
        api_rec = self.api_id
        operation = operations.get(self.endpoint_id.operation)
        parts = [api_rec.route]
        if api_rec.multi_model:
            if not self.model_name:
                raise UserError(_("Give the model of the path."))
            parts.append(self.model_name)
        if operation.shape == "rpc":
            parts.append(self.record_ref or "call")
            parts.append(self.method_name or "")
        elif operation.shape == "aggregate":
            parts.append(routing.AGGREGATE)
        elif operation.needs_id:
            if not self.record_ref:
                raise UserError(_("Give the id of the record."))
            parts.append(self.record_ref)
        return "/".join(parts)

    def action_run(self):
        """Run the request through the engine; roll back when in test mode."""
        self.ensure_one()
        method = operations.get(self.endpoint_id.operation).http_method
        path = self._path()
        body = (self.body or "").encode("utf-8")
        headers = (
            {"Content-Type": "application/json"} if body or method != "GET" else {}
        )
        if self.idempotency_key:
            headers["Idempotency-Key"] = self.idempotency_key
        if self.if_match:
            headers["If-Match"] = self.if_match
        # Errors in the admin's language, as a client asking for it gets them.
        headers["Accept-Language"] = (self.env.lang or "en_US").replace("_", "-")
        if self.auth_type == "app" and not self.app_id:
            raise UserError(_("Choose the client app to run as."))
        engine = self.env["secure.api.engine"].sudo()
        started = time.perf_counter()
        result = None
        try:
            with self.env.cr.savepoint():
                if self.auth_type == "app":
                    token = (
                        self.env["secure.api.token"]
                        .sudo()
                        ._issue(
                            self.app_id.sudo()._state_dict(),
                            "opaque",
                            self.app_id.scope,
                        )["access_token"]
                    )
                    headers["Authorization"] = f"Bearer {token}"
                request = ApiRequest.build(
                    method,
                    path,
                    headers=headers,
                    query=parse_qsl(self._query(), keep_blank_values=True),
                    body=body,
                    session_uid=self.env.uid if self.auth_type == "user" else None,
                    remote_addr="127.0.0.1",
                    force_test_mode=self.test_mode,
                )
                answer = engine._serve(request)
                result = (answer.status, answer.headers, answer.body)
                if self.test_mode:
                    # The engine rolled its writes back; this also drops the
                    # short-lived token minted for the test.
                    raise _Rollback()
        except _Rollback:
            _logger.debug("secure_api: live test of %s rolled back", self.api_id.route)
        elapsed = (time.perf_counter() - started) * 1000.0
        status, response_headers, payload = result
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        self.write(
            {
                "response_status": status,
                "response_headers": "\n".join(
                    f"{k}: {v}" for k, v in response_headers.items()
                ),
                "response_body": json.dumps(
                    payload, indent=2, ensure_ascii=False, default=str
                )
                if payload is not None
                else "",
                "duration_ms": round(elapsed, 2),
                "curl": self._curl(method, f"{base_url}/api/{path}", body),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Test %s", self.api_id.name),
        }

    def _query(self):
        """The query string, for the operations that show the field: a
        value left from another operation is not sent."""
        operation = self.endpoint_id.operation
        return (self.query or "") if operation in QUERY_OPERATIONS else ""

    def _curl(self, method, url, body):
        query = self._query()
        return curl_line(
            method,
            f"{url}?{query}" if query else url,
            bearer=self.api_id.auth_mode == "user",
            body_text=body.decode("utf-8") if body else None,
        )
