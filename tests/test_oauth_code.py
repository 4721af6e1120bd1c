"""Delegated access: the OAuth 2.1 authorization code grant with PKCE.

A user signs in, sees the consent page, allows a client app, and the app
exchanges the code for tokens that act as that user (CONTRACT.md,
"Delegated access"). The flow runs in a real browser and through a real
OAuth client library (requests-oauthlib); every refusal has its test.
"""

import base64
import contextlib
import hashlib
import inspect
import logging
import os
import secrets
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

from freezegun import freeze_time
from lxml import html as lxml_html
from requests_oauthlib import OAuth2Session

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import HOST, TEST_CURSOR_COOKIE_NAME, ChromeBrowser

from ..compat import user_groups_field
from ..hooks import SecretRedactingFilter
from .common import SecureApiHttpCase, internal_user

AUTHORIZE = "/api/oauth2/authorize"
TOKEN = "/api/oauth2/token"
CALLBACK = "https://app.example.com/oauth/callback"
NATIVE_CALLBACK = "http://127.0.0.1:8400/callback"
ALICE = "secure_api_alice"


def pkce_pair():
    """A code verifier and its S256 challenge, computed here (RFC 7636 4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class OauthCodeCase(SecureApiHttpCase):
    """Users, client apps and the steps of the flow, for the tests of
    delegated access (no test of its own)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # Alice consents; her password is her login, as Odoo's browser tests
        # sign in.
        cls.alice = internal_user(env, "Alice Consent", ALICE, password=ALICE)
        # A partner only the app's execution user may see: in another company.
        cls.other_company = env["res.company"].create({"name": "Other Company API"})
        cls.api_user.company_ids = [Command.link(cls.other_company.id)]
        cls.foreign = env["res.partner"].create(
            {"name": "Foreign Partner API", "company_id": cls.other_company.id}
        )
        cls.browser_callback = cls.base_url() + "/web/static/img/favicon.ico"
        cls.web_app, cls.web_secret = cls.make_client(
            "Web App",
            cls.api_user,
            scopes="read search create",
            grant_types="client_credentials authorization_code",
            redirect_uris=f"{CALLBACK}\n{cls.browser_callback}",
        )
        cls.mobile_app = cls.make_public_client("Mobile App", NATIVE_CALLBACK)
        cls.other_app, cls.other_secret = cls.make_client(
            "Other App",
            cls.api_user,
            grant_types="authorization_code",
            redirect_uris=CALLBACK,
        )
        (cls.api_plain | cls.api_obf).client_ids = [
            Command.link(cls.web_app.id),
            Command.link(cls.mobile_app.id),
            Command.link(cls.other_app.id),
        ]

    @classmethod
    def make_public_client(cls, name, callback):
        values = {
            "name": name,
            "user_id": cls.api_user.id,
            "client_type": "public",
            "grant_types": "authorization_code",
            "redirect_uris": f"{callback}\n{cls.browser_callback}",
        }
        values.update({f"scope_{scope}": True for scope in ("read", "search")})
        return cls.env["secure.api.client"].create(values)

    def setUp(self):
        super().setUp()
        # requests-oauthlib refuses plain http unless told; the test server
        # has no TLS.
        patcher = patch.dict(os.environ, {"OAUTHLIB_INSECURE_TRANSPORT": "1"})
        patcher.start()
        self.addCleanup(patcher.stop)

    # ------------------------------------------------------------------
    # Helpers: the authorization request, the consent form, the exchange
    # ------------------------------------------------------------------

    def authorize_query(self, client, challenge, **overrides):
        params = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": CALLBACK if client != self.mobile_app else NATIVE_CALLBACK,
            "scope": "read search",
            "state": "st-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {key: value for key, value in params.items() if value is not None}

    def get_authorize(self, params, login=ALICE):
        if login:
            self.authenticate(login, login)
        return self.request("GET", f"{AUTHORIZE}?{urlencode(params)}")

    def consent_form(self, response):
        """The consent page's form fields (hidden ones and the CSRF token)."""
        self.assertEqual(response.status_code, 200, response.text)
        page = lxml_html.fromstring(response.text)
        form = page.xpath("//form[contains(@class, 'o_secure_api_oauth_form')]")[0]
        return {node.get("name"): node.get("value") for node in form.xpath(".//input")}

    def decide(self, form, decision="allow"):
        return self.request("POST", AUTHORIZE, data=dict(form, decision=decision))

    def code_for(self, client=None, login=ALICE, **overrides):
        """A code given to ``client`` by ``login``: ``(code, verifier, params)``."""
        client = client or self.web_app
        verifier, challenge = pkce_pair()
        params = self.authorize_query(client, challenge, **overrides)
        response = self.decide(self.consent_form(self.get_authorize(params, login)))
        self.assertEqual(response.status_code, 302, response.text)
        location = response.headers["Location"]
        self.assertTrue(location.startswith(params["redirect_uri"] + "?"), location)
        answer = query_of(location)
        self.assertEqual(answer["state"], params["state"])
        return answer["code"], verifier, params

    def client_auth(self, client):
        if client == self.mobile_app:
            return {"client_id": client.client_id}
        secret = {self.web_app: self.web_secret, self.other_app: self.other_secret}
        return {"client_id": client.client_id, "client_secret": secret[client]}

    def exchange(self, code, verifier, params, client=None, **overrides):
        client = client or self.web_app
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "code_verifier": verifier,
            **self.client_auth(client),
        }
        data.update(overrides)
        return self.request("POST", TOKEN, data=data)

    def tokens_for(self, client=None, login=ALICE, **overrides):
        client = client or self.web_app
        code, verifier, params = self.code_for(client, login, **overrides)
        response = self.exchange(code, verifier, params, client)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def refresh(self, refresh_token, client=None, **extra):
        client = client or self.web_app
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            **self.client_auth(client),
            **extra,
        }
        return self.request("POST", TOKEN, data=data)

    def oauth_error(self, response, status, error):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"], error, response.text)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        return response.json()

    def read_partner(self, token, partner=None, headers=None):
        partner = partner or self.partner
        return self.request(
            "GET", f"/api/test/plain/{partner.id}", token=token, headers=headers
        )

    def code_rows(self):
        self.env.invalidate_all()
        return self.env["secure.api.oauth.code"].sudo().search_count([])

    # ------------------------------------------------------------------
    # The whole flow: a real browser, a real OAuth client library
    # ------------------------------------------------------------------

    @contextlib.contextmanager
    def chromium(self):
        """Odoo's test Chromium, driven step by step across pages (web_tour
        is not installed in every tree, and a tour cannot follow the
        browser off the web client)."""
        owner = (
            self
            if "test_case" in inspect.signature(ChromeBrowser).parameters
            else type(self)
        )
        browser = ChromeBrowser(owner, headless=True)
        allow = getattr(self, "allow_requests", None)
        try:
            with allow(browser=browser) if allow else contextlib.nullcontext():
                key = self.opener.cookies.get(TEST_CURSOR_COOKIE_NAME)
                if key and not allow:
                    browser.set_cookie(TEST_CURSOR_COOKIE_NAME, key, "/", HOST)
                yield browser
                wait = getattr(self, "_wait_remaining_requests", None)
                if wait:
                    wait()
        finally:
            browser.stop()

    def evaluate(self, browser, expression):
        result = browser._websocket_request(
            "Runtime.evaluate",
            params={"expression": expression, "returnByValue": True},
        )["result"]
        return result.get("value")

    def wait_for(self, browser, condition, what):
        self.assertTrue(browser._wait_ready(condition, timeout=30), what)


