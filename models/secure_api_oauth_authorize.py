"""The authorization endpoint (RFC 6749 4.1, OAuth 2.1): a user consents to
a client app, which then gets a code.

``GET /api/oauth2/authorize`` checks the request, sends a visitor to Odoo's
login page and back, and shows the consent page; the page posts the user's
decision back to the same URL with the session's CSRF token. Until the
client app and its redirect URI are known good, refusals are an error page
(400) and never a redirect; after, they go back to the redirect URI as
``error=...`` (RFC 6749 4.1.2.1).
"""

from urllib.parse import urlencode

from odoo import api, models

from .. import i18n_messages
from ..core import oauth_code as core_oauth_code
from ..core.exceptions import MethodNotAllowed
from ..core.messages import _lt, html_lang, negotiate_language
from ..core.oauth_code import AuthorizeError
from ..core.request import Answer

PATH = "/api/oauth2/authorize"
# Every answer: never stored, and never shown in a frame of another site
# (clickjacking the Allow button).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


class SecureApiOauthAuthorize(models.AbstractModel):
    _name = "secure.api.oauth.authorize"
    _description = "Secure API authorization endpoint"

    @api.model
    def _serve(self, req):
        """Answer one request of the authorization endpoint."""
        if req.method not in ("GET", "POST"):
            raise MethodNotAllowed(("GET", "POST"))
        params, repeated = core_oauth_code.single_params(self._pairs(req))
        client_id = params.get("client_id")
        client = self._client_state(client_id)
        try:
            redirect_uri = core_oauth_code.check_client_and_redirect(
                params, repeated, client, client_id
            )
        except AuthorizeError as error:
            return self._error_page(req, error)
        state = core_oauth_code.echoed_state(params.get("state"))
        try:
            asked = core_oauth_code.check_authorization_request(
                params, repeated, client
            )
        except AuthorizeError as error:
            return self._redirect_error(redirect_uri, error, state)
        if not req.session_uid:
            return self._to_login(params)
        if req.method == "GET":
            return self._consent_page(req, client, redirect_uri, asked, params)
        return self._decide(req, client, redirect_uri, asked, params)

    def _pairs(self, req):
        """The request's parameters: the query of a GET, the form a POST
        sends (the consent page's)."""
        if req.method == "GET":
            return req.query
        kind, body = req.payload
        return body if kind == "form" else []

    def _client_state(self, client_id):
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 128:
            return None
        return self.env["secure.api.client"]._get_client_state(client_id)

    # ------------------------------------------------------------------
    # Answers
    # ------------------------------------------------------------------

    def _to_login(self, params):
        """Odoo's login page, which comes back here once the user is in."""
        back = [
            (key, params[key])
            for key in core_oauth_code.AUTHORIZE_PARAMS
            if params.get(key) is not None
        ]
        target = f"{PATH}?{urlencode(back)}"
        location = "/web/login?" + urlencode({"redirect": target})
        return Answer(302, dict(PAGE_HEADERS, Location=location))

    def _redirect(self, redirect_uri, values):
        location = core_oauth_code.redirect_url(redirect_uri, values)
        return Answer(302, dict(PAGE_HEADERS, Location=location))

    def _redirect_error(self, redirect_uri, error, state):
        # RFC 6749 4.1.2.1; RFC 9207: iss tells the app which server answered.
        return self._redirect(
            redirect_uri,
            {
                "error": error.code,
                "error_description": str(error.message),
                "state": state,
                "iss": self.env["secure.api.token"]._issuer(),
            },
        )

    def _error_page(self, req, error):
        lang = self._reader_lang(req)
        values = {
            "page_lang": html_lang(lang),
            "message": i18n_messages.translate(self.env, error.message, lang),
            "error": error.code,
        }
        html = self._render("secure_api.oauth_error_page", values, lang)
        return Answer(error.status, dict(PAGE_HEADERS), html=html)

    def _reader_lang(self, req):
        """The session user's language, else the browser's (installed ones)."""
        if req.session_uid:
            user = self.env["res.users"].sudo().browse(req.session_uid)
            return user.lang or "en_US"
        installed = [code for code, _name in self.env["res.lang"].get_installed()]
        return negotiate_language(req.headers.get("accept-language"), installed) or (
            "en_US"
        )

    def _render(self, template, values, lang):
        page = self.env["ir.qweb"].with_context(lang=lang)._render(template, values)
        # QWeb escapes a doctype written in a template: it comes first, as is.
        return "<!DOCTYPE html>\n" + str(page)

    def _consent_page(self, req, client, redirect_uri, asked, params, status=200):
        """The page that names the app, what it asks and through which
        APIs, with *Allow* and *Deny*; for a superuser or a settings
        administrator it says why they cannot allow it."""
        user = self.env["res.users"].sudo().browse(req.session_uid)
        state = self.env["res.users"]._secure_api_user_state(req.session_uid)
        app = self.env["secure.api.client"].sudo().browse(client["id"])
        # Delegated tokens act as the user on the app's user-mode APIs only.
        apis = app.api_ids.filtered(
            lambda api_: api_.state == "active" and api_.auth_mode == "user"
        )
        values = {
            "page_lang": html_lang(user.lang),
            "app_name": app.name,
            "user_name": user.name,
            "scopes": asked["scope"].split(),
            "apis": [(api_.name, api_.route) for api_ in apis.sorted("name")],
            "redirect_host": core_oauth_code.redirect_destination(redirect_uri),
            "privileged": state["privileged"],
            "hidden": [
                (key, params[key])
                for key in core_oauth_code.AUTHORIZE_PARAMS
                if params.get(key) is not None
            ],
            "csrf_token": req.csrf.token() if req.csrf is not None else "",
            "action": PATH,
        }
        html = self._render("secure_api.oauth_consent_page", values, user.lang)
        return Answer(status, dict(PAGE_HEADERS), html=html)

    def _decide(self, req, client, redirect_uri, asked, params):
        """The consent form's answer: a code, ``access_denied``, or a page."""
        if req.csrf is None or not req.csrf.check(params.get("csrf_token")):
            return self._error_page(
                req,
                AuthorizeError(
                    _lt(
                        "This form expired or was not sent from this site: start "
                        "again from the app."
                    ),
                    code="invalid_request",
                    redirect=False,
                ),
            )
        state = core_oauth_code.echoed_state(params.get("state"))
        decision = params.get("decision")
        if decision == "deny":
            denied = AuthorizeError(_lt("The user denied access"), code="access_denied")
            return self._redirect_error(redirect_uri, denied, state)
        if decision != "allow":
            return self._error_page(
                req,
                AuthorizeError(
                    _lt("Choose Allow or Deny"), code="invalid_request", redirect=False
                ),
            )
        user = self.env["res.users"]._secure_api_user_state(req.session_uid)
        if not user["active"] or user["privileged"]:
            # The page says why; no code is given.
            return self._consent_page(
                req, client, redirect_uri, asked, params, status=403
            )
        code = (
            self.env["secure.api.oauth.code"]
            .sudo()
            ._create_code(
                client,
                req.session_uid,
                redirect_uri,
                asked["scope"],
                asked["code_challenge"],
            )
        )
        return self._redirect(
            redirect_uri,
            {
                "code": code,
                "state": state,
                "iss": self.env["secure.api.token"]._issuer(),
            },
        )
