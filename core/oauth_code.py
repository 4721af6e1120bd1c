"""Delegated access: OAuth 2.1 authorization code with PKCE, framework-free.

The rules of RFC 6749 (4.1), RFC 7636 (PKCE, S256 only), RFC 8252 (loopback
redirects of native apps), RFC 9207 (``iss`` in the response), RFC 8414 and
RFC 9728 (discovery), as plain functions over plain values. The Odoo layer
(``secure.api.oauth.authorize`` and the token server) keeps the state.
"""

import base64
import hashlib
import hmac
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .exceptions import OAuthError
from .messages import _lt
from .oauth import is_credential
from .operations import SCOPES

CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
GRANT_TYPES = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE)
CLIENT_TYPES = ("confidential", "public")
# A code is exchanged within this many seconds, once (OAuth 2.1 4.1.2).
CODE_LIFETIME = 60
# RFC 8252 7.3: native apps listen on a loopback address over plain http.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# RFC 8252 7.3: at a loopback IP literal, any port (the app gets one from the
# system); the rest of the URI as registered. Not localhost (8.3).
LOOPBACK_URI_RE = re.compile(
    r"^http://(127\.0\.0\.1|\[::1\])(?::([1-9][0-9]{0,4}))?(?=[/?]|\Z)"
)
# RFC 8252 7.1: a native app's private-use scheme, a reverse domain name.
PRIVATE_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+\-]*(?:\.[a-z0-9+\-]+)+\Z")
# A registered host: a DNS name or an IP literal (urlsplit drops brackets);
# no percent-encoding, no zone id.
HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.\-]*[a-z0-9.])?\Z|^[0-9a-f:.]+\Z")
# What an authorization response adds to the redirect URI's query (RFC 6749
# 4.1.2, 4.1.2.1; RFC 9207): a registered query may hold none of them.
RESPONSE_PARAMS = ("code", "state", "iss", "error", "error_description", "error_uri")
MAX_REDIRECT_URI = 2048
MAX_STATE = 1024
# RFC 7636 4.1: 43 to 128 unreserved characters.
VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}\Z")
# The S256 challenge: base64url of a SHA-256 digest, without padding.
CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_\-]{43}\Z")
# RFC 6749 A.5: state is visible ASCII and space.
STATE_RE = re.compile(r"^[\x20-\x7e]+\Z")
# What the token endpoint never accepts in its URL.
PUBLIC_URL_CREDENTIALS = (
    "client_id",
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "access_token",
)
# The parameters an authorization request is made of (RFC 6749 4.1.1, 7636).
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