@tagged("post_install", "-at_install")
class TestOauthCode(OauthCodeCase):
    def test_browser_login_consent_and_library_exchange(self):
        """Signed out, the user goes through Odoo's login page to the consent
        page, clicks Allow, and lands on the redirect URI with code and
        state; requests-oauthlib exchanges the code (PKCE S256) and calls an
        API as the user."""
        session = OAuth2Session(
            self.mobile_app.client_id,
            redirect_uri=self.browser_callback,
            scope=["read", "search"],
            pkce="S256",
        )
        url, state = session.authorization_url(self.base_url() + AUTHORIZE)
        self.authenticate(None, None)
        with self.chromium() as browser:
            browser.navigate_to(url, wait_stop=True)
            self.wait_for(
                browser,
                "location.pathname === '/web/login'"
                " && !!document.querySelector('form.oe_login_form')",
                "the visitor is sent to Odoo's login page",
            )
            self.evaluate(
                browser,
                f"""(() => {{
                    const form = document.querySelector("form.oe_login_form");
                    form.querySelector("input[name=login]").value = {ALICE!r};
                    form.querySelector("input[name=password]").value = {ALICE!r};
                    form.querySelector("button[type=submit]").click();
                }})()""",
            )
            self.wait_for(
                browser,
                f"location.pathname === '{AUTHORIZE}'"
                " && !!document.querySelector('button[value=allow]')",
                "after the login, the consent page",
            )
            page = self.evaluate(browser, "document.body.innerText")
            self.assertIn("Mobile App", page)
            self.assertIn("Alice Consent", page)
            self.assertIn("read records", page)
            self.assertIn("API test/plain", page)
            self.evaluate(
                browser, "document.querySelector('button[value=allow]').click()"
            )
            self.wait_for(
                browser,
                f"location.href.startsWith({self.browser_callback + '?'!r})",
                "Allow lands on the redirect URI",
            )
            landed = self.evaluate(browser, "location.href")
        answer = query_of(landed)
        self.assertEqual(answer["state"], state)
        self.assertTrue(answer["code"])
        self.assertEqual(
            answer["iss"],
            self.env["ir.config_parameter"].sudo().get_param("web.base.url"),
        )
        with self.raw_requests() as cookies:
            session.cookies.update({k: v for k, v in cookies.items() if v})
            token = session.fetch_token(
                self.base_url() + TOKEN,
                authorization_response=landed,
                include_client_id=True,
            )
            self.assertEqual(token["token_type"], "Bearer")
            self.assertEqual(token["scope"], ["read", "search"])
            self.assertTrue(token["refresh_token"])
            response = session.get(
                f"{self.base_url()}/api/test/plain/{self.partner.id}", timeout=30
            )
            first_refresh = token["refresh_token"]
            # As docs/contract.md's example shows a public client refreshing.
            renewed = session.refresh_token(
                self.base_url() + TOKEN, client_id=self.mobile_app.client_id
            )
        self.assertNotEqual(renewed["refresh_token"], first_refresh)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["result"]["name"], self.partner.name)
        consent = self.env["secure.api.consent"].search(
            [("user_id", "=", self.alice.id), ("app_id", "=", self.mobile_app.id)]
        )
        self.assertEqual(consent.state, "active")

    def test_library_confidential_client_code_refresh_and_calls(self):
        """requests-oauthlib with PKCE S256, a confidential client (HTTP
        Basic): code, calls as the user, refresh rotation."""
        session = OAuth2Session(
            self.web_app.client_id,
            redirect_uri=CALLBACK,
            scope=["read", "search", "create"],
            pkce="S256",
        )
        url, state = session.authorization_url(self.base_url() + AUTHORIZE)
        self.authenticate(ALICE, ALICE)
        form = self.consent_form(self.request("GET", url[len(self.base_url()) :]))
        location = self.decide(form).headers["Location"]
        self.assertEqual(query_of(location)["state"], state)
        with self.raw_requests() as cookies:
            session.cookies.update({k: v for k, v in cookies.items() if v})
            token = session.fetch_token(
                self.base_url() + TOKEN,
                authorization_response=location,
                client_secret=self.web_secret,
            )
            self.assertEqual(token["scope"], ["create", "read", "search"])
            created = session.post(
                f"{self.base_url()}/api/test/plain",
                json={"name": "Made by Alice's app"},
                timeout=30,
            )
            first_refresh = token["refresh_token"]
            renewed = session.refresh_token(
                self.base_url() + TOKEN,
                auth=(self.web_app.client_id, self.web_secret),
            )
            again = session.get(
                f"{self.base_url()}/api/test/plain/{self.partner.id}", timeout=30
            )
        self.assertEqual(created.status_code, 201, created.text)
        record = self.env["res.partner"].browse(created.json()["result"]["id"])
        self.assertEqual(record.create_uid, self.alice)
        self.assertNotEqual(renewed["access_token"], token["access_token"])
        self.assertNotEqual(renewed["refresh_token"], first_refresh)
        self.assertEqual(again.status_code, 200, again.text)

    # ------------------------------------------------------------------
    # The token acts as the user who consented
    # ------------------------------------------------------------------

    def test_token_acts_as_the_user_within_her_record_rules(self):
        delegated = self.tokens_for(scope="read search create")["access_token"]
        app_token = self.token(self.web_app, self.web_secret)
        # The execution user sees the other company's partner (in that
        # company: without X-Company-Id a request runs in the user's default
        # company); Alice, who is not in it, does not.
        other = {"X-Company-Id": str(self.other_company.id)}
        self.result(self.read_partner(app_token, self.foreign, headers=other))
        self.assertError(self.read_partner(delegated, self.foreign), 404)
        created = self.result(
            self.request(
                "POST", "/api/test/plain", token=delegated, json_body={"name": "By A"}
            ),
            201,
        )
        record = self.env["res.partner"].browse(created["id"])
        self.assertEqual(record.create_uid, self.alice)
        self.assertNotEqual(record.create_uid, self.api_user)

    def test_scope_is_what_was_asked_within_the_clients(self):
        body = self.tokens_for(scope="read delete")
        self.assertEqual(body["scope"], "read")
        self.assertError(
            self.request(
                "DELETE",
                f"/api/test/plain/{self.partner.id}",
                token=body["access_token"],
            ),
            403,
            "insufficient_scope",
        )

    def test_token_answer_shape_and_storage(self):
        body = self.tokens_for()
        self.assertEqual(
            set(body),
            {"access_token", "token_type", "expires_in", "scope", "refresh_token"},
        )
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], self.web_app.token_lifetime)
        tokens = (
            self.env["secure.api.token"]
            .sudo()
            .search([("user_id", "=", self.alice.id)])
        )
        self.assertEqual(sorted(tokens.mapped("token_type")), ["opaque", "refresh"])
        stored = set(tokens.mapped("token_hash"))
        self.assertNotIn(body["access_token"], stored)
        self.assertNotIn(body["refresh_token"], stored)
        codes = self.env["secure.api.oauth.code"].sudo().search([])
        self.assertTrue(all(len(code.code_hash) == 64 for code in codes))

    def test_delegated_token_only_on_the_clients_apis(self):
        token = self.tokens_for()["access_token"]
        other = self.make_api("test/notallowed", obfuscate=False)
        self.assertError(
            self.request("GET", "/api/test/notallowed", token=token),
            403,
            "client_not_allowed",
        )
        self.assertTrue(other)

    def test_refresh_token_is_no_bearer_token(self):
        body = self.tokens_for()
        self.assertError(self.read_partner(body["refresh_token"]), 401)

    # ------------------------------------------------------------------
    # The authorization endpoint refuses
    # ------------------------------------------------------------------

    def test_visitor_goes_to_login_and_back(self):
        verifier, challenge = pkce_pair()
        params = self.authorize_query(self.web_app, challenge)
        self.authenticate(None, None)
        response = self.request("GET", f"{AUTHORIZE}?{urlencode(params)}")
        self.assertEqual(response.status_code, 302, response.text)
        location = urlsplit(response.headers["Location"])
        self.assertEqual(location.path, "/web/login")
        back = query_of(response.headers["Location"])["redirect"]
        self.assertEqual(urlsplit(back).path, AUTHORIZE)
        self.assertEqual(query_of(back), params)
        self.assertTrue(verifier)

    def test_consent_page_names_app_scopes_and_apis_and_is_not_frameable(self):
        _verifier, challenge = pkce_pair()
        response = self.get_authorize(self.authorize_query(self.web_app, challenge))
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["X-Frame-Options"], "DENY")
        self.assertIn(
            "frame-ancestors 'none'", response.headers["Content-Security-Policy"]
        )
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        page = lxml_html.fromstring(response.text)
        self.assertEqual(
            page.xpath("string(//*[contains(@class, 'o_secure_api_oauth_app')])"),
            "Web App",
        )
        scopes = page.xpath(
            "//ul[contains(@class, 'o_secure_api_oauth_scopes')]/li/@data-scope"
        )
        self.assertEqual(scopes, ["search", "read"])
        apis = page.xpath("string(//ul[contains(@class, 'o_secure_api_oauth_apis')])")
        self.assertIn("/api/test/plain", apis)
        self.assertIn("/api/test/obf", apis)
        self.assertTrue(page.xpath("//button[@value='allow']"))

    def test_deny_goes_back_with_access_denied_and_state(self):
        verifier, challenge = pkce_pair()
        params = self.authorize_query(self.web_app, challenge)
        before = self.code_rows()
        response = self.decide(self.consent_form(self.get_authorize(params)), "deny")
        self.assertEqual(response.status_code, 302, response.text)
        answer = query_of(response.headers["Location"])
        self.assertEqual(answer["error"], "access_denied")
        self.assertEqual(answer["state"], params["state"])
        self.assertNotIn("code", answer)
        self.assertEqual(self.code_rows(), before)
        self.assertTrue(verifier)

    def test_unknown_client_is_an_error_page_never_a_redirect(self):
        _verifier, challenge = pkce_pair()
        for client_id in ("unknown-client", "", None):
            params = self.authorize_query(self.web_app, challenge, client_id=client_id)
            response = self.get_authorize(params)
            with self.subTest(client_id=client_id):
                self.assertEqual(response.status_code, 400, response.text)
                self.assertNotIn("Location", response.headers)
                self.assertIn("text/html", response.headers["Content-Type"])
                self.assertIn("Unknown client app", response.text)
        self.web_app.active = False
        response = self.get_authorize(self.authorize_query(self.web_app, challenge))
        self.assertEqual(response.status_code, 400, response.text)
        self.assertNotIn("Location", response.headers)

    def test_unregistered_redirect_uri_is_an_error_page_never_a_redirect(self):
        _verifier, challenge = pkce_pair()
        for uri in (
            "https://evil.example.com/oauth/callback",
            CALLBACK + "/",
            CALLBACK + "?x=1",
            "https://APP.example.com/oauth/callback",
            "",
        ):
            params = self.authorize_query(self.web_app, challenge, redirect_uri=uri)
            response = self.get_authorize(params)
            with self.subTest(uri=uri):
                self.assertEqual(response.status_code, 400, response.text)
                self.assertNotIn("Location", response.headers)

    def test_missing_or_plain_pkce_goes_back_as_invalid_request(self):
        _verifier, challenge = pkce_pair()
        cases = [
            {"code_challenge": None, "code_challenge_method": None},
            {"code_challenge_method": None},
            {"code_challenge_method": "plain"},
            {"code_challenge": "short", "code_challenge_method": "S256"},
        ]
        for overrides in cases:
            params = self.authorize_query(self.web_app, challenge, **overrides)
            response = self.get_authorize(params)
            with self.subTest(**{k: str(v) for k, v in overrides.items()}):
                self.assertEqual(response.status_code, 302, response.text)
                location = response.headers["Location"]
                self.assertTrue(location.startswith(CALLBACK + "?"))
                answer = query_of(location)
                self.assertEqual(answer["error"], "invalid_request")
                self.assertEqual(answer["state"], params["state"])
                self.assertNotIn("code", answer)

    def test_an_administrator_cannot_consent_and_the_page_says_why(self):
        _verifier, challenge = pkce_pair()
        params = self.authorize_query(self.web_app, challenge)
        response = self.get_authorize(params, login="admin")
        self.assertEqual(response.status_code, 200, response.text)
        page = lxml_html.fromstring(response.text)
        self.assertTrue(
            page.xpath("//*[contains(@class, 'o_secure_api_oauth_privileged')]")
        )
        self.assertIn("settings administrator", response.text)
        self.assertFalse(page.xpath("//button[@value='allow']"))
        before = self.code_rows()
        forced = self.decide(self.consent_form(response), "allow")
        self.assertEqual(forced.status_code, 403, forced.text)
        self.assertNotIn("Location", forced.headers)
        self.assertEqual(self.code_rows(), before)

    def test_consent_post_without_or_with_a_wrong_csrf_token_is_refused(self):
        _verifier, challenge = pkce_pair()
        form = self.consent_form(
            self.get_authorize(self.authorize_query(self.web_app, challenge))
        )
        before = self.code_rows()
        for token in (None, "", "0" * 40 + "o9999999999", form["csrf_token"][:-1]):
            data = dict(form, csrf_token=token)
            if token is None:
                del data["csrf_token"]
            response = self.decide(data, "allow")
            with self.subTest(token=token):
                self.assertEqual(response.status_code, 400, response.text)
                self.assertNotIn("Location", response.headers)
        self.assertEqual(self.code_rows(), before)
        # Another user's session token is refused too.
        self.authenticate("secure_api_runner", "secure_api_runner_pw")
        self.assertEqual(self.decide(form, "allow").status_code, 400)
        self.assertEqual(self.code_rows(), before)

    # ------------------------------------------------------------------
    # The token endpoint refuses
    # ------------------------------------------------------------------

    def test_code_reuse_is_refused_and_revokes_what_it_gave(self):
        code, verifier, params = self.code_for()
        first = self.exchange(code, verifier, params)
        self.assertEqual(first.status_code, 200, first.text)
        body = first.json()
        self.result(self.read_partner(body["access_token"]))
        self.oauth_error(self.exchange(code, verifier, params), 400, "invalid_grant")
        self.assertError(self.read_partner(body["access_token"]), 401)
        self.oauth_error(self.refresh(body["refresh_token"]), 400, "invalid_grant")

    def test_code_expires_after_60_seconds(self):
        code, verifier, params = self.code_for()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "code_verifier": verifier,
            **self.client_auth(self.web_app),
        }
        with freeze_time(fields.Datetime.now() + timedelta(seconds=61)):
            answer = self.call("POST", TOKEN, data=data)
        self.assertEqual(answer.status, 400, answer.body)
        self.assertEqual(answer.body["error"], "invalid_grant")
        self.assertIn("expired", answer.body["error_description"])
        code, verifier, params = self.code_for()
        data.update(code=code, code_verifier=verifier)
        with freeze_time(fields.Datetime.now() + timedelta(seconds=50)):
            answer = self.call("POST", TOKEN, data=data)
        self.assertEqual(answer.status, 200, answer.body)

    def test_wrong_or_missing_verifier_is_refused(self):
        code, verifier, params = self.code_for()
        other, _challenge = pkce_pair()
        self.oauth_error(
            self.exchange(code, verifier, params, code_verifier=other),
            400,
            "invalid_grant",
        )
        # The failed attempt used the code up.
        self.oauth_error(self.exchange(code, verifier, params), 400, "invalid_grant")
        code, verifier, params = self.code_for()
        self.oauth_error(
            self.exchange(code, verifier, params, code_verifier=None),
            400,
            "invalid_request",
        )

    def test_code_of_client_a_is_refused_to_client_b(self):
        code, verifier, params = self.code_for(self.web_app)
        self.oauth_error(
            self.exchange(code, verifier, params, client=self.other_app),
            400,
            "invalid_grant",
        )
        # The code was not used up by the other client.
        self.assertEqual(self.exchange(code, verifier, params).status_code, 200)

    def test_code_with_another_redirect_uri_is_refused(self):
        code, verifier, params = self.code_for(self.web_app)
        self.oauth_error(
            self.exchange(code, verifier, params, redirect_uri=self.browser_callback),
            400,
            "invalid_grant",
        )

    def test_public_client_sends_no_secret_and_confidential_must(self):
        body = self.tokens_for(self.mobile_app)
        self.result(self.read_partner(body["access_token"]))
        code, verifier, params = self.code_for(self.web_app)
        self.oauth_error(
            self.exchange(code, verifier, params, client_secret=None),
            401,
            "invalid_client",
        )

    def test_client_credentials_need_their_grant_type(self):
        response = self.request(
            "POST",
            TOKEN,
            data={
                "client_id": self.other_app.client_id,
                "client_secret": self.other_secret,
                "grant_type": "client_credentials",
            },
        )
        self.oauth_error(response, 400, "unauthorized_client")
        # An existing client-credentials token stops with the grant.
        token = self.token(self.web_app, self.web_secret)
        self.web_app.grant_types = "authorization_code"
        self.assertError(self.read_partner(token), 401)

    # ------------------------------------------------------------------
    # Refresh tokens
    # ------------------------------------------------------------------

    def test_refresh_rotates_and_the_old_refresh_token_stops(self):
        body = self.tokens_for()
        renewed = self.refresh(body["refresh_token"])
        self.assertEqual(renewed.status_code, 200, renewed.text)
        new = renewed.json()
        self.assertNotEqual(new["refresh_token"], body["refresh_token"])
        self.assertNotEqual(new["access_token"], body["access_token"])
        self.result(self.read_partner(new["access_token"]))
        narrower = self.refresh(new["refresh_token"], scope="read")
        self.assertEqual(narrower.json()["scope"], "read")
        self.oauth_error(
            self.refresh(narrower.json()["refresh_token"], scope="read delete"),
            400,
            "invalid_scope",
        )

    def test_refresh_reuse_revokes_the_whole_family(self):
        body = self.tokens_for()
        new = self.refresh(body["refresh_token"]).json()
        self.oauth_error(self.refresh(body["refresh_token"]), 400, "invalid_grant")
        self.assertError(self.read_partner(new["access_token"]), 401)
        self.assertError(self.read_partner(body["access_token"]), 401)
        self.oauth_error(self.refresh(new["refresh_token"]), 400, "invalid_grant")
        consent = self.env["secure.api.consent"].search(
            [("user_id", "=", self.alice.id)]
        )
        self.assertEqual(consent.state, "revoked")
        self.assertTrue(all(consent.sudo().token_ids.mapped("revoked")))

    def test_refresh_token_of_another_client_is_refused(self):
        body = self.tokens_for(self.web_app)
        self.oauth_error(
            self.refresh(body["refresh_token"], client=self.other_app),
            400,
            "invalid_grant",
        )

    # ------------------------------------------------------------------
    # Current state, on every request
    # ------------------------------------------------------------------

    def test_archived_user_tokens_stop_at_once(self):
        body = self.tokens_for()
        self.result(self.read_partner(body["access_token"]))
        self.alice.active = False
        self.assertError(self.read_partner(body["access_token"]), 401)
        self.oauth_error(self.refresh(body["refresh_token"]), 400, "invalid_grant")

    def test_user_made_administrator_cannot_delegate_any_more(self):
        body = self.tokens_for()
        self.alice.write(
            {
                user_groups_field(self.env): [
                    Command.link(self.env.ref("base.group_system").id)
                ]
            }
        )
        self.assertError(self.read_partner(body["access_token"]), 401)

    def test_app_revoked_from_preferences_stops_its_tokens(self):
        body = self.tokens_for()
        alice_env = self.env(user=self.alice)
        me = alice_env["res.users"].browse(self.alice.id)
        connected = me.read(["secure_api_consent_ids"])[0]["secure_api_consent_ids"]
        self.assertEqual(len(connected), 1)
        consent = alice_env["secure.api.consent"].browse(connected)
        self.assertEqual(consent.app_id, self.web_app)
        consent.action_revoke()
        self.assertError(self.read_partner(body["access_token"]), 401)
        self.oauth_error(self.refresh(body["refresh_token"]), 400, "invalid_grant")
        me.invalidate_recordset()
        self.assertFalse(
            me.read(["secure_api_consent_ids"])[0]["secure_api_consent_ids"]
        )

    def test_preferences_form_lists_connected_apps(self):
        self.tokens_for()
        arch = self.env(user=self.alice)["res.users"].get_views(
            [(self.env.ref("base.view_users_form_simple_modif").id, "form")]
        )["views"]["form"]["arch"]
        self.assertIn("secure_api_consent_ids", arch)
        self.assertIn("action_revoke", arch)

    def test_a_user_cannot_revoke_someone_elses_consent(self):
        self.tokens_for()
        consent = self.env["secure.api.consent"].search(
            [("user_id", "=", self.alice.id)]
        )
        runner = self.env(user=self.api_user)["secure.api.consent"]
        self.assertFalse(runner.search([]))
        with self.assertRaises(AccessError):
            runner.browse(consent.id).action_revoke()
        self.assertEqual(consent.state, "active")

    def test_client_state_is_checked_on_every_request(self):
        body = self.tokens_for(scope="read search create")
        token = body["access_token"]
        self.result(self.read_partner(token))
        self.web_app.scope_read = False
        self.assertError(self.read_partner(token), 403, "insufficient_scope")
        self.web_app.scope_read = True
        self.web_app.grant_types = "client_credentials"
        self.assertError(self.read_partner(token), 401)
        self.web_app.grant_types = "client_credentials authorization_code"
        self.result(self.read_partner(token))
        self.web_app.active = False
        self.assertError(self.read_partner(token), 401)

    # ------------------------------------------------------------------
    # Revocation (RFC 7009) and introspection (RFC 7662)
    # ------------------------------------------------------------------

    def test_introspection_and_revocation_of_delegated_tokens(self):
        body = self.tokens_for()
        auth = self.client_auth(self.web_app)
        info = self.request(
            "POST",
            "/api/oauth2/introspect",
            data=dict(auth, token=body["access_token"]),
        ).json()
        self.assertTrue(info["active"])
        self.assertEqual(info["username"], ALICE)
        self.assertEqual(info["sub"], str(self.alice.id))
        info = self.request(
            "POST",
            "/api/oauth2/introspect",
            data=dict(auth, token=body["refresh_token"]),
        ).json()
        self.assertTrue(info["active"])
        self.assertEqual(info["token_type"], "refresh_token")
        # Revoking the access token leaves the refresh token.
        self.request(
            "POST", "/api/oauth2/revoke", data=dict(auth, token=body["access_token"])
        )
        self.assertError(self.read_partner(body["access_token"]), 401)
        renewed = self.refresh(body["refresh_token"]).json()
        # Revoking a refresh token revokes its family.
        response = self.request(
            "POST",
            "/api/oauth2/revoke",
            data=dict(auth, token=renewed["refresh_token"]),
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertError(self.read_partner(renewed["access_token"]), 401)

    def test_public_client_revokes_with_its_client_id(self):
        body = self.tokens_for(self.mobile_app)
        response = self.request(
            "POST",
            "/api/oauth2/revoke",
            data={
                "client_id": self.mobile_app.client_id,
                "token": body["refresh_token"],
            },
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertError(self.read_partner(body["access_token"]), 401)
        # Introspection needs a confidential client's credentials.
        response = self.request(
            "POST",
            "/api/oauth2/introspect",
            data={
                "client_id": self.mobile_app.client_id,
                "token": body["access_token"],
            },
        )
        self.oauth_error(response, 401, "invalid_client")

    def test_public_client_browser_code_reads_token_answers_from_its_origin(self):
        code, verifier, params = self.code_for(self.mobile_app)
        origin = {"Origin": "http://127.0.0.1:8400"}
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "code_verifier": verifier,
            "client_id": self.mobile_app.client_id,
        }
        response = self.request("POST", TOKEN, data=data, headers=origin)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(
            response.headers["Access-Control-Allow-Origin"], "http://127.0.0.1:8400"
        )
        self.assertIn("Origin", response.headers["Vary"])
        # Refusals are readable too, from that origin only.
        refresh = {
            "grant_type": "refresh_token",
            "refresh_token": "unknown",
            "client_id": self.mobile_app.client_id,
        }
        response = self.request("POST", TOKEN, data=refresh, headers=origin)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(
            response.headers["Access-Control-Allow-Origin"], "http://127.0.0.1:8400"
        )
        response = self.request(
            "POST", TOKEN, data=refresh, headers={"Origin": "https://evil.example.com"}
        )
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)
        # A confidential client's secret never belongs in a browser.
        confidential = dict(refresh, **self.client_auth(self.web_app))
        response = self.request(
            "POST",
            TOKEN,
            data=confidential,
            headers={"Origin": "https://app.example.com"},
        )
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)

    # ------------------------------------------------------------------
    # Configuration and documents
    # ------------------------------------------------------------------

    def test_client_configuration_is_validated(self):
        client = self.web_app
        for values in (
            {"grant_types": "password"},
            {"grant_types": ""},
            {"redirect_uris": "http://app.example.com/callback"},
            {"redirect_uris": CALLBACK + "#frag"},
            {"redirect_uris": "not a uri"},
            {"redirect_uris": "https://*.example.com/cb"},
            {"redirect_uris": ""},
            {
                "client_type": "public",
                "grant_types": "client_credentials authorization_code",
            },
        ):
            with self.subTest(**values), self.assertRaises(ValidationError):
                with self.env.cr.savepoint():
                    client.write(values)
        client.redirect_uris = "http://localhost:9000/cb\nhttp://[::1]:9000/cb"
        self.assertEqual(
            client.sudo()._state_dict()["redirect_uris"],
            ("http://localhost:9000/cb", "http://[::1]:9000/cb"),
        )
        public = self.mobile_app
        self.assertFalse(public.has_secret)
        with self.assertRaises(UserError):
            public.action_generate_secret()

    def test_discovery_documents(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        response = self.request("GET", "/.well-known/oauth-authorization-server")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], "*")
        server = response.json()
        self.assertEqual(server["issuer"], base)
        self.assertEqual(server["authorization_endpoint"], base + AUTHORIZE)
        self.assertEqual(server["token_endpoint"], base + TOKEN)
        self.assertEqual(server["revocation_endpoint"], base + "/api/oauth2/revoke")
        self.assertEqual(
            server["introspection_endpoint"], base + "/api/oauth2/introspect"
        )
        self.assertEqual(server["code_challenge_methods_supported"], ["S256"])
        self.assertEqual(server["response_types_supported"], ["code"])
        self.assertIn("authorization_code", server["grant_types_supported"])
        self.assertIn("refresh_token", server["grant_types_supported"])
        self.assertIn("none", server["token_endpoint_auth_methods_supported"])
        self.assertIn("rpc", server["scopes_supported"])
        resource = self.request("GET", "/.well-known/oauth-protected-resource").json()
        self.assertEqual(resource["resource"], base)
        self.assertEqual(resource["authorization_servers"], [base])
        response = self.request("POST", "/.well-known/oauth-protected-resource")
        self.assertError(response, 405)

    def test_codes_in_a_url_are_masked_in_the_access_log(self):
        line = "GET /cb?code=c0de&state=s1&code_verifier=v3r HTTP/1.1"
        record = logging.LogRecord(
            "werkzeug", logging.INFO, __file__, 1, '"%s" %s', (line, 302), None
        )
        SecretRedactingFilter().filter(record)
        message = record.getMessage()
        self.assertIn("code=***", message)
        self.assertIn("code_verifier=***", message)
        self.assertIn("state=s1", message)
        self.assertNotIn("c0de", message)

    def test_openapi_describes_the_authorization_code_flow(self):
        document = self.env["secure.api"].get_openapi_document()
        flows = document["components"]["securitySchemes"]["oauth2"]["flows"]
        self.assertIn("clientCredentials", flows)
        code = flows["authorizationCode"]
        self.assertTrue(code["authorizationUrl"].endswith(AUTHORIZE))
        self.assertTrue(code["tokenUrl"].endswith(TOKEN))
        self.assertTrue(code["refreshUrl"].endswith(TOKEN))
        self.assertIn("read", code["scopes"])

    # What an attack run on the flow found, pinned.

    def test_opaque_tokens_switched_off_stop_delegated_tokens_at_once(self):
        tokens = self.tokens_for()
        self.web_app.write({"allow_opaque": False, "allow_jwt": True})
        self.assertError(self.read_partner(tokens["access_token"]), 401)
        code, verifier, params = self.code_for()
        self.oauth_error(
            self.exchange(code, verifier, params), 400, "unauthorized_client"
        )
        self.oauth_error(
            self.refresh(tokens["refresh_token"]), 400, "unauthorized_client"
        )

    def test_a_request_without_a_verifier_uses_the_code_up(self):
        code, verifier, params = self.code_for()
        self.oauth_error(
            self.exchange(code, verifier, params, code_verifier=""),
            400,
            "invalid_request",
        )
        self.oauth_error(self.exchange(code, verifier, params), 400, "invalid_grant")
