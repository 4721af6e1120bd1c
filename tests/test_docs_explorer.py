"""``GET /api/docs``: the interactive explorer (Swagger UI, served from the
addon's own static files) over ``GET /api/openapi.json``.

The page is served under the document's access rules, with a
Content-Security-Policy that lets it load only this server's files; in a
real browser it shows the managers' document for a manager's session, the
client app's own document once a token is given under "Authorize", and runs
operations against this server.
"""

import json
import re

from lxml import html

from odoo.tests import tagged

from .common import SecureApiHttpCase

SWAGGER = "/secure_api/static/lib/swagger-ui/"
INIT_SCRIPT = "/secure_api/static/src/js/secure_api_docs.js"

# Shared by the browser checks: wait for something, find an operation, type
# into Swagger UI's (React) inputs, run an operation with "Try it out".
JS_HELPERS = """
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(what, test, timeout = 20000) {
    const start = Date.now();
    while (Date.now() - start < timeout) {
        const found = test();
        if (found) {
            return found;
        }
        await sleep(100);
    }
    throw new Error("not found: " + what);
}
function opblock(method, path) {
    return [...document.querySelectorAll(".opblock.opblock-" + method)].find(
        (block) => block.querySelector(".opblock-summary-path")
            && block.querySelector(".opblock-summary-path").textContent.trim() === path
    );
}
function type(input, value) {
    const setter = Object.getOwnPropertyDescriptor(
        Object.getPrototypeOf(input), "value").set;
    setter.call(input, value);
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
}
/** Expands ``method`` ``path``, clicks "Try it out", lets ``fill`` fill
 * the block's fields, clicks "Execute", and returns the live answer: its
 * status, its body and the curl line of the request. */
async function tryOperation(method, path, fill = async () => null) {
    const block = await waitFor(method + " " + path, () => opblock(method, path));
    if (!block.classList.contains("is-open")) {
        block.querySelector(".opblock-summary-control").click();
    }
    (await waitFor("Try it out", () => block.querySelector(".try-out__btn"))).click();
    await fill(block);
    await sleep(600); // Swagger UI takes typed values after a short debounce
    (await waitFor("Execute", () => block.querySelector(".btn.execute"))).click();
    const status = await waitFor("a live answer", () => block.querySelector(
        ".live-responses-table .response .response-col_status"));
    const body = block.querySelector(
        ".live-responses-table .response-col_description pre");
    const curl = block.querySelector(".curl-command, .request-snippets");
    return {
        status: status.textContent.trim(),
        body: body && body.textContent ? JSON.parse(body.textContent) : null,
        curl: curl ? curl.textContent : "",
    };
}
const trySearch = (path) => tryOperation("get", path);
// What the page's policy refuses after this point fails the test; refused
// inline handlers are markup in a description, dropped anyway.
document.addEventListener("securitypolicyviolation", (event) => {
    if (event.effectiveDirective !== "script-src-attr") {
        console.error("Content-Security-Policy refused " + event.blockedURI);
    }
});
"""