class AuthorizeError(Exception):
    """A refused authorization request.

    ``code`` is RFC 6749 4.1.2.1's error code. ``redirect`` says whether the
    answer may go back to the client's redirect URI: only once the client
    and its redirect URI are known good; before that, the user sees an error
    page and is never redirected (RFC 6749 4.1.2.1, first paragraph).
    """

    def __init__(self, message, code="invalid_request", redirect=True, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.redirect = redirect
        self.status = status


# ----------------------------------------------------------------------
# Client configuration
# ----------------------------------------------------------------------


def parse_grant_types(text):
    """The grant types of a client app's ``grant_types`` text, in order.

    Raises ``ValueError`` with a message for an unknown or missing one.
    """
    words = (text or "").split()
    unknown = [word for word in words if word not in GRANT_TYPES]
    if unknown:
        raise ValueError(
            _lt(
                "Unknown grant type '%(grant)s': use client_credentials and/or "
                "authorization_code",
                grant=unknown[0],
            )
        )
    if not words:
        raise ValueError(_lt("A client app needs at least one grant type"))
    return tuple(grant for grant in GRANT_TYPES if grant in words)


def redirect_uri_problem(uri):
    """Why ``uri`` cannot be registered as a redirect URI, or ``None``.

    An absolute ``https`` URI; plain ``http`` only to a loopback address,
    and private-use schemes in reverse domain order (``com.example.app:/cb``),
    for native apps (RFC 8252 7.1, 7.3). No fragment, no user information,
    no wildcard, no backslash (browsers read it as a slash, servers may not),
    and no query parameter the authorization response adds (``code``,
    ``state``, ``iss``, ``error``...): the app would read the wrong one.
    """
    if not uri or len(uri) > MAX_REDIRECT_URI:
        return _lt("A redirect URI has 1 to %(max)s characters", max=MAX_REDIRECT_URI)
    if any(ord(char) < 0x21 or ord(char) > 0x7E for char in uri):
        return _lt("A redirect URI holds no spaces and only ASCII characters")
    if "\\" in uri:
        return _lt("A redirect URI holds no backslash (\\)")
    if "#" in uri:
        return _lt("A redirect URI may not have a fragment (#)")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        port = parts.port  # raises ValueError when out of range
    except ValueError:
        return _lt("'%(uri)s' is not a valid URI", uri=uri)
    if "@" in parts.netloc or "*" in uri:
        return _lt("A redirect URI holds no user information and no wildcard")
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        problem = _web_redirect_problem(uri, scheme, host, port)
    elif PRIVATE_SCHEME_RE.match(scheme) and (parts.path or parts.netloc):
        problem = None
    else:
        problem = _lt(
            "'%(uri)s' is not an absolute https URI, nor a native app's private-use "
            "scheme in reverse domain order (com.example.app:/callback)",
            uri=uri,
        )
    if problem:
        return problem
    reserved = sorted(
        {key.lower() for key, _value in parse_qsl(parts.query, True)}
        & set(RESPONSE_PARAMS)
    )
    if reserved:
        return _lt(
            "A redirect URI's query may not hold '%(name)s': the authorization "
            "response adds it",
            name=reserved[0],
        )
    return None


def _web_redirect_problem(uri, scheme, host, port):
    """Why an http(s) redirect URI cannot be registered, or ``None``."""
    if not host or port == 0 or not HOST_RE.match(host):
        return _lt("'%(uri)s' is not an absolute http(s) URI", uri=uri)
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        return _lt(
            "A redirect URI uses https; plain http only to localhost, 127.0.0.1 "
            "or [::1] (native apps)"
        )
    return None


def normalize_redirect_uri(uri):
    """``uri`` with its scheme and host in lower case, the rest as it is:
    the form registered and compared (RFC 3986 6.2.2.1)."""
    scheme, colon, rest = uri.partition(":")
    if not colon:
        return uri
    if rest.startswith("//"):
        end = len(rest)
        for char in "/?#":
            found = rest.find(char, 2)
            if found != -1:
                end = min(end, found)
        rest = rest[:end].lower() + rest[end:]
    return scheme.lower() + colon + rest


def parse_redirect_uris(text):
    """The redirect URIs of a client app's text, one per line, normalized
    (:func:`normalize_redirect_uri`).

    Raises ``ValueError`` with the first problem found.
    """
    uris = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise ValueError(problem)
    return tuple(dict.fromkeys(normalize_redirect_uri(uri) for uri in uris))


def _without_loopback_port(uri):
    """``uri`` without its port when it is an ``http`` URI to a loopback
    IP literal, else ``None``."""
    match = LOOPBACK_URI_RE.match(uri)
    if not match or (match.group(2) and int(match.group(2)) > 65535):
        return None
    return f"http://{match.group(1)}{uri[match.end() :]}"


def redirect_uri_registered(uri, registered):
    """Whether ``uri`` is one of the ``registered`` redirect URIs: the very
    same string, except that a loopback IP literal (``http://127.0.0.1``,
    ``http://[::1]``) takes any port, as a native app gets one from the
    system when it starts listening (RFC 8252 7.3)."""
    if uri in registered:
        return True
    bare = _without_loopback_port(uri)
    return bare is not None and any(
        bare == _without_loopback_port(known) for known in registered
    )


def public_client_id(params, query):
    """The ``client_id`` by which a public client names itself at the token
    endpoint (RFC 6749 3.2.1): in the body, never in the URL."""
    if any(key in PUBLIC_URL_CREDENTIALS for key, _value in query):
        raise OAuthError(
            "invalid_request",
            _lt("Credentials and tokens are never accepted in the URL"),
        )
    client_id = params.get("client_id")
    if not is_credential(client_id):
        raise OAuthError(
            "invalid_client", _lt("Client authentication failed"), status=401
        )
    return client_id


# ----------------------------------------------------------------------
# PKCE (RFC 7636, S256 only)
# ----------------------------------------------------------------------


def s256(verifier):
    """The S256 code challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_pkce(verifier, challenge):
    """Whether ``verifier`` is well formed and matches ``challenge``."""
    if not isinstance(verifier, str) or not VERIFIER_RE.match(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge or "")


# ----------------------------------------------------------------------
# The authorization request (RFC 6749 4.1.1)
# ----------------------------------------------------------------------


def single_params(pairs):
    """The request's parameters as a dict, and the names sent twice or more
    (RFC 6749 3.1: no parameter may be included more than once)."""
    params, repeated = {}, set()
    for key, value in pairs:
        if key in params:
            repeated.add(key)
        params[key] = value
    return params, repeated


def check_client_and_redirect(params, repeated, client, client_id):
    """Check what must hold before anything may be redirected.

    ``client`` is the client app's state (``None`` when unknown). Returns
    the redirect URI. Raises a non-redirecting :class:`AuthorizeError`.
    """
    if not client_id or "client_id" in repeated or not client or not client["active"]:
        raise AuthorizeError(
            _lt("Unknown client app"), code="invalid_client", redirect=False
        )
    uri = params.get("redirect_uri")
    if not uri or "redirect_uri" in repeated:
        raise AuthorizeError(
            _lt("The redirect_uri parameter is required"),
            code="invalid_request",
            redirect=False,
        )
    if not isinstance(uri, str) or not redirect_uri_registered(
        uri, client["redirect_uris"]
    ):
        raise AuthorizeError(
            _lt("This redirect URI is not registered for the client app"),
            code="invalid_request",
            redirect=False,
        )
    return uri


def check_authorization_request(params, repeated, client):
    """Check the rest of an authorization request whose client and redirect
    URI are known good; return ``{"scope", "state", "code_challenge"}``.

    ``scope`` is what the app asked for within what the client app may do
    (the asked scope, or all of the client's, intersected with the client's
    scopes). Raises a redirecting :class:`AuthorizeError`.
    """
    state = params.get("state")
    if state is not None and echoed_state(state) is None:
        raise AuthorizeError(
            _lt(
                "The state parameter is at most %(max)s visible characters",
                max=MAX_STATE,
            ),
            code="invalid_request",
        )
    if repeated:
        raise AuthorizeError(
            _lt("The parameter '%(name)s' is repeated", name=sorted(repeated)[0]),
            code="invalid_request",
        )
    response_type = params.get("response_type")
    if not response_type:
        raise AuthorizeError(
            _lt("The response_type parameter is required"), code="invalid_request"
        )
    if response_type != "code":
        raise AuthorizeError(
            _lt("Only response_type=code is supported"),
            code="unsupported_response_type",
        )
    if AUTHORIZATION_CODE not in client["grant_types"]:
        raise AuthorizeError(
            _lt("This client app may not use the authorization code grant"),
            code="unauthorized_client",
        )
    method = params.get("code_challenge_method")
    challenge = params.get("code_challenge")
    if not challenge:
        raise AuthorizeError(
            _lt("PKCE is required: send code_challenge (S256)"), code="invalid_request"
        )
    if method != "S256":
        raise AuthorizeError(
            _lt("PKCE requires code_challenge_method=S256 (plain is refused)"),
            code="invalid_request",
        )
    if not CHALLENGE_RE.match(challenge):
        raise AuthorizeError(
            _lt(
                "The code_challenge is not an S256 challenge (43 base64url characters)"
            ),
            code="invalid_request",
        )
    return {
        "scope": granted_scope(params.get("scope"), client["scope"]),
        "state": state,
        "code_challenge": challenge,
    }


def echoed_state(state):
    """The ``state`` to send back with an answer: the request's, when it is
    one that may be sent back (RFC 6749 A.5), else none."""
    if isinstance(state, str) and len(state) <= MAX_STATE and STATE_RE.match(state):
        return state
    return None


def granted_scope(asked, allowed):
    """The scope words asked for (all when none) that ``allowed`` holds, as
    canonical text. Unknown words and an empty result are refused."""
    if asked is not None and not isinstance(asked, str):
        raise AuthorizeError(_lt("Unknown scope requested"), code="invalid_scope")
    words = (asked or "").split()
    if any(word not in SCOPES for word in words):
        raise AuthorizeError(_lt("Unknown scope requested"), code="invalid_scope")
    allowed_words = set((allowed or "").split())
    wanted = set(words) if words else allowed_words
    scope = " ".join(word for word in SCOPES if word in wanted & allowed_words)
    if not scope:
        raise AuthorizeError(
            _lt("The client app may not do what it asks for"), code="invalid_scope"
        )
    return scope


def redirect_origins(uris):
    """The web origins (``scheme://host[:port]``) of redirect URIs: where a
    public client's browser code runs, and may read the token endpoint's
    answers from (CORS)."""
    origins = set()
    for uri in uris:
        parts = urlsplit(uri)
        # A private-use scheme is no web origin: no browser code runs there.
        if parts.scheme.lower() in ("http", "https"):
            origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def redirect_destination(uri):
    """What the consent page names as where the user goes back: the host of
    a web redirect URI, the app's scheme for a native one
    (``com.example.app:/callback``)."""
    parts = urlsplit(uri)
    return parts.netloc or parts.scheme


def redirect_url(uri, params):
    """``uri`` with ``params`` (``None`` values left out) added to its query,
    keeping the query it already has (RFC 6749 3.1.2). Spaces are ``%20``:
    every client decodes it, some (Swagger UI's redirect page) not ``+``."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((key, value) for key, value in params.items() if value is not None)
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


# ----------------------------------------------------------------------
# Discovery (RFC 8414, RFC 9728)
# ----------------------------------------------------------------------


def issuer_url(base_url):
    """The authorization server's issuer identifier (RFC 8414 2) from the
    server's base URL (Odoo's ``web.base.url``): scheme, host and path,
    without query, fragment or trailing slash. The one value discovery,
    introspection, JWT ``iss`` claims and authorization responses (RFC 9207)
    name the server by."""
    parts = urlsplit((base_url or "").strip())
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def authorization_server_metadata(issuer):
    """The RFC 8414 document of the authorization server at ``issuer``."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/api/oauth2/authorize",
        "token_endpoint": f"{issuer}/api/oauth2/token",
        "revocation_endpoint": f"{issuer}/api/oauth2/revoke",
        "introspection_endpoint": f"{issuer}/api/oauth2/introspect",
        "grant_types_supported": [
            CLIENT_CREDENTIALS,
            AUTHORIZATION_CODE,
            REFRESH_TOKEN,
        ],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "authorization_response_iss_parameter_supported": True,
    }


def protected_resource_metadata(issuer):
    """The RFC 9728 document of the APIs served at ``issuer``.

    Served at ``/.well-known/oauth-protected-resource`` with no path after
    it, so the resource identifier is the server's own URL (RFC 9728 3.3).
    """
    return {
        "resource": issuer,
        "authorization_servers": [issuer],
        "scopes_supported": list(SCOPES),
        "bearer_methods_supported": ["header"],
    }
