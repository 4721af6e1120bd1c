"""Delegated access, hardened after review (issue #27): one issuer for every
document and answer, introspection without nulls, what a redirect URI may be
and how it is compared, and the pages' language tags.

Over real HTTP, with the users, apps and flow steps of ``test_oauth_code``.
"""

from urllib.parse import urlsplit

import jwt
from lxml import html as lxml_html

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests.common import HOST

from ..compat import user_groups_field
from .test_oauth_code import (
    ALICE,
    AUTHORIZE,
    CALLBACK,
    NATIVE_CALLBACK,
    OauthCodeCase,
    pkce_pair,
    query_of,
)

INTROSPECT = "/api/oauth2/introspect"
SWAGGER_REDIRECT = "/secure_api/static/lib/swagger-ui/oauth2-redirect.html"
DISCOVERY = "/.well-known/oauth-authorization-server"


@tagged("post_install", "-at_install")
class TestOauthIssuer(OauthCodeCase):
    """RFC 8414's issuer is the one value that names this server: in
    discovery, introspection, JWT claims and authorization responses."""

    def issuer(self):
        response = self.request("GET", DISCOVERY)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()["issuer"]

    def introspect(self, token, client=None):
        client = client or self.web_app
        response = self.request(
            "POST", INTROSPECT, data=dict(self.client_auth(client), token=token)
        )
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def client_auth(self, client):
        if client == self.client:
            return {"client_id": client.client_id, "client_secret": self.secret}
        return super().client_auth(client)

    def test_introspection_names_the_discovery_documents_issuer(self):
        issuer = self.issuer()
        self.assertEqual(
            issuer, self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        )
        body = self.tokens_for()
        self.assertEqual(self.introspect(body["access_token"])["iss"], issuer)
        self.assertEqual(self.introspect(body["refresh_token"])["iss"], issuer)
        opaque = self.token()
        self.assertEqual(self.introspect(opaque, self.client)["iss"], issuer)

    def test_jwt_iss_claim_is_the_issuer(self):
        token = self.token(kind="jwt")
        claims = jwt.decode(token, options={"verify_signature": False})
        self.assertEqual(claims["iss"], self.issuer())
        self.assertEqual(self.introspect(token, self.client)["iss"], self.issuer())

    def test_authorization_responses_name_the_issuer(self):
        """RFC 9207: allowed or denied, the response says who answered, as
        discovery announces."""
        issuer = self.issuer()
        server = self.request("GET", DISCOVERY).json()
        self.assertIs(server["authorization_response_iss_parameter_supported"], True)
        for decision in ("allow", "deny"):
            _verifier, challenge = pkce_pair()
            params = self.authorize_query(self.web_app, challenge)
            response = self.decide(
                self.consent_form(self.get_authorize(params)), decision
            )
            self.assertEqual(response.status_code, 302, response.text)
            self.assertEqual(query_of(response.headers["Location"])["iss"], issuer)

    def test_issuer_has_no_trailing_slash_when_the_base_url_has_one(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", base + "/")
        server = self.request("GET", DISCOVERY).json()
        self.assertEqual(server["issuer"], base)
        self.assertEqual(server["authorization_endpoint"], base + AUTHORIZE)
        self.assertEqual(self.introspect(self.token(), self.client)["iss"], base)
        document = self.env["secure.api"].get_openapi_document()
        flow = document["components"]["securitySchemes"]["oauth2"]["flows"]
        self.assertEqual(
            flow["authorizationCode"]["authorizationUrl"], base + AUTHORIZE
        )

    def test_jwts_issued_with_the_former_issuer_work_for_their_lifetime(self):
        """JWTs issued before the issuer was the server's URL carry
        ``secure_api:<db>``: they keep working."""
        token = self.token(kind="jwt")
        claims = jwt.decode(token, options={"verify_signature": False})
        key = self.client.sudo().jwt_key
        path = f"/api/{self.api_plain.route}/{self.partner.id}"
        former = jwt.encode(
            dict(claims, iss=f"secure_api:{self.env.cr.dbname}"), key, algorithm="HS256"
        )
        self.assertEqual(self.request("GET", path, token=former).status_code, 200)

    def test_jwts_outlive_a_change_of_web_base_url(self):
        """Odoo rewrites ``web.base.url`` when an administrator signs in
        through another address (another server on the same database, say):
        the tokens already issued keep working, their signature by the
        client's own key is what proves them ours."""
        token = self.token(kind="jwt")
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("web.base.url", "http://other-server.example.com:8070")
        path = f"/api/{self.api_plain.route}/{self.partner.id}"
        self.assertEqual(self.request("GET", path, token=token).status_code, 200)
        key = self.client.sudo().jwt_key
        forged = jwt.encode(
            jwt.decode(token, options={"verify_signature": False}),
            key + "x",
            algorithm="HS256",
        )
        self.assertError(self.request("GET", path, token=forged), 401, "invalid_token")

    def test_introspection_omits_absent_members_instead_of_null(self):
        """RFC 7662 2.2: an opaque token has no ``jti``; the answer leaves
        it out rather than saying ``null``."""
        for token, client in (
            (self.token(), self.client),
            (self.tokens_for()["access_token"], self.web_app),
            (self.tokens_for()["refresh_token"], self.web_app),
        ):
            info = self.introspect(token, client)
            self.assertTrue(info["active"])
            self.assertNotIn("jti", info)
            self.assertNotIn(None, info.values(), info)
        info = self.introspect(self.token(kind="jwt"), self.client)
        self.assertTrue(info["jti"])


@tagged("post_install", "-at_install")
class TestOauthRedirectUris(OauthCodeCase):
    """What a client app may register as redirect URIs, and how requests
    are compared with them."""

    def authorize_with(self, client, redirect_uri):
        _verifier, challenge = pkce_pair()
        params = self.authorize_query(client, challenge, redirect_uri=redirect_uri)
        return self.get_authorize(params)

    def test_registration_refusals_say_why(self):
        for uri, reason in (
            ("https://app.example.com\\@evil.example.com/cb", "backslash"),
            ("https://user@app.example.com/cb", "user information"),
            (CALLBACK + "#top", "fragment"),
            (CALLBACK + "?code=1", "'code'"),
            (CALLBACK + "?tenant=1&state=x", "'state'"),
            (CALLBACK + "?iss=x", "'iss'"),
            (CALLBACK + "?error=x", "'error'"),
            ("javascript:alert(1)", "private-use scheme"),
            ("myapp:/callback", "private-use scheme"),
            ("http://app.example.com/cb", "plain http only to localhost"),
            ("HTTP://app.example.com/cb", "plain http only to localhost"),
        ):
            with (
                self.subTest(uri=uri),
                self.assertRaisesRegex(ValidationError, reason),
                self.env.cr.savepoint(),
            ):
                self.web_app.redirect_uris = uri

    def test_scheme_and_host_are_saved_in_lower_case(self):
        self.web_app.redirect_uris = "HTTPS://App.Example.COM/OAuth/Callback"
        self.assertEqual(
            self.web_app.redirect_uris, "https://app.example.com/OAuth/Callback"
        )
        response = self.authorize_with(
            self.web_app, "https://app.example.com/OAuth/Callback"
        )
        self.assertEqual(response.status_code, 200, response.text)

    def test_native_app_gets_its_code_at_its_private_use_scheme(self):
        native = "com.example.mobile:/oauth2redirect"
        self.mobile_app.redirect_uris = native
        code, verifier, params = self.code_for(self.mobile_app, redirect_uri=native)
        response = self.exchange(code, verifier, params, self.mobile_app)
        self.assertEqual(response.status_code, 200, response.text)

    def test_loopback_redirect_takes_any_port_at_authorization_and_token(self):
        """RFC 8252 7.3: registered with a port or without, a loopback IP
        literal takes the port the app listens on; the token request names
        the same URI as the authorization request."""
        self.mobile_app.redirect_uris = f"{NATIVE_CALLBACK}\nhttp://[::1]/native"
        for uri in (
            "http://127.0.0.1:53682/callback",
            "http://127.0.0.1/callback",
            "http://[::1]:61000/native",
        ):
            with self.subTest(uri=uri):
                code, verifier, params = self.code_for(
                    self.mobile_app, redirect_uri=uri
                )
                response = self.exchange(code, verifier, params, self.mobile_app)
                self.assertEqual(response.status_code, 200, response.text)

    def test_token_request_names_the_loopback_port_the_code_went_to(self):
        code, verifier, params = self.code_for(
            self.mobile_app, redirect_uri="http://127.0.0.1:53682/callback"
        )
        response = self.exchange(
            code, verifier, params, self.mobile_app, redirect_uri=NATIVE_CALLBACK
        )
        self.oauth_error(response, 400, "invalid_grant")

    def test_other_redirect_uri_variants_are_an_error_page(self):
        for client, uri in (
            (self.mobile_app, "http://127.0.0.1:53682/callback/"),
            (self.mobile_app, "http://127.0.0.1:53682/Callback"),
            (self.mobile_app, "http://localhost:8400/callback"),
            (self.mobile_app, "http://127.0.0.1:65536/callback"),
            (self.mobile_app, "http://127.0.0.1:1@evil.example.com/callback"),
            (self.web_app, "https://app.example.com:443/oauth/callback"),
            (self.web_app, "HTTPS://app.example.com/oauth/callback"),
            (self.web_app, "https://app.example.com/oauth/%63allback"),
            (self.web_app, "https://app.example.com/oauth/callback?"),
            (self.web_app, "https://app.example.com/oauth/callback#x"),
        ):
            with self.subTest(uri=uri):
                response = self.authorize_with(client, uri)
                self.assertEqual(response.status_code, 400, response.text)
                self.assertNotIn("Location", response.headers)


@tagged("post_install", "-at_install")
class TestOauthPagesLanguage(OauthCodeCase):
    """The pages' ``lang`` attribute is a BCP 47 tag, not Odoo's code."""

    def html_lang(self, response):
        return lxml_html.fromstring(response.text).get("lang")

    def test_consent_and_error_pages_are_tagged_in_bcp_47(self):
        _verifier, challenge = pkce_pair()
        params = self.authorize_query(self.web_app, challenge)
        self.assertEqual(self.html_lang(self.get_authorize(params)), "en-US")
        unknown = dict(params, client_id="unknown")
        response = self.get_authorize(unknown)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.html_lang(response), "en-US")

    def test_a_script_variant_is_a_script_subtag(self):
        self.env["res.lang"]._activate_lang("sr@latin")
        self.alice.lang = "sr@latin"
        _verifier, challenge = pkce_pair()
        params = self.authorize_query(self.web_app, challenge)
        self.assertEqual(self.html_lang(self.get_authorize(params)), "sr-Latn")

    def test_docs_page_is_tagged_in_bcp_47(self):
        self.authenticate("admin", "admin")
        response = self.request("GET", "/api/docs")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.html_lang(response), "en-US")


