import hashlib
import secrets
from datetime import timedelta

from odoo import SUPERUSER_ID, _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError

from .. import compat
from ..core import domain as core_domain
from ..core import operations
from ..core.cors import parse_origins
from ..core.exceptions import BadRequest
from ..core.openapi import build_openapi, token_paths
from ..core.postman import build_postman
from ..core.routing import check_route

# Fields that decide what an API runs and as whom (see _check_privileged_edit).
PRIVILEGED_FIELDS = frozenset({"domain", "default_ids", "run_as_user_id", "method_ids"})
# What clients address: fixed while the API is published.
SHAPE_FIELDS = frozenset({"route", "model_id", "multi_model", "allowed_model_ids"})


@compat.sql_constraints(
    ("route_uniq", "unique (route)", "Another API already uses this route."),
    (
        "default_limit_positive",
        "CHECK (default_limit > 0)",
        "The default limit must be greater than 0.",
    ),
    (
        "max_limit_positive",
        "CHECK (max_limit > 0)",
        "The maximum limit must be greater than 0.",
    ),
    (
        "hashid_min_length_range",
        "CHECK (hashid_min_length >= 0 AND hashid_min_length <= 32)",
        "The Hashids minimum length must be between 0 and 32.",
    ),
    (
        "cors_max_age_positive",
        "CHECK (cors_max_age >= 0)",
        "The CORS max age cannot be negative.",
    ),
)
class SecureApi(models.Model):
    _name = "secure.api"
    _inherit = ["secure.api.cache.mixin"]
    _description = "Secure API"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    route = fields.Char(
        required=True,
        index=True,
        help="Path after /api/, e.g. partner/rest: "
        "lowercase segments separated by '/'.",
    )
    model_id = fields.Many2one(
        "ir.model",
        ondelete="cascade",
        domain="[('transient', '=', False)]",
        help="The exposed model of a single-model API.",
    )
    model_name = fields.Char(related="model_id.model", string="Model Name", store=True)
    multi_model = fields.Boolean(
        help="Serve /api/<route>/<model>/... for each allowed model.",
    )
    allowed_model_ids = fields.Many2many(
        "ir.model",
        "secure_api_allowed_model_rel",
        "api_id",
        "model_id",
        string="Allowed Models",
        domain="[('transient', '=', False)]",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("inactive", "Inactive")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
    )
    category_id = fields.Many2one("secure.api.category", ondelete="set null")
    tag_ids = fields.Many2many("secure.api.tag", string="Tags")
    description = fields.Text(translate=True)
    auth_mode = fields.Selection(
        [("public", "Public"), ("user", "User")],
        default="user",
        required=True,
        help="Public: no credentials, runs as the run-as user. "
        "User: a Bearer token or an Odoo session is required.",
    )
    run_as_user_id = fields.Many2one(
        "res.users",
        ondelete="restrict",
        domain=lambda self: self.env["secure.api.client"]._execution_user_domain(),
        help="The user public requests run as. "
        "Never a superuser or a settings administrator.",
    )
    field_ids = fields.One2many(
        "secure.api.field", "api_id", string="Exposed Fields", copy=True
    )
    domain = fields.Char(
        string="Forced Domain",
        default="[]",
        help="ANDed with every client domain and applied to every record access.",
    )
    default_ids = fields.One2many(
        "secure.api.default", "api_id", string="Default Values", copy=True
    )
    allow_search = fields.Boolean(string="Search", default=True)
    allow_read = fields.Boolean(string="Read", default=True)
    allow_create = fields.Boolean(string="Create")
    allow_update = fields.Boolean(string="Update")
    allow_delete = fields.Boolean(string="Delete")
    allow_rpc = fields.Boolean(string="RPC")
    method_ids = fields.One2many(
        "secure.api.method", "api_id", string="RPC Methods", copy=True
    )
    obfuscate_ids = fields.Boolean(string="Obfuscate IDs", default=True)
    hashid_salt = fields.Char(
        string="Hashids Salt",
        default=lambda self: secrets.token_hex(16),
        copy=False,
        groups="secure_api.group_secure_api_manager",
    )
    hashid_min_length = fields.Integer(string="Hashids Minimum Length", default=6)
    binary_mode = fields.Selection(
        [("url", "URL"), ("base64", "Base64")], default="url", required=True
    )
    default_limit = fields.Integer(default=80, required=True)
    max_limit = fields.Integer(default=500, required=True)
    default_order = fields.Char(
        help="ORM order used when the client sends none, e.g. 'name asc'."
    )
    cors_enabled = fields.Boolean(string="CORS")
    cors_origins = fields.Text(
        string="Allowed Origins", help="One origin per line, or * for any."
    )
    cors_methods = fields.Char(
        string="Allowed Methods", default="GET, POST, PUT, PATCH, DELETE, OPTIONS"
    )
    cors_headers = fields.Char(
        string="Allowed Headers",
        default="Authorization, Content-Type, X-Requested-With",
    )
    cors_max_age = fields.Integer(string="Max Age (s)", default=600)
    statistics_enabled = fields.Boolean(string="Usage Statistics", default=True)
    test_mode = fields.Boolean(
        help="Run every request, then roll back what it wrote. "
        "Responses carry X-Test-Mode: 1."
    )
    client_ids = fields.Many2many(
        "secure.api.client",
        "secure_api_client_rel",
        "api_id",
        "client_id",
        string="Client Apps",
        help="The client apps whose tokens may call this API.",
    )
    endpoint_ids = fields.One2many(
        "secure.api.endpoint",
        "api_id",
        string="Endpoints",
        context={"active_test": False},
    )
    statistic_ids = fields.One2many(
        "secure.api.statistic", "api_id", string="Statistics"
    )
    webhook_ids = fields.One2many(
        "secure.api.webhook",
        "api_id",
        string="Webhooks",
        context={"active_test": False},
    )
    endpoint_count = fields.Integer(compute="_compute_endpoint_count")
    can_edit_privileged = fields.Boolean(
        compute="_compute_can_edit_privileged",
        help="Forced domains, default values, run-as users and RPC methods are "
        "edited by administrators (Settings) only.",
    )
    url = fields.Char(compute="_compute_url", string="URL")
    calls_24h = fields.Integer(compute="_compute_usage_24h", string="Calls (24 h)")
    error_rate_24h = fields.Float(
        compute="_compute_usage_24h", string="Error Rate (24 h, %)"
    )
    avg_ms_24h = fields.Float(
        compute="_compute_usage_24h", string="Average Time (24 h, ms)"
    )

    @api.depends("endpoint_ids")
    def _compute_endpoint_count(self):
        for record in self:
            record.endpoint_count = len(record.endpoint_ids)

    def _compute_can_edit_privileged(self):
        allowed = self.env.su or self.env.user.has_group("base.group_system")
        for record in self:
            record.can_edit_privileged = allowed

    def _compute_usage_24h(self):
        since = fields.Datetime.now() - timedelta(hours=24)
        groups = self.env["secure.api.statistic"]._read_group(
            [("api_id", "in", self.ids), ("bucket", ">=", since)],
            ["api_id"],
            ["calls:sum", "errors:sum", "duration_total_ms:sum"],
        )
        usage = {
            api_rec.id: (calls, errors, total)
            for api_rec, calls, errors, total in groups
        }
        for record in self:
            calls, errors, total = usage.get(record.id, (0, 0, 0.0))
            record.calls_24h = calls
            record.error_rate_24h = 100.0 * errors / calls if calls else 0.0
            record.avg_ms_24h = total / calls if calls else 0.0

    @api.depends("route")
    def _compute_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for record in self:
            record.url = f"{base}/api/{record.route}" if record.route else False

    @api.constrains("route")
    def _check_route(self):
        for record in self:
            message = check_route(record.route)
            if message:
                raise ValidationError(
                    _(
                        "Invalid route '%(route)s': %(reason)s",
                        route=record.route,
                        reason=message,
                    )
                )

    @api.constrains("default_limit", "max_limit")
    def _check_limits(self):
        for record in self:
            if record.default_limit > record.max_limit:
                raise ValidationError(
                    _("The default limit cannot exceed the maximum limit.")
                )

    @api.constrains("model_id", "multi_model", "allowed_model_ids")
    def _check_models(self):
        for record in self:
            if record.multi_model and not record.allowed_model_ids:
                raise ValidationError(
                    _("A multi-model API needs at least one allowed model.")
                )
            if not record.multi_model and not record.model_id:
                raise ValidationError(_("Choose the model this API exposes."))

    @api.constrains("auth_mode", "run_as_user_id")
    def _check_run_as_user(self):
        for record in self:
            if record.auth_mode == "public" and not record.run_as_user_id:
                raise ValidationError(_("A public API needs a run-as user."))
            if record.run_as_user_id:
                self.env["secure.api.client"]._check_execution_user(
                    record.run_as_user_id
                )

    @api.constrains("domain", "model_id", "allowed_model_ids")
    def _check_domain(self):
        for record in self:
            for model_name in record._get_model_names():
                if model_name not in self.env:
                    continue
                try:
                    forced = core_domain.check_forced_domain(
                        record.domain, self.env[model_name]._fields
                    )
                    self.env[model_name].sudo()._search(forced)
                except (BadRequest, ValueError, KeyError) as error:
                    raise ValidationError(
                        _(
                            "Invalid forced domain for %(model)s: %(error)s",
                            model=model_name,
                            error=error,
                        )
                    ) from None

    @api.constrains("state", "field_ids")
    def _check_fields(self):
        for record in self:
            if record.state == "active":
                for model_name in record._get_model_names():
                    if not record.field_ids.filtered(
                        lambda line, m=model_name: line.model_name == m
                    ):
                        raise ValidationError(
                            _(
                                "Expose at least one field of %(model)s "
                                "before publishing.",
                                model=model_name,
                            )
                        )

    @api.constrains("cors_origins")
    def _check_cors_origins(self):
        for record in self:
            for origin in parse_origins(record.cors_origins):
                if origin != "*" and not origin.startswith(("http://", "https://")):
                    raise ValidationError(
                        _("CORS origins start with http:// or https:// (or are *).")
                    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if any(
                vals.get(name) not in (None, False, [], "", "[]")
                for name in PRIVILEGED_FIELDS
            ):
                self._check_privileged_edit()
        return super().create(vals_list)

    def write(self, vals):
        if PRIVILEGED_FIELDS & vals.keys():
            self._check_privileged_edit()
        if self._changes_shape(vals):
            # Clients of a published API rely on its route and model.
            raise UserError(
                _(
                    "Reset the API to draft before changing its route or "
                    "models: its clients will break."
                )
            )
        result = super().write(vals)
        if any(key.startswith("allow_") for key in vals):
            self.filtered(lambda api_rec: api_rec.state == "active")._sync_endpoints()
        return result

    def _changes_shape(self, vals):
        """Whether ``vals`` change the route or models of a published API."""
        for record in self.filtered(lambda a: a.state != "draft"):
            for name in SHAPE_FIELDS & vals.keys():
                value = vals[name]
                current = record[name]
                if name == "allowed_model_ids" or (
                    (current.id if name == "model_id" else current) != value
                ):
                    return True
        return False

    @api.model
    def _check_privileged_edit(self):
        """Forced domains, default values, run-as and execution users and RPC
        methods decide what an API runs and as whom: only administrators set
        them."""
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(
                _(
                    "Only administrators (Settings) may edit forced domains, "
                    "default values, run-as users, client apps' execution users "
                    "and RPC methods."
                )
            )

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for record, vals in zip(self, vals_list, strict=True):
            if "route" not in (default or {}):
                vals["route"] = f"{record.route}-copy"
        return vals_list

    def action_publish(self):
        for record in self:
            if not record.field_ids:
                raise UserError(
                    _("Expose at least one field before publishing %s.", record.name)
                )
        self.write({"state": "active"})
        self._sync_endpoints()
        return True

    def action_deactivate(self):
        self.write({"state": "inactive"})
        return True

    def action_reset_to_draft(self):
        self.write({"state": "draft"})
        return True

    def action_view_endpoints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "secure_api.secure_api_endpoint_action"
        )
        action["domain"] = [("api_id", "=", self.id)]
        action["context"] = {"default_api_id": self.id, "active_test": False}
        return action

    def action_view_statistics(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "secure_api.secure_api_statistic_action"
        )
        action["domain"] = [("api_id", "=", self.id)]
        return action

    def action_open_test(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Test %s", self.name),
            "res_model": "secure.api.test.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_api_id": self.id},
        }

    def action_open_export(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Export APIs"),
            "res_model": "secure.api.export.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_api_ids": self.ids},
        }

    def get_openapi_document(self, app=None):
        """The OpenAPI 3 document of these APIs (all active ones if empty).

        With ``app`` (a client app's state), exactly the APIs and operations
        that this client app may use now.
        """
        specs = self._doc_specs()
        if app is not None:
            specs = self._specs_for_app(specs, app)
        return self._openapi_for_specs(specs)

    @api.model
    def _openapi_for_specs(self, specs):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        document = build_openapi(specs, base_url)
        document["paths"].update(token_paths())
        return document

    @api.model
    def _specs_for_app(self, specs, app, scope=None):
        """The specs a client app may call, with what its scope allows."""
        allowed = set(scope if scope is not None else app["scope"].split())
        result = []
        for spec in specs:
            if app["id"] not in spec["client_ids"]:
                continue
            operations_ = tuple(
                name
                for name in spec["operations"]
                if operations.get(name).scope in allowed
            )
            if operations_:
                result.append(dict(spec, operations=operations_))
        return result

    def get_postman_collection(self):
        """The Postman v2.1 collection of these APIs (all active ones if empty)."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return build_postman(self._doc_specs(), base_url)

    def _doc_specs(self):
        """Plain descriptions of the active APIs for documents: no secrets."""
        apis = self or self.search([("state", "=", "active")])
        specs = []
        for record in apis.sudo().filtered(lambda a: a.state == "active"):
            spec = dict(self._get_spec(record.id))
            spec.pop("salt", None)
            spec["description"] = record.description or ""
            spec["webhooks"] = bool(
                record.webhook_ids.filtered(lambda hook: hook.state == "active")
            )
            specs.append(spec)
        return specs

    @api.model
    def _documents_allowed(self, req):
        """Documents are public when Settings say so, else managers only."""
        if self._get_settings()["openapi_public"]:
            return True
        uid = req.session_uid
        return bool(uid) and self.env["res.users"].sudo().browse(uid).has_group(
            "secure_api.group_secure_api_manager"
        )

    @api.model
    def _docs_page_html(self, req):
        """The /api/docs page, rendered for ``req``'s session."""
        values = self.sudo()._docs_page_values()
        values["can_try"] = bool(req.session_uid)
        user = self.env["res.users"].sudo().browse(req.session_uid or SUPERUSER_ID)
        values["lang"] = (user.lang or "en_US").replace("_", "-")
        page = (
            self.env["ir.qweb"]
            .sudo()
            ._render("secure_api.secure_api_docs_page", values)
        )
        # QWeb escapes a doctype written in a template: standards mode needs
        # it first, as is.
        return "<!DOCTYPE html>\n" + str(page)

    @api.model
    def _docs_page_values(self):
        """What the /api/docs page shows, per active API and endpoint."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        pages = []
        for spec in self._doc_specs():
            for model, model_spec in sorted(spec["models"].items()):
                base = f"/api/{spec['route']}" + (
                    f"/{model}" if spec["multi_model"] else ""
                )
                endpoints = []
                active = [
                    op
                    for op in spec["operations"]
                    if spec["endpoints"].get(op, {}).get("active")
                ]
                for operation in active:
                    endpoints.extend(
                        self._docs_endpoints(
                            spec, base, base_url, operation, model_spec
                        )
                    )
                pages.append(
                    {
                        "name": spec["name"],
                        "model": model,
                        "description": spec["description"],
                        "auth_mode": spec["auth_mode"],
                        "obfuscate": spec["obfuscate"],
                        "fields": model_spec["fields"],
                        "endpoints": endpoints,
                        "anchor": f"{spec['route']}-{model}".replace("/", "-").replace(
                            ".", "-"
                        ),
                    }
                )
        return {"pages": pages, "base_url": base_url}

    @api.model
    def _docs_endpoints(self, spec, base, base_url, operation, model_spec):
        auth = (
            ""
            if spec["auth_mode"] == "public"
            else ' -H "Authorization: Bearer $TOKEN"'
        )
        sample_id = "{id}"
        shapes = {
            "search": [("GET", base, "?limit=10")],
            "read": [("GET", f"{base}/{sample_id}", "")],
            "create": [("POST", base, "")],
            "update": [("PATCH", f"{base}/{sample_id}", "")],
            "delete": [("DELETE", f"{base}/{sample_id}", "")],
            "rpc": [
                (
                    "POST",
                    f"{base}/{sample_id}/{m}"
                    if v["on_records"]
                    else f"{base}/call/{m}",
                    "",
                )
                for m, v in sorted(model_spec["methods"].items())
            ],
        }
        result = []
        for method, path, query in shapes[operation]:
            body = ""
            if method in ("POST", "PATCH"):
                body = " -H \"Content-Type: application/json\" -d '{}'"
            result.append(
                {
                    "operation": operation,
                    "method": method,
                    "path": path,
                    "scope": operation,
                    "curl": f'curl -X {method}{auth}{body} "{base_url}{path}{query}"',
                    "try_path": (path + query)
                    if method == "GET" and "{" not in path
                    else "",
                }
            )
        return result

    def _get_model_names(self):
        self.ensure_one()
        if self.multi_model:
            return self.allowed_model_ids.mapped("model")
        return [self.model_id.model] if self.model_id else []

    def _enabled_operations(self):
        self.ensure_one()
        return [op for op in operations.GENERATED if self[f"allow_{op}"]]

    def _sync_endpoints(self):
        """Make the endpoints match the enabled operations.

        Existing endpoints of still-enabled operations are kept with their
        active toggle and their statistics; the others are removed.
        """
        endpoint_model = (
            self.env["secure.api.endpoint"].sudo().with_context(active_test=False)
        )
        for record in self:
            wanted = set(record._enabled_operations())
            existing = endpoint_model.search([("api_id", "=", record.id)])
            kept = existing.filtered(lambda e, w=wanted: e.operation in w)
            (existing - kept).unlink()
            have = set(kept.mapped("operation"))
            endpoint_model.create(
                [
                    endpoint_model._prepare_values(record, operation)
                    for operation in operations.GENERATED
                    if operation in wanted and operation not in have
                ]
            )
            for endpoint in kept:
                values = endpoint_model._prepare_values(record, endpoint.operation)
                if endpoint.path != values["path"]:
                    endpoint.path = values["path"]

    # ------------------------------------------------------------------
    # Hot-path lookups: plain data, cached per registry, cleared on write.
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _get_route_map(self):
        """``{route: api id}`` of the active APIs."""
        apis = self.sudo().search_read([("state", "=", "active")], ["route"])
        return {row["route"]: row["id"] for row in apis}

    @api.model
    def _setup_security_groups(self):
        """Data hook: file the groups under "Secure API", give admins Manager."""
        ref = self.env.ref
        compat.setup_groups(
            self.env,
            ref("secure_api.group_secure_api_user")
            | ref("secure_api.group_secure_api_manager"),
            ref("secure_api.module_category_secure_api"),
            ref("base.user_root") | ref("base.user_admin"),
        )

    @api.model
    @tools.ormcache()
    def _get_settings(self):
        """Global settings of the request path (cleared when parameters change)."""
        param = self.env["ir.config_parameter"].sudo().get_param
        return {
            "max_body": int(param("secure_api.max_body_kb", 1024) or 1024) * 1024,
            "jwt_leeway": int(param("secure_api.jwt_leeway", 30) or 30),
            "auth_max_failures": int(param("secure_api.auth_max_failures", 10) or 10),
            "openapi_public": bool(param("secure_api.openapi_public")),
            # Below this many rows (by the planner's estimate), count=estimated
            # answers the exact count.
            "estimate_threshold": int(
                param("secure_api.estimate_threshold", 100000) or 100000
            ),
        }

    @api.model
    @tools.ormcache("api_id")
    def _get_spec(self, api_id):
        """The plain description of one API that the engine runs on.

        Everything the request path needs is here, so that serving a request
        reads no configuration from the database once the cache is warm.
        """
        record = self.sudo().browse(api_id).exists()
        if not record or record.state != "active":
            return None
        return record._build_spec()

    def _build_spec(self):
        self.ensure_one()
        models_spec = {}
        for model_name in self._get_model_names():
            if model_name not in self.env:
                continue
            model_fields = self.env[model_name]._fields
            lines = self.field_ids.filtered(
                lambda line, m=model_name: line.model_name == m
            )
            field_specs = [
                line._spec(model_fields) for line in lines.sorted("sequence")
            ]
            field_specs = [spec for spec in field_specs if spec]
            defaults = [
                {"name": line.field_id.name, "expression": line.expression}
                for line in self.default_ids
                if line.field_id.model == model_name
            ]
            methods = {
                line.name: {
                    "name": line.name,
                    "on_records": line.on_records,
                    "encoding": line.response_encoding,
                    "keys": tuple(
                        k.strip()
                        for k in (line.encoded_keys or "").split(",")
                        if k.strip()
                    ),
                }
                for line in self.method_ids
                if not line.model_id or line.model_id.model == model_name
            }
            models_spec[model_name] = {
                "model": model_name,
                "fields": field_specs,
                "defaults": defaults,
                "methods": methods,
                "has_active": "active" in model_fields,
            }
        endpoints = {
            endpoint.operation: {"id": endpoint.id, "active": endpoint.active}
            for endpoint in self.with_context(active_test=False).endpoint_ids
        }
        spec = {
            "id": self.id,
            "name": self.name,
            "route": self.route,
            "multi_model": self.multi_model,
            "model": None if self.multi_model else self.model_id.model,
            "models": models_spec,
            "operations": tuple(self._enabled_operations()),
            "endpoints": endpoints,
            "auth_mode": self.auth_mode,
            "run_as_uid": self.run_as_user_id.id or None,
            "domain": core_domain.normalize(
                core_domain.parse_literal(self.domain or "[]", max_chars=65536)
            ),
            "obfuscate": self.obfuscate_ids,
            "salt": self.hashid_salt or "",
            "min_length": self.hashid_min_length,
            "binary_mode": self.binary_mode,
            "default_limit": self.default_limit,
            "max_limit": self.max_limit,
            "default_order": self.default_order or None,
            "cors": {
                "enabled": self.cors_enabled,
                "origins": parse_origins(self.cors_origins),
                "methods": self.cors_methods,
                "headers": self.cors_headers,
                "max_age": self.cors_max_age,
            },
            "statistics": self.statistics_enabled,
            "test_mode": self.test_mode,
            "client_ids": frozenset(self.client_ids.ids),
        }
        # Part of every ETag: changing what the API shows changes them all.
        spec["config_version"] = hashlib.sha256(
            repr((spec["models"], spec["binary_mode"], spec["obfuscate"])).encode()
        ).hexdigest()[:16]
        return spec