def csp_directives(header):
    """``{directive: [sources]}`` of a Content-Security-Policy value."""
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@tagged("post_install", "-at_install")
class TestApiExplorerPage(SecureApiHttpCase):
    """The page itself, over HTTP: what it loads, under which headers, for
    whom."""

    def page(self):
        self.authenticate("admin", "admin")
        response = self.request("GET", "/api/docs")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/html"))
        return response

    def test_the_page_loads_swagger_ui_and_its_init_script_from_the_addon(self):
        tree = html.fromstring(self.page().content)
        scripts = tree.xpath("//script")
        self.assertEqual(
            [re.sub(r"\?.*", "", script.get("src", "")) for script in scripts],
            [SWAGGER + "swagger-ui-bundle.js", INIT_SCRIPT],
        )
        for script in scripts:
            self.assertFalse((script.text or "").strip(), "no inline script")
        styles = [
            re.sub(r"\?.*", "", link.get("href")) for link in tree.xpath("//link")
        ]
        self.assertIn(SWAGGER + "swagger-ui.css", styles)
        self.assertFalse(tree.xpath("//*[@style or @onload or @onerror or @onclick]"))
        (root,) = tree.xpath("//*[@id='swagger-ui']")
        self.assertEqual(root.get("data-document-url"), "/api/openapi.json")
        # Everything the page loads comes from this server, and is there:
        # an installation without internet shows the same page.
        self.logout()
        for url in tree.xpath("//script/@src | //link/@href"):
            with self.subTest(url=url):
                self.assertRegex(url, r"^/[^/]")
                self.assertEqual(self.request("GET", url).status_code, 200)

    def test_the_page_allows_this_server_only(self):
        headers = self.page().headers
        policy = csp_directives(headers["Content-Security-Policy"])
        self.assertEqual(policy["default-src"], ["'none'"])
        self.assertEqual(policy["script-src"], ["'self'"])
        self.assertEqual(policy["connect-src"], ["'self'"])
        self.assertEqual(policy["frame-ancestors"], ["'self'"])
        self.assertEqual(policy["base-uri"], ["'none'"])
        self.assertEqual(policy["form-action"], ["'self'"])
        for directive, sources in policy.items():
            for source in sources:
                with self.subTest(directive=directive, source=source):
                    self.assertIn(source, ("'self'", "'none'", "data:"))
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["Referrer-Policy"], "same-origin")
        self.assertEqual(headers["Cache-Control"], "no-store")

    def test_the_page_follows_the_rules_of_the_document(self):
        unknown = self.call("GET", "/api/no/such/route")
        reader = self.call("GET", "/api/docs", session_uid=self.reader_user.id)
        self.assertEqual((reader.status, reader.body), (unknown.status, unknown.body))
        manager = self.call("GET", "/api/docs", session_uid=self.manager().id)
        self.assertEqual(manager.status, 200)
        self.assertIn("swagger-ui-bundle.js", manager.html)
        self.assertIn("Content-Security-Policy", manager.headers)
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.openapi_public", "True"
        )
        anonymous = self.call("GET", "/api/docs")
        self.assertEqual(anonymous.status, 200)
        self.assertEqual(
            anonymous.headers["Content-Security-Policy"],
            manager.headers["Content-Security-Policy"],
        )

    def test_the_page_only_serves_reads(self):
        self.authenticate("admin", "admin")
        response = self.request("POST", "/api/docs", json_body={})
        self.assertEqual(response.status_code, 405)

    def test_the_code_flow_comes_back_to_the_addons_redirect_page(self):
        """Swagger UI's authorization code flow needs its oauth2-redirect
        page: the explorer names it, on this server, and the addon serves
        it (no inline script: it works under any policy)."""
        tree = html.fromstring(self.page().content)
        (root,) = tree.xpath("//*[@id='swagger-ui']")
        redirect = root.get("data-oauth2-redirect-url")
        self.assertEqual(redirect, SWAGGER + "oauth2-redirect.html")
        init = self.request("GET", INIT_SCRIPT).text
        self.assertIn("root.dataset.oauth2RedirectUrl", init)
        self.assertIn("oauth2RedirectUrl,", init)
        self.assertIn("usePkceWithAuthorizationCodeGrant: true", init)
        self.logout()
        response = self.request("GET", redirect)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/html"))
        page = html.fromstring(response.content)
        self.assertEqual(page.xpath("//script/@src"), ["oauth2-redirect.js"])
        self.assertFalse("".join(page.xpath("//script/text()")).strip())
        script = self.request("GET", SWAGGER + "oauth2-redirect.js")
        self.assertEqual(script.status_code, 200)
        self.assertIn("window.opener.swaggerUIRedirectOauth2", script.text)


