"""Pipeline step: who calls, with what rights, as which user."""

from urllib.parse import urlsplit

from odoo import models

from .. import replica
from ..core import cors as core_cors
from ..core import tokens as core_tokens
from ..core.exceptions import (
    CompanyNotAllowed,
    Forbidden,
    InsufficientScope,
    NotFound,
    Unauthorized,
)
from ..core.messages import _lt, negotiate_language
from ..core.params import COMPANY_HEADER, parse_company_ids


class SecureApiEngineAuth(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _authenticate(self, call):
        """Return ``{"uid", "scope" (set or None), "app", "session"}``."""
        spec, req = call.spec, call.request
        if spec["auth_mode"] == "public":
            uid = spec["run_as_uid"]
            user = uid and self.env["res.users"]._secure_api_user_state(uid)
            if not user or not user["active"] or user["privileged"]:
                # Not served until an administrator fixes the run-as user.
                raise NotFound(_lt("Unknown route"), name="unknown_route")
            return {
                "uid": spec["run_as_uid"],
                "scope": None,
                "app": None,
                "session": False,
            }
        if any(key == "access_token" for key, _value in req.query):
            raise Unauthorized(
                _lt("Send the token in the Authorization header, never in the URL"),
                name="invalid_request",
            )
        token = core_tokens.parse_bearer(req.headers.get("authorization"))
        if token:
            leeway = self.env["secure.api"]._get_settings()["jwt_leeway"]
            found = (
                self.env["secure.api.token"].sudo()._authenticate_bearer(token, leeway)
            )
            app = found["app"]
            if app["id"] not in spec["client_ids"]:
                raise Forbidden(
                    _lt("This client app may not call this API"),
                    name="client_not_allowed",
                )
            return {
                # The execution user, or the user who consented (delegated).
                "uid": found["uid"],
                "scope": found["scope"],
                "app": app,
                "session": False,
            }
        if req.session_uid:
            return {
                "uid": req.session_uid,
                "scope": None,
                "app": None,
                "session": True,
            }
        raise Unauthorized(_lt("Authentication required"), name="unauthorized")

    def _check_scope(self, principal, scope):
        """403 ``insufficient_scope`` (RFC 6750 3.1) unless the token allows it."""
        if principal["scope"] is not None and scope not in principal["scope"]:
            raise InsufficientScope(scope)

    def _check_csrf(self, call):
        """Session cookies on unsafe methods: a JSON body and a trusted Origin.

        A cross-site form or ``text/plain`` body is a "simple" request that
        browsers send without a CORS preflight; ``application/json`` is not.
        A browser always sends ``Origin`` on a cross-site write; clients
        without a browser send no ``Origin`` and are not exposed to CSRF.
        """
        req = call.request
        if req.method != "DELETE" and req.media_type != "application/json":
            raise Forbidden(
                _lt("Session requests must send Content-Type: application/json"),
                name="csrf",
            )
        origin = req.headers.get("origin")
        if origin:
            parts = urlsplit(origin)
            same = parts.scheme in ("http", "https") and parts.netloc == req.host
            if not same and not core_cors.origin_allowed(origin, call.spec["cors"]):
                raise Forbidden(_lt("Cross-origin request refused"), name="csrf")
        elif req.headers.get("sec-fetch-site") == "cross-site":
            raise Forbidden(_lt("Cross-origin request refused"), name="csrf")

    def _user_env(self, call):
        """The execution user's environment, never superuser.

        Its context is the user's time zone, ``api_id`` and ``app_id``, the
        language of ``Accept-Language`` among the installed ones (else the
        user's), and the companies of ``X-Company-Id`` (else the user's
        default company); nothing else a client sends.
        """
        uid = call.principal["uid"]
        app = call.app
        user_context = self.env["res.users"].sudo().with_user(uid).context_get()
        lang = self._values_language(call) or user_context.get("lang")
        context = {
            "lang": lang,
            "tz": user_context.get("tz"),
            "api_id": call.spec["id"],
            "app_id": app["id"] if app else False,
        }
        companies = self._request_companies(call, uid)
        if companies:
            context["allowed_company_ids"] = companies
        if lang:
            call.result_headers["Content-Language"] = lang.replace("_", "-")
        env = self.env(user=uid, su=False, context=context)
        if replica.is_replica(env.cr):
            self._warm_access(call, env)
        return env

    def _warm_access(self, call, env):
        """Compute on the primary what Odoo checks the execution user's
        reads against: its groups, and its access rights and record rules on
        the models the request reads (the API's, and those its exposed
        relations show).

        Odoo caches them per worker, filled by whichever cursor misses them:
        on a replica, a lagging one. Filled here first, from the primary,
        the request's reads on the replica find them: a group, access right
        or record rule changed on the primary applies at once, and no stale
        copy outlives the lag.
        """
        names = {call.model}
        for fspec in call.model_spec["fields"]:
            names.add(fspec["relation"])
            names.update(sub["relation"] for sub in fspec["related"])
            names.update(line["relation"] for line in fspec.get("lines") or ())
        with replica.primary_env(env) as primary:
            primary.user.has_group("base.group_user")
            access, rules = primary["ir.model.access"], primary["ir.rule"]
            for name in sorted(filter(None, names)):
                if name in primary:
                    access.check(name, "read", False)
                    rules._compute_domain(name, "read")

    def _values_language(self, call):
        """The installed language ``Accept-Language`` prefers, or ``None``."""
        header = call.request.headers.get("accept-language")
        if not header:
            return None
        installed = [code for code, _name in self.env["res.lang"].get_installed()]
        return negotiate_language(header, installed)

    def _request_companies(self, call, uid):
        """The companies the request runs in, the current one first:
        ``X-Company-Id`` (ids as the API shows ``res.company`` ids), each one
        of the execution user's, else 403; without it the user's default
        company (``None``, Odoo's default, in the odd case that it is not
        one of the user's active companies)."""
        default, allowed = self.env["res.users"]._secure_api_companies(uid)
        header = call.request.headers.get(COMPANY_HEADER.lower())
        if header is None:
            return [default] if default in allowed else None
        ids = parse_company_ids(header, call.codec_for("res.company"))
        if any(company_id not in allowed for company_id in ids):
            raise CompanyNotAllowed(data={"parameter": COMPANY_HEADER})
        return ids