@tagged("post_install", "-at_install")
class TestOauthErrorPages(OauthCodeCase):
    """What the contract says of refusals before the redirect URI is known
    good: an error page, status 400, never a redirect; after: back to it."""

    def test_refusals_before_and_after_the_redirect_uri_is_trusted(self):
        _verifier, challenge = pkce_pair()
        params = self.authorize_query(self.web_app, challenge)
        bad_uri = dict(params, redirect_uri="https://evil.example.com/cb")
        response = self.get_authorize(bad_uri)
        self.assertEqual(response.status_code, 400)
        page = lxml_html.fromstring(response.text)
        self.assertEqual(
            page.xpath("string(//*[@data-error]/@data-error)"), "invalid_request"
        )
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        plain = dict(params, code_challenge_method="plain")
        response = self.get_authorize(plain)
        self.assertEqual(response.status_code, 302)
        location = response.headers["Location"]
        self.assertEqual(urlsplit(location)._replace(query="").geturl(), CALLBACK)
        answer = query_of(location)
        self.assertEqual(answer["error"], "invalid_request")
        self.assertEqual(answer["state"], params["state"])
        self.assertEqual(answer["iss"], self.request("GET", DISCOVERY).json()["issuer"])
        # The description is percent-encoded: %20, which every client reads.
        self.assertIn("%20", location)
        self.assertNotIn("+", location)