@tagged("post_install", "-at_install")
class TestApiExplorerBrowser(SecureApiHttpCase):
    """Swagger UI in a real Chromium: a console error, or a resource the
    page's policy refuses, fails the test."""

    def explore(self, code, timeout=90):
        self.browser_js(
            "/api/docs",
            JS_HELPERS + code,
            ready="!!document.querySelector('#swagger-ui .opblock')",
            login="admin",
            timeout=timeout,
        )

    def test_a_manager_tries_a_search_and_gets_records(self):
        path = f"/api/{self.api_plain.route}"
        self.explore(
            """(async () => {
                try {
                    await waitFor("the managers' operations",
                        () => opblock("post", %(path)s));
                    const answer = await trySearch(%(path)s);
                    if (answer.status !== "200") {
                        throw new Error("status " + answer.status);
                    }
                    if (!answer.body.result.records.length) {
                        throw new Error("no record: " + JSON.stringify(answer.body));
                    }
                    console.log("test successful");
                } catch (error) {
                    console.error("explorer: " + error.message);
                }
            })()"""
            % {"path": json.dumps(path)}
        )

    def test_a_manager_creates_and_deletes_a_record_with_the_session(self):
        # Writes with a session cookie need a JSON body and this server's
        # Origin (CSRF rules): Swagger UI's requests have both.
        path = f"/api/{self.api_plain.route}"
        self.explore(
            """(async () => {
                try {
                    const fillBody = async (block) => {
                        const body = await waitFor("the body", () => block
                            .querySelector(".opblock-section-request-body textarea"));
                        type(body, JSON.stringify({name: "Explorer Co"}));
                    };
                    const created = await tryOperation("post", %(path)s, fillBody);
                    if (created.status !== "201") {
                        throw new Error("create: " + created.status + " "
                            + JSON.stringify(created.body));
                    }
                    const id = String(created.body.result.id);
                    const deleted = await tryOperation("delete", %(path)s + "/{id}",
                        async (block) => {
                            const input = await waitFor("the id", () =>
                                block.querySelector("tr[data-param-name=id] input"));
                            type(input, id);
                        });
                    if (deleted.status !== "200") {
                        throw new Error("delete: " + deleted.status + " "
                            + JSON.stringify(deleted.body));
                    }
                    console.log("test successful");
                } catch (error) {
                    console.error("explorer: " + error.message);
                }
            })()"""
            % {"path": json.dumps(path)}
        )
        self.assertFalse(
            self.env["res.partner"]
            .with_context(active_test=False)
            .search([("name", "=", "Explorer Co")])
        )

    def test_operations_run_on_the_server_the_page_came_from(self):
        # web.base.url names another address (a proxy's, an old one): the
        # explorer still sends its requests here, where the session is.
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", "https://erp.example.invalid"
        )
        path = f"/api/{self.api_plain.route}"
        self.explore(
            """(async () => {
                try {
                    const server = await waitFor("the servers list", () =>
                        document.querySelector(".servers select"));
                    if (server.value !== window.location.origin) {
                        throw new Error("server " + server.value);
                    }
                    const answer = await trySearch(%(path)s);
                    if (answer.status !== "200" || !answer.body.result.records.length) {
                        throw new Error("answer " + answer.status);
                    }
                    console.log("test successful");
                } catch (error) {
                    console.error("explorer: " + error.message);
                }
            })()"""
            % {"path": json.dumps(path)}
        )

    def test_a_pasted_token_shows_that_client_apps_document(self):
        token = self.issue(self.reader_client)
        path = f"/api/{self.api_plain.route}"
        self.explore(
            """(async () => {
                try {
                    // The managers' document: creating is offered.
                    await waitFor("POST " + %(path)s, () => opblock("post", %(path)s));
                    (await waitFor("the Authorize button", () => document
                        .querySelector(".auth-wrapper .btn.authorize"))).click();
                    const container = await waitFor("the bearer form", () =>
                        [...document.querySelectorAll(".modal-ux .auth-container")]
                            .find((c) => c.textContent.includes("bearerJWT")));
                    type(container.querySelector("input"), %(token)s);
                    container.querySelector("button.authorize").click();
                    // Swagger UI renders the dialog anew: look it up again.
                    await waitFor("Logout", () =>
                        [...document.querySelectorAll(".modal-ux button")]
                            .find((button) => button.textContent.trim() === "Logout"));
                    (await waitFor("Close", () =>
                        document.querySelector(".modal-ux .btn-done"))).click();
                    // The reader client's document: it may search, not create.
                    await waitFor("the reader's document", () =>
                        !opblock("post", %(path)s) && opblock("get", %(path)s));
                    const answer = await trySearch(%(path)s);
                    if (answer.status !== "200" || !answer.body.result.records.length) {
                        throw new Error("answer " + answer.status);
                    }
                    if (!answer.curl.includes("Authorization: Bearer")) {
                        throw new Error("the request went without the token");
                    }
                    console.log("test successful");
                } catch (error) {
                    console.error("explorer: " + error.message);
                }
            })()"""
            % {"path": json.dumps(path), "token": json.dumps(token)}
        )

    def test_markup_in_a_description_is_never_run(self):
        self.api_obf.description = (
            '<img src="x" onerror="document.body.dataset.injected = \'img\'">'
            "<script>document.body.dataset.injected = 'script'</script>"
        )
        # The page's policy refuses the handler, and the init script says so
        # with a warning: expected here, and checked.
        with self.assertLogs(
            "odoo.addons.secure_api.tests.test_docs_explorer", "WARNING"
        ) as logged:
            self.explore_markup()
        self.assertTrue(
            any("Content-Security-Policy" in line for line in logged.output),
            logged.output,
        )

    def explore_markup(self):
        self.explore(
            """(async () => {
                try {
                    const tag = await waitFor("the tag of the API", () =>
                        [...document.querySelectorAll(".opblock-tag")]
                            .find((t) => t.textContent.includes(%(name)s)));
                    await sleep(500);
                    if (document.body.dataset.injected) {
                        throw new Error("ran: " + document.body.dataset.injected);
                    }
                    const live = "#swagger-ui [onerror], #swagger-ui script";
                    if (document.querySelector(live)) {
                        throw new Error("live markup: " + tag.outerHTML);
                    }
                    console.log("test successful");
                } catch (error) {
                    console.error("explorer: " + error.message);
                }
            })()"""
            % {"name": json.dumps(self.api_obf.name)}
        )

    def test_a_client_id_and_secret_under_authorize_get_that_apps_document(self):
        path = f"/api/{self.api_plain.route}"
        self.explore(
            """(async () => {
                try {
                    await waitFor("POST " + %(path)s, () => opblock("post", %(path)s));
                    (await waitFor("the Authorize button", () => document
                        .querySelector(".auth-wrapper .btn.authorize"))).click();
                    const container = await waitFor("the client credentials form", () =>
                        [...document.querySelectorAll(".modal-ux .auth-container")]
                            .find((c) => c.querySelector("input[data-name=clientId]")));
                    const field = (name) => container
                        .querySelector("input[data-name=" + name + "]");
                    type(field("clientId"), %(client_id)s);
                    type(field("clientSecret"), %(secret)s);
                    container.querySelector("button.authorize").click();
                    await waitFor("Logout", () =>
                        [...document.querySelectorAll(".modal-ux button")]
                            .find((button) => button.textContent.trim() === "Logout"));
                    (await waitFor("Close", () =>
                        document.querySelector(".modal-ux .btn-done"))).click();
                    await waitFor("the reader's document", () =>
                        !opblock("post", %(path)s) && opblock("get", %(path)s));
                    const answer = await trySearch(%(path)s);
                    const bearer = answer.curl.includes("Authorization: Bearer");
                    if (answer.status !== "200" || !bearer) {
                        throw new Error(answer.status + " to " + answer.curl);
                    }
                    console.log("test successful");
                } catch (error) {
                    console.error("explorer: " + error.message);
                }
            })()"""
            % {
                "path": json.dumps(path),
                "client_id": json.dumps(self.reader_client.client_id),
                "secret": json.dumps(self.reader_secret),
            }
        )
