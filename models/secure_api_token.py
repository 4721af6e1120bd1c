import time
from datetime import datetime, timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import compat, replica
from ..core import oauth_code as core_oauth_code
from ..core import tokens as core_tokens
from ..core.exceptions import Unauthorized
from ..core.messages import _lt
from ..core.oauth_code import CLIENT_CREDENTIALS

JWT_AUDIENCE = "secure_api"
JWT_MEMO_SIZE = 4096
# (database, token) -> (verified claims, key, algorithm); see _authenticate_jwt.
_JWT_MEMO = {}


@compat.sql_constraints(
    ("token_hash_uniq", "unique (token_hash)", "Token hashes are unique."),
)
class SecureApiToken(models.Model):
    _name = "secure.api.token"
    _description = "API Access Token"
    _order = "issued_at desc, id desc"
    _rec_name = "token_prefix"

    app_id = fields.Many2one(
        "secure.api.client",
        string="Client App",
        required=True,
        ondelete="cascade",
        index=True,
        help="The client app the token was issued to; the token calls as "
        "its execution user.",
    )
    token_type = fields.Selection(
        [("opaque", "Opaque"), ("jwt", "JWT")],
        required=True,
        default="opaque",
        help="Opaque: a random string checked against the database. JWT: a "
        "signed token carrying its own claims.",
    )
    # Indexed by its unique constraint: a second index would only slow
    # every token issued.
    token_hash = fields.Char(required=True, copy=False, groups=fields.NO_ACCESS)
    token_prefix = fields.Char(
        string="Token Start",
        readonly=True,
        help="The first characters of the token, to recognise it: the token "
        "itself is stored only as a hash.",
    )
    jti = fields.Char(
        string="JWT ID",
        index=True,
        readonly=True,
        help="The jti claim of a JWT, by which it is revoked.",
    )
    scope = fields.Char(
        readonly=True,
        help="What the token may do: its app's scope when issued, or the "
        "part of it the app asked for.",
    )
    issued_at = fields.Datetime(
        required=True,
        default=fields.Datetime.now,
        readonly=True,
        help="When the token was issued.",
    )
    expires_at = fields.Datetime(
        required=True,
        readonly=True,
        index=True,
        help="After this moment the token is refused (401).",
    )
    revoked = fields.Boolean(
        readonly=True,
        index=True,
        help="Revoked tokens are refused (401) at once.",
    )
    revoked_at = fields.Datetime(readonly=True, help="When the token was revoked.")
    state = fields.Selection(
        [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")],
        string="Status",
        compute="_compute_state",
        store=True,
        index=True,
        readonly=True,
        help="Active tokens call the APIs; expired and revoked ones get 401. "
        "Kept current as time passes by a frequent scheduled job.",
    )

    def init(self):
        # Installed before the unique constraint was the only index of the
        # hash: a second index slows every token issued.
        self.env.cr.execute("DROP INDEX IF EXISTS secure_api_token__token_hash_index")

    @api.depends("revoked", "expires_at")
    def _compute_state(self):
        now = fields.Datetime.now()
        for token in self:
            if token.revoked:
                token.state = "revoked"
            elif token.expires_at and token.expires_at <= now:
                token.state = "expired"
            else:
                token.state = "active"

    def write(self, vals):
        # A token's row is its whole truth (see _authenticate_bearer): users,
        # administrators included, may only revoke it; only code running as
        # the superuser (maintenance scripts) may change it otherwise.
        if self.env.su:
            return super().write(vals)
        if set(vals) - {"revoked", "revoked_at"} or not vals.get("revoked"):
            raise UserError(_("Tokens cannot be changed, only revoked."))
        # Revoking records its moment, chosen by no one: a token already
        # revoked keeps its date.
        tokens = self.filtered(lambda token: not token.revoked)
        return super(SecureApiToken, tokens).write(
            {"revoked": True, "revoked_at": fields.Datetime.now()}
        )

    def action_revoke(self):
        compat.check_access(self, "write")
        self.sudo()._revoke()
        return True

    def _revoke(self):
        # Tokens are checked against their row on every request, so revoking
        # is this write alone: no cache of Odoo's is flushed.
        self.filtered(lambda token: not token.revoked).write(
            {"revoked": True, "revoked_at": fields.Datetime.now()}
        )

    @api.model
    def _cron_update_state(self):
        """Flip active tokens whose expiry has passed to ``expired``."""
        expired = self.sudo().search(
            [("state", "=", "active"), ("expires_at", "<=", fields.Datetime.now())]
        )
        if expired:
            self.env.add_to_compute(self._fields["state"], expired)
            expired.flush_recordset(["state"])
        return len(expired)

    @api.model
    def _cron_cleanup(self):
        """Delete tokens whose expiry, plus the leeway, has passed.

        A token works only while its row exists (see ``_authenticate_bearer``), so a
        revoked token stays revoked for its whole lifetime: its row is kept
        until the token could not be accepted anyway.
        """
        leeway = self.env["secure.api"]._get_settings()["jwt_leeway"]
        limit = fields.Datetime.now() - timedelta(seconds=leeway)
        old = self.sudo().search([("expires_at", "<", limit)])
        count = len(old)
        old.unlink()
        return count

    # ------------------------------------------------------------------
    # Issuing and checking tokens
    # ------------------------------------------------------------------

    @api.model
    def _issuer(self):
        """The authorization server's issuer identifier, the one value that
        discovery, introspection, JWT ``iss`` claims and authorization
        responses name this server by: ``web.base.url`` (see
        ``core.oauth_code.issuer_url``)."""
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return core_oauth_code.issuer_url(base)

    @api.model
    def _issue(self, state, token_type, scope):
        """Create a token of ``token_type`` for a client app.

        ``state`` is the app's state dict (``secure.api.client._state_dict``),
        which the token endpoint already holds from its cache. Only the hash
        of the token is stored. Returns the RFC 6749 5.1 body.
        """
        if (
            token_type == "jwt"
            and not state["allow_jwt"]
            or token_type == "opaque"
            and not state["allow_opaque"]
        ):
            raise UserError(_("This client app may not use %s tokens.", token_type))
        now = int(time.time())
        lifetime = state["lifetime"]
        jti = None
        if token_type == "jwt":
            token, claims = core_tokens.jwt_encode(
                key=state["jwt_key"],
                algorithm=state["jwt_algorithm"],
                issuer=self._issuer(),
                audience=JWT_AUDIENCE,
                subject=state["client_id"],
                scope=scope,
                lifetime=lifetime,
                now=now,
            )
            jti = claims["jti"]
        else:
            token = core_tokens.generate_opaque_token()
        self.create(
            {
                "app_id": state["id"],
                "token_type": token_type,
                "token_hash": core_tokens.hash_token(token),
                "token_prefix": core_tokens.token_prefix(token, jti),
                "jti": jti,
                "scope": scope,
                "issued_at": datetime.utcfromtimestamp(now),
                "expires_at": datetime.utcfromtimestamp(now + lifetime),
            }
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope,
        }

    @api.model
    def _lookup_hash(self, token_hash):
        """One indexed lookup by hash, on every request, never cached.

        Deleting a row, revoking it or any other change is seen at once by
        every worker, and unknown tokens leave nothing in shared caches.
        """
        return self._token_row("token_hash = %s", [token_hash])

    @api.model
    def _lookup_jti(self, jti, app_id):
        """The row of a JWT, by its id: a JWT without its row never works."""
        return self._token_row(
            "jti = %s AND app_id = %s AND token_type = 'jwt'", [jti, app_id]
        )

    @api.model
    def _token_row(self, where, params):
        # A revocation earlier in this transaction must be seen (a no-op
        # when nothing is pending, as on the request path).
        self.flush_model()
        # Never on a replica: a token revoked or issued on the primary would
        # work, or fail, for as long as the replica lags (see ``replica``).
        with replica.primary_env(self.env) as env:
            env.cr.execute(
                f"""SELECT id, app_id, scope, revoked, token_type,
                           EXTRACT(EPOCH FROM expires_at AT TIME ZONE 'UTC'),
                           user_id, (SELECT c.state FROM secure_api_consent c
                                      WHERE c.id = consent_id)
                      FROM secure_api_token WHERE {where}""",  # noqa: S608 - constant
                params,
            )
            row = env.cr.fetchone()
        if not row:
            return None
        return {
            "id": row[0],
            "app_id": row[1],
            "scope": row[2] or "",
            "revoked": row[3],
            "token_type": row[4],
            "expires_at": float(row[5]),
            # Delegated tokens (authorization code): the user they act as,
            # and the state of the consent they descend from.
            "user_id": row[6],
            "consent_state": row[7],
        }

    @api.model
    def _authenticate_bearer(self, token, leeway=30):
        """Check a bearer token; return ``{"app", "scope", "token_id", "uid"}``.

        ``app`` is the client's current state, ``scope`` what the token
        may do now: its own scope intersected with the client's current
        scopes, and ``uid`` the user it acts as: the app's execution user, or
        for a delegated token the user who consented (see
        ``secure_api_token_delegated``). Raises :class:`Unauthorized`
        (``invalid_token``) for an unknown, expired, revoked or deleted
        token, a disabled app, a token type or grant the app no longer
        allows, and a user that is archived or was made an administrator,
        all alike.
        """
        if token.count(".") == 2:
            app, claims = self._verify_jwt(token, leeway)
            found = self._lookup_jti(claims["jti"], app["id"])
        else:
            found = self._lookup_hash(core_tokens.hash_token(token))
            app = found and self.env["secure.api.client"]._get_client_state_by_id(
                found["app_id"]
            )
        if not found or found["revoked"] or found["token_type"] == "refresh":
            # A refresh token is never a bearer token.
            raise Unauthorized(_lt("Invalid token"), name="invalid_token")
        if found["expires_at"] + (leeway if found["token_type"] == "jwt" else 0) <= (
            time.time()
        ):
            raise Unauthorized(_lt("The token expired"), name="invalid_token")
        if found["user_id"]:
            return self._authenticate_delegated(found, app)
        if (
            not app
            or not app["active"]
            or not app[f"allow_{found['token_type']}"]
            or CLIENT_CREDENTIALS not in app["grant_types"]
        ):
            raise Unauthorized(_lt("The client app is disabled"), name="invalid_token")
        user = self.env["res.users"]._secure_api_user_state(app["uid"])
        if not user["active"] or user["privileged"]:
            raise Unauthorized(_lt("The client app is disabled"), name="invalid_token")
        granted = set(found["scope"].split()) & set(app["scope"].split())
        return {
            "app": app,
            "scope": granted,
            "token_id": found["id"],
            "uid": app["uid"],
        }

    def _verify_jwt(self, token, leeway):
        """Verify a JWT's signature and claims; return ``(app, claims)``.

        Only the costly part (parsing and HMAC) is memoized, keyed by the
        database and the token, and tied to the key that verified it; the
        row, the client's state and the expiry are checked on every request.
        """
        clients = self.env["secure.api.client"]
        memo_key = (self.env.cr.dbname, token)
        memo = _JWT_MEMO.get(memo_key)
        if memo is not None:
            claims, key, algorithm = memo
            app = clients._get_client_state(claims["sub"])
            if not app or app["jwt_key"] != key or app["jwt_algorithm"] != algorithm:
                _JWT_MEMO.pop(memo_key, None)
                memo = None
        if memo is None:
            _header, subject = core_tokens.jwt_unverified_subject(token)
            app = clients._get_client_state(subject)
            if not app:
                raise Unauthorized(_lt("Invalid token"), name="invalid_token")
            claims = core_tokens.jwt_decode(
                token,
                key=app["jwt_key"],
                algorithm=app["jwt_algorithm"],
                # Signed with the client's own key: ours, whatever our URL
                # (web.base.url) was when we issued it.
                issuer=None,
                audience=JWT_AUDIENCE,
                leeway=leeway,
            )
            if len(_JWT_MEMO) >= JWT_MEMO_SIZE:
                _JWT_MEMO.clear()
            _JWT_MEMO[memo_key] = (claims, app["jwt_key"], app["jwt_algorithm"])
        return app, claims