@tagged("post_install", "-at_install")
class TestOauthExplorerCodeFlow(OauthCodeCase):
    """/api/docs: *Authorize* with the authorization code flow, in Chromium.
    The popup asks the user's consent and comes back to Swagger UI's
    oauth2-redirect.html; the explorer exchanges the code (PKCE) and shows
    the app's document."""

    CONTAINER = """[...document.querySelectorAll(".modal-ux .auth-container")]
        .find((c) => c.textContent.includes("authorizationCode")
            && c.querySelector("input[data-name=clientId]"))"""

    def click(self, browser, selector):
        """A real click (a user gesture: the page may open a popup)."""
        x, y = self.evaluate(
            browser,
            f"""(() => {{
                const node = {selector};
                node.scrollIntoView();
                const box = node.getBoundingClientRect();
                return [box.x + box.width / 2, box.y + box.height / 2];
            }})()""",
        )
        for kind in ("mousePressed", "mouseReleased"):
            browser._websocket_request(
                "Input.dispatchMouseEvent",
                params={
                    "type": kind,
                    "x": x,
                    "y": y,
                    "button": "left",
                    "clickCount": 1,
                },
            )

    def test_swagger_authorize_with_a_code_acts_as_the_user(self):
        redirect = (
            self.base_url() + "/secure_api/static/lib/swagger-ui/oauth2-redirect.html"
        )
        self.mobile_app.redirect_uris = redirect
        self.alice[user_groups_field(self.env)] = [
            Command.link(self.env.ref("secure_api.group_secure_api_manager").id)
        ]
        self.authenticate(ALICE, ALICE)
        with self.chromium() as browser:
            browser.set_cookie("session_id", self.session.sid, "/", HOST)
            browser.navigate_to(self.base_url() + "/api/docs", wait_stop=True)
            self.wait_for(
                browser,
                "!!document.querySelector('.opblock.opblock-post')",
                "the managers' document",
            )
            self.evaluate(
                browser,
                """(() => {
                    const open = window.open.bind(window);
                    window.open = (...args) => (window.testPopup = open(...args));
                    document.querySelector(".auth-wrapper .btn.authorize").click();
                })()""",
            )
            self.wait_for(browser, f"!!({self.CONTAINER})", "the code flow's form")
            self.evaluate(
                browser,
                f"""(() => {{
                    const input = ({self.CONTAINER}).querySelector(
                        "input[data-name=clientId]");
                    Object.getOwnPropertyDescriptor(
                        HTMLInputElement.prototype, "value"
                    ).set.call(input, {self.mobile_app.client_id!r});
                    input.dispatchEvent(new Event("input", {{bubbles: true}}));
                    input.dispatchEvent(new Event("change", {{bubbles: true}}));
                }})()""",
            )
            self.click(browser, f"({self.CONTAINER}).querySelector('button.authorize')")
            self.wait_for(
                browser,
                "!!(window.testPopup && window.testPopup.document"
                " && window.testPopup.document.querySelector('button[value=allow]'))",
                "the consent page in the popup",
            )
            self.evaluate(
                browser,
                "window.testPopup.document.querySelector('button[value=allow]')"
                ".click()",
            )
            self.wait_for(
                browser,
                "[...document.querySelectorAll('.modal-ux button')]"
                ".some((b) => b.textContent.trim() === 'Logout')",
                "the explorer got a token",
            )
            # Reloaded with the token: the app's document (read and search,
            # no create).
            path = f"/api/{self.api_plain.route}"
            self.wait_for(
                browser,
                f"""(() => {{
                    const at = (method) => [...document.querySelectorAll(
                        ".opblock.opblock-" + method + " .opblock-summary-path")]
                        .some((node) => node.textContent.trim() === {path!r});
                    return at("get") && !at("post");
                }})()""",
                "the app's document",
            )
        consent = self.env["secure.api.consent"].search(
            [("user_id", "=", self.alice.id), ("app_id", "=", self.mobile_app.id)]
        )
        self.assertEqual(consent.state, "active")
