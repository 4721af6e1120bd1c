/* The API explorer of /api/docs: Swagger UI (static/lib/swagger-ui) over
 * /api/openapi.json.
 *
 * - The document is loaded with the reader's session: a manager sees the
 *   managers' document (every active API). Once a token is given under
 *   "Authorize" (pasted as a Bearer token, or obtained there with a client
 *   id and secret), the document is loaded again with that token: the
 *   client app's own document, with only the APIs and operations it may
 *   call. Logging out of it loads the session's document again.
 * - "Try it out" runs against this server, the one the page came from
 *   (same origin: the page's Content-Security-Policy allows no other), with
 *   the session cookie, and the token once one is given.
 * - The authorization code flow (PKCE, as the server requires) comes back to
 *   Swagger UI's oauth2-redirect.html, served from the addon's files on this
 *   server: a client app that uses it registers that page's URL as a
 *   redirect URI.
 * - The token stays in this page's memory (no persistAuthorization), and
 *   the page takes no configuration from its URL (queryConfigEnabled off:
 *   no ?url= to show another document).
 */
(function () {
    "use strict";

    const root = document.getElementById("swagger-ui");
    const documentUrl = root.dataset.documentUrl;
    // Where the authorization code flow's popup lands: on this server, as the
    // page that opened it (the redirect page talks to it through window.opener).
    const oauth2RedirectUrl = new URL(
        root.dataset.oauth2RedirectUrl,
        window.location.origin
    ).href;

    // A resource the page's policy refuses breaks a part of the explorer:
    // say which (the browser tests fail on console errors). An inline event
    // handler is only ever markup in a description, which Swagger UI's
    // sanitizer drops: the refusal is the policy doing its job.
    document.addEventListener("securitypolicyviolation", (event) => {
        const report = event.effectiveDirective === "script-src-attr" ? "warn" : "error";
        console[report](
            `/api/docs: the page's Content-Security-Policy refused ` +
                `${event.blockedURI || "inline code"} (${event.effectiveDirective})`
        );
    });

    /** ``url`` on this server: the same path, at the page's origin. */
    function onThisServer(url) {
        const parsed = new URL(url, window.location.href);
        return window.location.origin + parsed.pathname.replace(/\/$/, "") + parsed.search;
    }

    /** The document as the explorer shows it: operations, the authorization
     * page and token requests go to this server, whatever web.base.url the
     * document was made with. */
    function adaptDocument(response) {
        if (!response.ok || typeof response.text !== "string") {
            return response;
        }
        const spec = JSON.parse(response.text);
        spec.servers = [{url: window.location.origin, description: "This server"}];
        const schemes = (spec.components && spec.components.securitySchemes) || {};
        for (const scheme of Object.values(schemes)) {
            for (const flow of Object.values(scheme.flows || {})) {
                for (const key of ["authorizationUrl", "tokenUrl", "refreshUrl"]) {
                    if (flow[key]) {
                        flow[key] = onThisServer(flow[key]);
                    }
                }
            }
        }
        response.text = JSON.stringify(spec);
        response.body = spec;
        return response;
    }

    /** The access token among the current authorizations, or null. */
    function tokenOf(system) {
        const authorized = system.authSelectors.authorized();
        for (const auth of Object.values(authorized ? authorized.toJS() : {})) {
            const schema = auth.schema || {};
            if (schema.type === "oauth2" && auth.token && auth.token.access_token) {
                return auth.token.access_token;
            }
            const scheme = String(schema.scheme || "").toLowerCase();
            if (schema.type === "http" && scheme === "bearer" && auth.value) {
                return auth.value;
            }
        }
        return null;
    }

    // The token the shown document was loaded with (null: the session's).
    let documentToken = null;

    function reloadIfTokenChanged(system) {
        const token = tokenOf(system);
        if (token !== documentToken) {
            documentToken = token;
            system.specActions.download(documentUrl);
        }
    }

    /** Swagger UI plugin: after each change of authorizations, the document
     * of the token now given. */
    function documentPerToken() {
        const afterwards = (action, system) => (payload) => {
            const result = action(payload);
            reloadIfTokenChanged(system);
            return result;
        };
        return {
            statePlugins: {
                auth: {
                    wrapActions: {
                        authorize: afterwards,
                        authorizeOauth2: afterwards,
                        logout: afterwards,
                    },
                },
            },
        };
    }

    const ui = window.SwaggerUIBundle({
        domNode: root,
        url: documentUrl,
        oauth2RedirectUrl,
        layout: "BaseLayout",
        plugins: [documentPerToken],
        queryConfigEnabled: false,
        persistAuthorization: false,
        validatorUrl: null,
        deepLinking: true,
        filter: true,
        displayRequestDuration: true,
        requestInterceptor(request) {
            if (request.loadSpec) {
                if (documentToken) {
                    request.headers.Authorization = `Bearer ${documentToken}`;
                }
                request.responseInterceptor = adaptDocument;
            }
            return request;
        },
    });
    // The server refuses authorization requests without PKCE (S256).
    ui.initOAuth({usePkceWithAuthorizationCodeGrant: true});
})();
