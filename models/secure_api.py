import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .. import compat, i18n_messages
from ..core import cors as core_cors
from ..core import domain as core_domain
from ..core import operations
from ..core.cors import parse_origins
from ..core.exceptions import BadRequest
from ..core.routing import check_route
from .secure_api_log import LEVEL_SELECTION as LOG_LEVELS

# Fields that decide what an API runs and as whom (see _check_privileged_edit).
PRIVILEGED_FIELDS = frozenset({"domain", "default_ids", "run_as_user_id", "method_ids"})
# What the access log records, with the value of an API that records nothing.
AUDIT_DEFAULTS = {"log_level": "none", "log_bodies": False}
# What a manager may still change on a public API: labels for people. Every
# other field decides what its anonymous callers can do (see
# _public_apis_changed_by), except switching operations off and narrowing CORS.
PUBLIC_LABEL_FIELDS = frozenset(
    {"name", "sequence", "category_id", "tag_ids", "description"}
)
CORS_FIELDS = frozenset(
    {"cors_enabled", "cors_origins", "cors_methods", "cors_headers", "cors_max_age"}
)
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
    (
        "rate_limit_range",
        "CHECK (rate_limit >= 0 AND rate_window > 0 AND rate_window <= 2678400)",
        "The rate limit cannot be negative, and its window lasts from 1 second "
        "to 31 days.",
    ),
)
class SecureApi(models.Model):
    _name = "secure.api"
    _inherit = ["secure.api.cache.mixin"]
    _description = "Secure API"
    _order = "sequence, name"

    name = fields.Char(
        required=True,
        translate=True,
        help="The API's name for people: shown on the dashboard, in the "
        "OpenAPI document and on /api/docs. Clients address it by its route.",
    )
    sequence = fields.Integer(
        default=10,
        help="Order of the APIs on the dashboard, in lists and in the "
        "documentation: lower first.",
    )
    active = fields.Boolean(
        default=True,
        help="An archived API disappears from the dashboard and answers "
        "nothing, like an inactive one.",
    )
    route = fields.Char(
        required=True,
        index=True,
        help="Path after /api/, e.g. partner/rest: "
        "lowercase segments separated by '/'. Clients call "
        "/api/<route>; it cannot change while the API is published.",
    )
    model_id = fields.Many2one(
        "ir.model",
        ondelete="cascade",
        domain="[('transient', '=', False)]",
        help="The Odoo model whose records this API serves (single-model "
        "API). Deleting the model deletes the API.",
    )
    model_name = fields.Char(
        related="model_id.model",
        string="Technical Model Name",
        store=True,
        help="The technical name of the exposed model, e.g. res.partner.",
    )
    multi_model = fields.Boolean(
        string="Several Models",
        help="Serve several models under one route: clients call "
        "/api/<route>/<model>/... for each allowed model, and the exposed "
        "fields, defaults and methods say which model they belong to.",
    )
    allowed_model_ids = fields.Many2many(
        "ir.model",
        "secure_api_allowed_model_rel",
        "api_id",
        "model_id",
        string="Allowed Models",
        domain="[('transient', '=', False)]",
        help="Several-models APIs: the models clients may name in the path. "
        "Any other model answers 404.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("inactive", "Inactive")],
        string="Status",
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        help="Draft: being configured, answers 404. Active: published, its "
        "endpoints answer. Inactive: switched off, answers 404 until "
        "published again.",
    )
    category_id = fields.Many2one(
        "secure.api.category",
        ondelete="set null",
        help="Groups APIs on the dashboard (quick filters on the left); no "
        "effect on what clients may do.",
    )
    tag_ids = fields.Many2many(
        "secure.api.tag",
        string="Tags",
        help="Free labels to filter the dashboard; no effect on clients.",
    )
    description = fields.Text(
        translate=True,
        help="What the API is for and who calls it: shown on the "
        "documentation page (/api/docs).",
    )
    auth_mode = fields.Selection(
        [("public", "Public"), ("user", "User")],
        string="Authentication",
        default="user",
        required=True,
        help="Public: no credentials, runs as the run-as user. "
        "User: a Bearer token or an Odoo session is required.",
    )
    run_as_user_id = fields.Many2one(
        "res.users",
        ondelete="restrict",
        domain=lambda self: self.env["secure.api.client"]._execution_user_domain(),
        help="The user public requests run as: they see and change what this "
        "user may, within the API's limits. "
        "Never a superuser or a settings administrator.",
    )
    field_ids = fields.One2many(
        "secure.api.field",
        "api_id",
        string="Exposed Fields",
        copy=True,
        help="The only fields clients read and write, with their names in "
        "the API. Any other field is unknown to them.",
    )
    domain = fields.Char(
        string="Forced Domain",
        default="[]",
        help="ANDed with every client domain and applied to every record "
        "access: records outside it look missing (404) to clients.",
    )
    default_ids = fields.One2many(
        "secure.api.default",
        "api_id",
        string="Default Values",
        copy=True,
        help="Values given to every record created through the API when the "
        "client does not send the field.",
    )
    allow_search = fields.Boolean(
        string="Search",
        default=True,
        help="GET /api/<route>: clients list records, with a domain, an "
        "order and pages.",
    )
    allow_read = fields.Boolean(
        string="Read",
        default=True,
        help="GET /api/<route>/<id>: clients read one record.",
    )
    allow_create = fields.Boolean(
        string="Create",
        help="POST /api/<route>: clients create records (an array creates "
        "several at once).",
    )
    allow_update = fields.Boolean(
        string="Update",
        help="PATCH or PUT /api/<route>/<id>: clients change the writable "
        "fields of records.",
    )
    allow_delete = fields.Boolean(
        string="Delete",
        help="DELETE /api/<route>/<id>: clients delete records.",
    )
    allow_rpc = fields.Boolean(
        string="RPC",
        help="POST /api/<route>/<id>/<method>: clients call the methods "
        "listed under RPC methods, and no other.",
    )
    allow_aggregate = fields.Boolean(
        string="Aggregate",
        help="GET /api/<route>/aggregate: clients count and sum records by "
        "groups (groupby, measures), over the searchable fields, with the "
        "search scope.",
    )
    method_ids = fields.One2many(
        "secure.api.method",
        "api_id",
        string="RPC Methods",
        copy=True,
        help="The only model methods clients may call when RPC is enabled.",
    )
    obfuscate_ids = fields.Boolean(
        string="Obfuscate IDs",
        default=True,
        help="Show record ids to clients as short strings (Hashids) instead "
        "of database integers, so they cannot guess other records' ids or "
        "count them. Changing it changes every id clients hold.",
    )
    hashid_salt = fields.Char(
        string="Obfuscation Salt",
        default=lambda self: secrets.token_hex(16),
        copy=False,
        groups="secure_api.group_secure_api_manager",
        help="The secret that makes this API's obfuscated ids unique to it. "
        "Generated once; changing it changes every id clients hold.",
    )
    hashid_min_length = fields.Integer(
        string="Minimum ID Length",
        default=6,
        help="Obfuscated ids are padded to at least this many characters (0 to 32).",
    )
    binary_mode = fields.Selection(
        [("url", "URL"), ("base64", "Base64")],
        string="Binary Fields As",
        default="url",
        required=True,
        help="URL: files and images are answered as a link to download them "
        "with the same token (small answers). Base64: their content is "
        "inside the answer.",
    )
    default_limit = fields.Integer(
        string="Default Page Size",
        default=80,
        required=True,
        help="Records per page of a search when the client sends no limit.",
    )
    max_limit = fields.Integer(
        string="Maximum Page Size",
        default=500,
        required=True,
        help="The largest limit a client may ask for: a larger one is cut to it.",
    )
    default_order = fields.Char(
        help="ORM order of search results when the client sends none, e.g. "
        "'name asc'; by id when empty."
    )
    cors_enabled = fields.Boolean(
        string="CORS",
        help="Let web pages of the allowed origins call this API from a "
        "browser (Cross-Origin Resource Sharing). Off: browsers block such "
        "calls; servers are not affected.",
    )
    cors_origins = fields.Text(
        string="Allowed Origins",
        help="One origin per line (https://app.example.com), or * for any. "
        "Only these web sites may call the API from a browser.",
    )
    cors_methods = fields.Char(
        string="Allowed Methods",
        default="GET, POST, PUT, PATCH, DELETE, OPTIONS",
        help="HTTP methods announced to browsers for cross-origin calls, "
        "comma-separated.",
    )
    cors_headers = fields.Char(
        string="Allowed Headers",
        default="Authorization, Content-Type, X-Requested-With",
        help="Request headers browsers may send on cross-origin calls, "
        "comma-separated.",
    )
    cors_max_age = fields.Integer(
        string="CORS Max Age (s)",
        default=600,
        help="How long browsers may remember the CORS answer before asking "
        "again, in seconds.",
    )
    log_level = fields.Selection(
        LOG_LEVELS,
        string="Access Log",
        default="none",
        required=True,
        help="Which requests of this API get a row in the access log: none, "
        "those answered with an error (400 and above), or all. A client app "
        "may set its own level. Administrators and auditors read the log.",
    )
    log_bodies = fields.Boolean(
        help="Keep the request and response bodies and the request headers "
        "in the access log too, each cut at 16 KiB, with passwords, secrets "
        "and tokens masked.",
    )
    statistics_enabled = fields.Boolean(
        string="Usage Statistics",
        default=True,
        help="Count the calls, errors and durations of this API per hour, "
        "endpoint and client app (Statistics menu and dashboard).",
    )
    sync_deletions = fields.Boolean(
        help="Keep a tombstone of each record of this API deleted or archived "
        "(by any path) that its callers could read, and list them under "
        "'removed' in searches with changed_since. Kept "
        "secure_api.tombstone_days days (30 by default); an older "
        "changed_since answers 410 resync_required. Costs one search per "
        "caller on every delete or archive of the exposed models.",
    )
    sync_deletions_since = fields.Datetime(
        string="Deletions Synced Since",
        readonly=True,
        copy=False,
        help="Since when removals are recorded without a gap: set when Sync "
        "Deletions is switched on or the API leaves draft. An older "
        "changed_since answers 410 resync_required.",
    )
    rate_limit = fields.Integer(
        help="At most this many requests per rate window for each caller of this "
        "API (a client app, a logged-in user, or an address on a public API); "
        "more answer 429 rate_limited. 0: no limit.",
    )
    rate_window = fields.Integer(
        default=60,
        help="The length, in seconds, of the windows the rate limit counts in "
        "(aligned: a 60 s window starts at each full minute).",
    )
    test_mode = fields.Boolean(
        help="Run every request, then roll back what it wrote: clients get "
        "real answers but nothing is saved. Responses carry X-Test-Mode: 1."
    )
    client_ids = fields.Many2many(
        "secure.api.client",
        "secure_api_client_rel",
        "api_id",
        "client_id",
        string="Client Apps",
        help="The client apps whose tokens may call this API. Other apps' "
        "tokens get 403.",
    )
    endpoint_ids = fields.One2many(
        "secure.api.endpoint",
        "api_id",
        string="Endpoints",
        context={"active_test": False},
        help="One endpoint per enabled operation, generated on publishing; "
        "each can be switched off.",
    )
    statistic_ids = fields.One2many(
        "secure.api.statistic",
        "api_id",
        string="Statistics",
        help="The hourly usage counters of this API.",
    )
    webhook_ids = fields.One2many(
        "secure.api.webhook",
        "api_id",
        string="Webhooks",
        context={"active_test": False},
        help="Addresses notified of every create, update and delete of the "
        "records this API exposes.",
    )
    endpoint_count = fields.Integer(
        compute="_compute_endpoint_count",
        string="Endpoints Count",
        help="How many endpoints this API has, switched off ones included.",
    )
    can_edit_audit = fields.Boolean(
        compute="_compute_can_edit_privileged",
        help="The access log's settings are changed by administrators (Settings) only.",
    )
    can_edit_privileged = fields.Boolean(
        compute="_compute_can_edit_privileged",
        help="Forced domains, default values, run-as users and RPC methods are "
        "edited by administrators (Settings) only.",
    )
    url = fields.Char(
        compute="_compute_url",
        string="URL",
        help="The address clients call, from the web.base.url parameter.",
    )
    calls_24h = fields.Integer(
        compute="_compute_usage_24h",
        string="Calls (24 h)",
        help="Calls of this API over the last 24 hours (usage statistics).",
    )
    error_rate_24h = fields.Float(
        compute="_compute_usage_24h",
        string="Error Rate (24 h, %)",
        help="Share of the calls of the last 24 hours answered with an error.",
    )
    avg_ms_24h = fields.Float(
        compute="_compute_usage_24h",
        string="Average Time (24 h, ms)",
        help="Average time the server took to answer a call of this API over "
        "the last 24 hours.",
    )
    errors_24h = fields.Integer(
        compute="_compute_usage_24h",
        string="Errors (24 h)",
        help="Calls of the last 24 hours answered with an error (4xx or 5xx).",
    )
    sparkline_24h = fields.Char(
        compute="_compute_usage_24h",
        string="Calls per Hour (24 h)",
        help="The calls of each of the last 24 hours, oldest first, as "
        "percentages of the busiest hour (comma-separated): the dashboard "
        "draws them as bars.",
    )

    @api.depends("endpoint_ids")
    def _compute_endpoint_count(self):
        for record in self:
            record.endpoint_count = len(record.endpoint_ids)

    def _compute_can_edit_privileged(self):
        allowed = self._is_api_administrator()
        for record in self:
            record.can_edit_privileged = allowed
            record.can_edit_audit = allowed

    def _compute_usage_24h(self):
        """The usage of the last 24 hourly buckets (the current hour
        included), for all the records at once: one grouped query per page
        of the dashboard or list."""
        hour = timedelta(hours=1)
        since = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        since -= 23 * hour
        # Hourly buckets are UTC: group them in UTC whatever the user's zone.
        groups = (
            self.env["secure.api.statistic"]
            .with_context(tz="UTC")
            ._read_group(
                [("api_id", "in", self.ids), ("bucket", ">=", since)],
                ["api_id", "bucket:hour"],
                ["calls:sum", "errors:sum", "duration_total_ms:sum"],
            )
        )
        usage = {}
        for api_rec, bucket, calls, errors, total in groups:
            hours = usage.setdefault(api_rec.id, [[0, 0, 0.0] for _i in range(24)])
            index = min(max(int((bucket - since) / hour), 0), 23)
            hours[index][0] += calls
            hours[index][1] += errors
            hours[index][2] += total
        for record in self:
            hours = usage.get(record.id) or [[0, 0, 0.0]]
            calls = sum(row[0] for row in hours)
            errors = sum(row[1] for row in hours)
            total = sum(row[2] for row in hours)
            record.calls_24h = calls
            record.errors_24h = errors
            record.error_rate_24h = 100.0 * errors / calls if calls else 0.0
            record.avg_ms_24h = total / calls if calls else 0.0
            busiest = max(row[0] for row in hours)
            record.sparkline_24h = (
                ",".join(str(round(100 * row[0] / busiest)) for row in hours)
                if busiest
                else False
            )

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
                        reason=i18n_messages.translate(self.env, message),
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
                            error=i18n_messages.translate(self.env, error),
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
        default_mode = self.env.context.get("default_auth_mode")
        for vals in vals_list:
            if any(
                vals.get(name) not in (None, False, [], "", "[]")
                for name in PRIVILEGED_FIELDS
            ):
                self._check_privileged_edit()
            self._check_audit_edit(self.browse(), vals, AUDIT_DEFAULTS)
            if vals.get("auth_mode", default_mode) == "public":
                # Refused before the constraints run, with the reason.
                self._check_public_edit(names=[vals.get("name") or ""])
        records = super().create(vals_list)
        records._public_apis()._check_public_edit()
        if records.filtered("sync_deletions"):
            records._start_sync_coverage({})
            self.env["secure.api.webhook"]._update_registry()
        return records

    def write(self, vals):
        if PRIVILEGED_FIELDS & vals.keys():
            self._check_privileged_edit()
        self._check_audit_edit(self, vals, AUDIT_DEFAULTS)
        self._public_apis_changed_by(vals)._check_public_edit()
        if self._changes_shape(vals):
            # Clients of a published API rely on its route and model.
            raise UserError(
                _(
                    "Reset the API to draft before changing its route or "
                    "models: its clients will break."
                )
            )
        hooked = self.filtered("sync_deletions")
        covered = {
            record.id: record.sync_deletions and record.state != "draft"
            for record in self
        }
        result = super().write(vals)
        if {"sync_deletions", "state"} & vals.keys():
            self._start_sync_coverage(covered)
        if any(key.startswith("allow_") for key in vals):
            self.filtered(lambda api_rec: api_rec.state == "active")._sync_endpoints()
        if "sync_deletions" in vals or (
            (hooked or self.filtered("sync_deletions"))
            and (SHAPE_FIELDS | {"active"}) & vals.keys()
        ):
            # The models whose deletes and archives leave tombstones changed.
            self.env["secure.api.webhook"]._update_registry()
        return result

    def _start_sync_coverage(self, covered):
        """Record when removals start being kept without a gap: when Sync
        Deletions is switched on or the API leaves draft (``covered``: which
        of them were kept before). Tombstones are written in any state but
        draft, so that a deactivation makes no gap; a ``changed_since``
        before this moment answers 410.

        The moment is rounded up to the next second: removals of
        transactions that started before the switch committed carry no
        tombstone, and are dated at their start."""
        keeping = self.filtered(lambda r: r.sync_deletions and r.state != "draft")
        starting = keeping.filtered(lambda r: not covered.get(r.id))
        stopping = (self - keeping).filtered("sync_deletions_since")
        start = fields.Datetime.now() + timedelta(seconds=1)
        super(SecureApi, starting).write({"sync_deletions_since": start})
        return super(SecureApi, stopping).write({"sync_deletions_since": False})

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
    def _is_api_administrator(self):
        """Administrators (Settings) decide what APIs run, as whom, and what
        anonymous callers can do; Secure API Managers configure the rest."""
        return self.env.su or self.env.user.has_group("base.group_system")

    @api.model
    def _check_privileged_edit(self):
        """Forced domains, default values, run-as and execution users and RPC
        methods decide what an API runs and as whom: only administrators set
        them."""
        if not self._is_api_administrator():
            raise AccessError(
                _(
                    "Only administrators (Settings) may edit forced domains, "
                    "default values, run-as users, client apps' execution users "
                    "and RPC methods."
                )
            )

    @api.model
    def _check_audit_edit(self, records, vals, defaults):
        """What the access log records is an administrator's decision: a log
        that those it watches could switch off would prove nothing. Others
        may send the current values back (the web client saves every field),
        and create with the defaults ``defaults``."""
        for name in defaults.keys() & vals.keys():
            new = vals[name] or defaults[name]
            current = records.mapped(lambda rec, n=name: rec[n] or defaults[n])
            if (records and set(current) != {new}) or (
                not records and new != defaults[name]
            ):
                break
        else:
            return
        if not self._is_api_administrator():
            raise AccessError(
                _("Only administrators (Settings) change what the access log records.")
            )

    def _check_public_edit(self, names=None):
        """``self``: the public APIs (or APIs made public) an edit changes
        for their anonymous callers, or ``names`` of APIs being created
        public. What anonymous callers can do is an administrator's decision,
        like the run-as user they run as: their operations, exposed fields,
        endpoints, CORS, settings and status. Dependent lines call this with
        their API (see secure.api.privileged.mixin)."""
        names = names or self.sudo().mapped("display_name")
        if names and not self._is_api_administrator():
            raise AccessError(
                _(
                    "%s is a public API: only administrators (Settings) change "
                    "what its anonymous callers can do (operations, exposed "
                    "fields, endpoints, CORS, settings and status). Managers may "
                    "rename and describe it, switch operations and endpoints "
                    "off and narrow CORS.",
                    ", ".join(names),
                )
            )

    def _public_apis(self):
        """The public APIs among these (read as the system: the guard must
        not depend on what the current user may read)."""
        return self.browse(self.sudo().filtered(lambda a: a.auth_mode == "public").ids)

    def _public_apis_changed_by(self, vals):
        """The APIs among these whose anonymous callers ``vals`` change: the
        public ones (all of them when ``vals`` make them public), unless
        ``vals`` only relabel them or take something away (operations
        switched off, CORS narrowed)."""
        apis = self if vals.get("auth_mode") == "public" else self._public_apis()
        if not apis:
            return apis
        keys = set(vals) - PUBLIC_LABEL_FIELDS
        keys -= {key for key in keys if key.startswith("allow_") and not vals[key]}
        if keys & CORS_FIELDS and not apis.sudo()._widens_cors(vals):
            keys -= CORS_FIELDS
        return apis if keys else apis.browse()

    def _widens_cors(self, vals):
        """Whether ``vals`` let browsers do more with any of these APIs: CORS
        switched on, or an origin, method or header added, or a longer max
        age (even while CORS is off: switching it on later would allow
        them)."""
        for record in self:
            if vals.get("cors_enabled") and not record.cors_enabled:
                return True
            allowed = record._cors_allowance()
            wanted = record._cors_allowance(vals)
            if "*" in allowed["origins"]:
                wanted["origins"] = set()
            if wanted["max_age"] > allowed["max_age"] or any(
                not wanted[key] <= allowed[key]
                for key in ("origins", "methods", "headers")
            ):
                return True
        return False

    def _cors_allowance(self, vals=None):
        """What this API's CORS settings allow, with ``vals`` applied (sets
        of origins, methods and headers, and the max age); empty methods and
        headers mean the defaults, as in core.cors."""
        self.ensure_one()
        vals = vals or {}

        def value(name):
            return vals[name] if name in vals else self[name]

        methods = value("cors_methods") or core_cors.DEFAULT_METHODS
        headers = value("cors_headers") or core_cors.DEFAULT_HEADERS
        return {
            "origins": set(parse_origins(value("cors_origins"))),
            "methods": {m.strip().upper() for m in methods.split(",") if m.strip()},
            "headers": {h.strip().lower() for h in headers.split(",") if h.strip()},
            "max_age": value("cors_max_age") or 0,
        }

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

    def action_view_logs(self):
        self.ensure_one()
        return self.env["secure.api.log"]._action([("api_id", "=", self.id)])

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
