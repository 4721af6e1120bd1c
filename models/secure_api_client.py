import time

from odoo import SUPERUSER_ID, Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import compat, i18n_messages, replica
from ..core import oauth_code as core_oauth_code
from ..core import tokens as core_tokens
from ..core import traffic as core_traffic
from ..core.traffic import DAILY, MONTHLY
from .res_users import PRIVILEGED_GROUPS
from .secure_api_log import LEVEL_SELECTION as LOG_LEVELS

# A client app's access log level: empty, each API's own.
AUDIT_DEFAULTS = {"log_level": False}


@compat.sql_constraints(
    ("client_id_uniq", "unique (client_id)", "This client ID is already used."),
    (
        "token_lifetime_range",
        "CHECK (token_lifetime > 0 AND token_lifetime <= 2592000)",
        "The token lifetime must be between 1 second and 30 days.",
    ),
    (
        "refresh_token_lifetime_range",
        "CHECK (refresh_token_lifetime > 0 AND refresh_token_lifetime <= 31536000)",
        "The refresh token lifetime must be between 1 second and 365 days.",
    ),
    (
        "traffic_range",
        "CHECK (rate_limit >= 0 AND rate_window > 0 AND rate_window <= 2678400"
        " AND quota_daily >= 0 AND quota_monthly >= 0)",
        "Limits and quotas cannot be negative, and the rate window lasts from "
        "1 second to 31 days.",
    ),
)
class SecureApiClient(models.Model):
    _name = "secure.api.client"
    _inherit = ["secure.api.cache.mixin"]
    _description = "API Client App"
    _order = "name"

    name = fields.Char(
        required=True,
        help="Who calls the APIs with this app's credentials, e.g. Mobile "
        "app or Web shop; for people only.",
    )
    active = fields.Boolean(
        default=True, help="A disabled app gets no tokens and its tokens stop working."
    )
    client_id = fields.Char(
        string="Client ID",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        default=lambda self: core_tokens.generate_client_id(),
        help="The public identifier the app sends with its secret to get a "
        "token (client_id of OAuth 2.0). Generated; not a secret.",
    )
    client_secret_hash = fields.Char(copy=False, groups=fields.NO_ACCESS)
    jwt_key = fields.Char(
        string="JWT Signing Key",
        copy=False,
        groups=fields.NO_ACCESS,
        default=lambda self: core_tokens.generate_jwt_key(),
    )
    has_secret = fields.Boolean(
        compute="_compute_has_secret",
        help="Whether a secret was generated: without one the app gets no token.",
    )
    secret_date = fields.Datetime(
        string="Secret Generated On",
        readonly=True,
        copy=False,
        help="When the current secret was generated; the previous one "
        "stopped working then.",
    )
    jwt_key_date = fields.Datetime(
        string="JWT Key Rotated On",
        readonly=True,
        copy=False,
        default=fields.Datetime.now,
        help="When the key that signs this app's JWTs last changed; JWTs "
        "issued before stopped working then.",
    )
    scope_search = fields.Boolean(
        string="Search",
        default=True,
        help="The app's tokens may list records of the APIs it may call.",
    )
    scope_read = fields.Boolean(
        string="Read",
        default=True,
        help="The app's tokens may read one record by its id.",
    )
    scope_create = fields.Boolean(
        string="Create", help="The app's tokens may create records."
    )
    scope_update = fields.Boolean(
        string="Update", help="The app's tokens may change records."
    )
    scope_delete = fields.Boolean(
        string="Delete", help="The app's tokens may delete records."
    )
    scope_rpc = fields.Boolean(
        string="RPC",
        help="The app's tokens may call the RPC methods the APIs allow.",
    )
    scope = fields.Char(
        compute="_compute_scope",
        store=True,
        help="The OAuth 2.0 scope granted to the app's tokens, from the "
        "boxes above. An API answers 403 to a call outside it, even when "
        "the API enables the operation.",
    )
    token_lifetime = fields.Integer(
        string="Token Lifetime (s)",
        default=1800,
        required=True,
        help="How long a token of this app is valid, in seconds; then the "
        "app asks for a new one with its secret.",
    )
    allow_opaque = fields.Boolean(
        string="Opaque Tokens",
        default=True,
        help="The app may get random (opaque) tokens from /api/oauth2/token, "
        "checked against the database on every call.",
    )
    allow_jwt = fields.Boolean(
        string="JWT",
        default=True,
        help="The app may get signed JSON Web Tokens from /api/jwt/token, "
        "which carry their own expiry and scope.",
    )
    jwt_algorithm = fields.Selection(
        [("HS256", "HS256"), ("HS384", "HS384"), ("HS512", "HS512")],
        string="JWT Algorithm",
        default="HS256",
        required=True,
        help="The HMAC algorithm that signs this app's JWTs with its key "
        "(kept on the server). Changing it invalidates the JWTs issued "
        "before.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Execution User",
        required=True,
        ondelete="restrict",
        domain=lambda self: self._execution_user_domain(),
        help="Requests made with this app's tokens run as this user, "
        "within its access rights. Never a superuser or an administrator.",
    )
    test_mode = fields.Boolean(
        help="Every request of this app is rolled back; responses carry X-Test-Mode: 1."
    )
    # Delegated access (OAuth 2.1 authorization code): see
    # secure_api_oauth_authorize.py and secure_api_oauth_grant.py.
    grant_types = fields.Char(
        default=core_oauth_code.CLIENT_CREDENTIALS,
        required=True,
        help="How the app gets tokens, space-separated: client_credentials (with "
        "its secret, acting as the execution user) and/or authorization_code "
        "(a user signs in and consents; the tokens act as that user, and come "
        "with refresh tokens).",
    )
    client_type = fields.Selection(
        [("confidential", "Confidential"), ("public", "Public")],
        default="confidential",
        required=True,
        help="Confidential: a server that keeps a secret and sends it to the token "
        "endpoint. Public: a browser or mobile app that cannot keep one; it has no "
        "secret, uses only the authorization code grant, and proves itself with "
        "PKCE.",
    )
    redirect_uris = fields.Text(
        string="Redirect URIs",
        help="Where users are sent back after they allow or deny access, one URI "
        "per line, compared exactly (the scheme and host are saved in lower "
        "case). https; for native apps, plain http to localhost, 127.0.0.1 or "
        "[::1] (127.0.0.1 and [::1] with any port) or a private-use scheme in "
        "reverse domain order (com.example.app:/callback). No fragment (#), user "
        "information or backslash, and no code, state, iss or error in the "
        "query. Required for the authorization code grant.",
    )
    refresh_token_lifetime = fields.Integer(
        string="Refresh Token Lifetime (s)",
        default=2592000,
        required=True,
        help="How long a refresh token is valid, in seconds (default 30 days). "
        "Each use returns a new one and ends the old one.",
    )
    consent_ids = fields.One2many(
        "secure.api.consent",
        "app_id",
        string="Consents",
        help="The users who allowed this app to act as them (authorization code).",
    )
    api_ids = fields.Many2many(
        "secure.api",
        "secure_api_client_rel",
        "client_id",
        "api_id",
        string="Allowed APIs",
        help="The APIs this app's tokens may call; any other answers 403.",
    )
    token_ids = fields.One2many(
        "secure.api.token",
        "app_id",
        string="Tokens",
        help="The tokens issued to this app.",
    )
    active_token_count = fields.Integer(
        compute="_compute_active_token_count",
        string="Active Tokens",
        help="Tokens of this app neither expired nor revoked.",
    )
    description = fields.Text(
        help="Notes for administrators: who runs the app, whom to contact."
    )
    rate_limit = fields.Integer(
        help="At most this many requests per rate window, over all the APIs "
        "the app calls; more answer 429 rate_limited. 0: no limit.",
    )
    rate_window = fields.Integer(
        default=60,
        help="The length, in seconds, of the windows the rate limit counts in "
        "(aligned: a 60 s window starts at each full minute).",
    )
    quota_daily = fields.Integer(
        string="Daily Quota",
        help="At most this many requests per UTC day; more answer 429 "
        "quota_exceeded until midnight UTC. 0: none.",
    )
    quota_monthly = fields.Integer(
        string="Monthly Quota",
        help="At most this many requests per calendar month (UTC); more answer "
        "429 quota_exceeded until the next month. 0: none.",
    )
    ip_allowlist = fields.Text(
        string="Allowed Addresses",
        help="One IPv4 or IPv6 address or network (CIDR, e.g. 203.0.113.0/24) per "
        "line. From any other address the app's tokens answer 403 and the token "
        "endpoint refuses its secret. Empty: any address. Behind a proxy, Odoo "
        "must run with proxy_mode to see the client's address.",
    )
    log_level = fields.Selection(
        LOG_LEVELS,
        string="Access Log",
        help="Which of this app's requests get a row in the access log, on "
        "every API it calls: none, errors (400 and above) or all. Empty: each "
        "API's own level.",
    )
    can_edit_audit = fields.Boolean(
        compute="_compute_can_edit_audit",
        help="The access log's level is changed by administrators (Settings) only.",
    )
    calls_today = fields.Integer(
        compute="_compute_usage",
        help="Requests counted today (UTC) against the daily quota.",
    )
    calls_this_month = fields.Integer(
        compute="_compute_usage",
        help="Requests counted this month (UTC) against the monthly quota.",
    )

    def _compute_can_edit_audit(self):
        allowed = self.env["secure.api"]._is_api_administrator()
        for record in self:
            record.can_edit_audit = allowed

    @api.depends("secret_date")
    def _compute_has_secret(self):
        rows = dict(self.sudo().mapped(lambda c: (c.id, bool(c.client_secret_hash))))
        for client in self:
            client.has_secret = rows.get(client.id, False)

    @api.depends(
        "scope_search",
        "scope_read",
        "scope_create",
        "scope_update",
        "scope_delete",
        "scope_rpc",
    )
    def _compute_scope(self):
        for client in self:
            client.scope = " ".join(
                s for s in core_tokens.SCOPES if client[f"scope_{s}"]
            )

    def _compute_active_token_count(self):
        groups = self.env["secure.api.token"]._read_group(
            [("app_id", "in", self.ids), ("state", "=", "active")],
            ["app_id"],
            ["__count"],
        )
        counts = {app.id: count for app, count in groups}
        for client in self:
            client.active_token_count = counts.get(client.id, 0)

    def _compute_usage(self):
        # Only a quota keeps these counts: an app without one shows 0.
        now = int(time.time())
        counters = {
            client.id: core_traffic.quota_counters(client.id, now) for client in self
        }
        pairs = [pair for found in counters.values() for pair in found.values()]
        counts = self.env["secure.api.rate.counter"].sudo()._counted(pairs)
        for client in self:
            found = counters[client.id]
            client.calls_today = counts.get(found[DAILY][0], 0)
            client.calls_this_month = counts.get(found[MONTHLY][0], 0)

    @api.constrains("ip_allowlist")
    def _check_ip_allowlist(self):
        for client in self:
            try:
                core_traffic.parse_allowlist(client.ip_allowlist)
            except ValueError as error:
                raise ValidationError(str(error)) from None

    @api.constrains("user_id")
    def _check_user_id(self):
        for client in self:
            self._check_execution_user(client.user_id)

    @api.constrains("grant_types", "client_type", "redirect_uris")
    def _check_grant_types(self):
        for client in self:
            try:
                grants = core_oauth_code.parse_grant_types(client.grant_types)
                core_oauth_code.parse_redirect_uris(client.redirect_uris)
            except ValueError as error:
                raise ValidationError(
                    i18n_messages.translate(self.env, error.args[0])
                ) from None
            if (
                client.client_type == "public"
                and core_oauth_code.CLIENT_CREDENTIALS in grants
            ):
                raise ValidationError(
                    _(
                        "A public client app has no secret: it may only use the "
                        "authorization code grant."
                    )
                )
            if (
                core_oauth_code.AUTHORIZATION_CODE in grants
                and not (client.redirect_uris or "").strip()
            ):
                raise ValidationError(
                    _("The authorization code grant needs at least one redirect URI.")
                )

    @api.onchange("client_type")
    def _onchange_client_type(self):
        if self.client_type == "public":
            self.grant_types = core_oauth_code.AUTHORIZATION_CODE

    @api.constrains("allow_opaque", "allow_jwt")
    def _check_token_types(self):
        for client in self:
            if not (client.allow_opaque or client.allow_jwt):
                raise ValidationError(_("Allow at least one token type."))

    @api.model
    def _execution_user_domain(self):
        """Internal users who may run requests: no superuser, no settings or
        access-rights administrator (the pickers offer only these)."""
        groups_field = compat.user_groups_field(self.env)
        admins = self.env["res.groups"].browse(
            [self.env.ref(group).id for group in PRIVILEGED_GROUPS]
        )
        return [
            ("share", "=", False),
            ("id", "!=", SUPERUSER_ID),
            (groups_field, "not in", admins.ids),
        ]

    @api.model
    def _check_execution_user(self, user):
        """Refuse users whose rights would lift the API's limits."""
        if not user:
            return
        user = user.sudo()
        if user.id == SUPERUSER_ID or user._is_superuser():
            raise ValidationError(_("An API never runs as the superuser."))
        if any(user.has_group(group) for group in PRIVILEGED_GROUPS):
            raise ValidationError(
                _(
                    "%s is a settings or access-rights administrator: "
                    "choose a user with narrower rights.",
                    user.name,
                )
            )

    @api.model
    def _normalize_redirect_uris(self, vals):
        """``vals`` with its redirect URIs as they are compared: one per
        line, scheme and host in lower case. Invalid ones are left for the
        constraint to name."""
        if not vals.get("redirect_uris"):
            return vals
        try:
            uris = core_oauth_code.parse_redirect_uris(vals["redirect_uris"])
        except ValueError:
            return vals
        return dict(vals, redirect_uris="\n".join(uris))

    @api.model_create_multi
    def create(self, vals_list):
        apis = self.env["secure.api"]
        if any(vals.get("user_id") for vals in vals_list):
            apis._check_privileged_edit()
        for vals in vals_list:
            apis._check_audit_edit(self.browse(), vals, AUDIT_DEFAULTS)
        vals_list = [self._normalize_redirect_uris(vals) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        if "user_id" in vals:
            self.env["secure.api"]._check_privileged_edit()
        self.env["secure.api"]._check_audit_edit(self, vals, AUDIT_DEFAULTS)
        vals = self._normalize_redirect_uris(vals)
        if vals.get("client_type") == "public":
            # A public client cannot keep a secret: it has none.
            vals = dict(vals, client_secret_hash=False, secret_date=False)
        before = {}
        if "api_ids" in vals:
            before = {client.id: set(client.sudo().api_ids.ids) for client in self}
        result = super().write(vals)
        if "api_ids" in vals:
            # The client apps of a public API are an administrator's decision,
            # from the client's side as from the API's.
            changed = set()
            for client in self:
                changed |= before[client.id] ^ set(client.sudo().api_ids.ids)
            apis = self.env["secure.api"].browse(changed)
            apis._public_apis()._check_public_edit()
        return result

    def action_generate_secret(self):
        """Generate a new secret, store only its hash, and return it once.

        From the form (context ``secure_api_show_secret``) the return value is
        the dialog action that shows it; from a script it is the secret text.
        """
        self.ensure_one()
        compat.check_access(self, "write")
        if self.client_type == "public":
            raise UserError(_("A public client app has no secret."))
        secret = core_tokens.generate_secret()
        self.sudo().write(
            {
                "client_secret_hash": core_tokens.hash_secret(secret),
                "secret_date": fields.Datetime.now(),
            }
        )
        if self.env.context.get("secure_api_show_secret"):
            return {
                "type": "ir.actions.act_window",
                "name": _("Client Secret"),
                "res_model": "secure.api.client.secret.show",
                "view_mode": "form",
                "target": "new",
                "context": {
                    "default_client_id": self.client_id,
                    "default_client_secret": secret,
                },
            }
        return secret

    def action_revoke_tokens(self):
        """Revoke every token of these apps: opaque ones and JWTs alike."""
        compat.check_access(self, "write")
        self._revoke_active_tokens()
        # Rotating the key also kills JWTs that no record tracks any more.
        self.action_rotate_jwt_key()
        return True

    def action_rotate_jwt_key(self):
        compat.check_access(self, "write")
        for client in self:
            client.sudo().write(
                {
                    "jwt_key": core_tokens.generate_jwt_key(),
                    "jwt_key_date": fields.Datetime.now(),
                }
            )
        return True

    def action_view_tokens(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "secure_api.secure_api_token_action"
        )
        action["domain"] = [("app_id", "=", self.id)]
        action["context"] = {"search_default_filter_active": 1}
        return action

    def action_view_logs(self):
        self.ensure_one()
        return self.env["secure.api.log"]._action([("app_id", "=", self.id)])

    @api.model
    def _set_demo_user_groups(self, user_ids):
        """Demo data only: an internal user who may manage contacts."""
        groups = self.env.ref("base.group_user") | self.env.ref(
            "base.group_partner_manager"
        )
        self.env["res.users"].browse(user_ids).write(
            {compat.user_groups_field(self.env): [Command.set(groups.ids)]}
        )

    @api.model
    def _set_demo_secret(self, ids, secret):
        """Demo data only: set the documented demo secret (stored hashed)."""
        self.browse(ids).sudo().write(
            {"client_secret_hash": core_tokens.hash_secret(secret)}
        )

    def _revoke_active_tokens(self):
        tokens = (
            self.env["secure.api.token"]
            .sudo()
            .search([("app_id", "in", self.ids), ("revoked", "=", False)])
        )
        tokens._revoke()

    # ------------------------------------------------------------------
    # Hot path
    # ------------------------------------------------------------------

    @api.model
    def _get_client_state(self, client_id):
        """Plain, cached state of an app by its OAuth ``client_id``.

        Holds what token issuance and token checks need, the JWT key among
        it, so a JWT is verified with no query once the cache is warm. An
        unknown ``client_id`` adds nothing to the cache.
        """
        app_id = self._get_client_ids().get(client_id)
        return self._get_client_state_by_id(app_id) if app_id else None

    @api.model
    @replica.ormcache()
    def _get_client_ids(self):
        """``{client_id: id}`` of every app, archived ones included; read on
        the primary (see ``replica``), like the state below."""
        self.env.cr.execute("SELECT client_id, id FROM secure_api_client")
        return dict(self.env.cr.fetchall())

    @api.model
    @replica.ormcache("app_id")
    def _get_client_state_by_id(self, app_id):
        client = self.sudo().with_context(active_test=False).browse(app_id).exists()
        return client._state_dict() if client else None

    def _registered_redirect_uris(self):
        """The redirect URIs users may be sent back to. One saved before a
        rule that now refuses it disables them all until it is fixed,
        rather than every request of the app failing."""
        try:
            return core_oauth_code.parse_redirect_uris(self.redirect_uris)
        except ValueError:
            return ()

    def _state_dict(self):
        self.ensure_one()
        return {
            "id": self.id,
            "client_id": self.client_id,
            "name": self.name,
            "active": self.active,
            "uid": self.user_id.id,
            "scope": self.scope or "",
            "lifetime": self.token_lifetime,
            "allow_opaque": self.allow_opaque,
            "allow_jwt": self.allow_jwt,
            "jwt_algorithm": self.jwt_algorithm,
            "jwt_key": self.jwt_key,
            "secret_hash": self.client_secret_hash,
            "test_mode": self.test_mode,
            "log_level": self.log_level or None,
            "grant_types": core_oauth_code.parse_grant_types(self.grant_types),
            "client_type": self.client_type,
            "redirect_uris": self._registered_redirect_uris(),
            "refresh_lifetime": self.refresh_token_lifetime,
            "traffic": core_traffic.ClientPolicy(
                rate_limit=self.rate_limit,
                rate_window=self.rate_window,
                quota_daily=self.quota_daily,
                quota_monthly=self.quota_monthly,
                allowlist=core_traffic.parse_allowlist(self.ip_allowlist),
            ),
        }
