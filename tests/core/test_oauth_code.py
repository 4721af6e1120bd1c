"""Delegated access rules without Odoo: grant types, redirect URIs, PKCE,
the authorization request and the discovery documents."""

import base64
import hashlib

import pytest

from core import oauth_code as oc
from core.exceptions import OAuthError

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
# RFC 7636 appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def client(**values):
    state = {
        "active": True,
        "grant_types": ("authorization_code",),
        "redirect_uris": ("https://app.example.com/cb",),
        "scope": "read search create",
    }
    state.update(values)
    return state


def request(**values):
    params = {
        "response_type": "code",
        "client_id": "abc",
        "redirect_uri": "https://app.example.com/cb",
        "scope": "read",
        "state": "xyz",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(values)
    return {key: value for key, value in params.items() if value is not None}


def test_s256_is_rfc_7636_appendix_b():
    assert oc.s256(VERIFIER) == CHALLENGE
    assert oc.verify_pkce(VERIFIER, CHALLENGE)


@pytest.mark.parametrize(
    "verifier",
    [None, "", "short", VERIFIER[:-1] + "x", VERIFIER + " ", "é" * 50, 42],
)
def test_verify_pkce_refuses(verifier):
    assert not oc.verify_pkce(verifier, CHALLENGE)


def test_grant_types():
    assert oc.parse_grant_types("authorization_code client_credentials") == (
        "client_credentials",
        "authorization_code",
    )
    for bad in ("", "password", "client_credentials implicit"):
        with pytest.raises(ValueError):
            oc.parse_grant_types(bad)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/cb",
        "https://app.example.com:8443/cb?tenant=1",
        "http://localhost:8400/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:9000/cb",
        "HTTPS://App.Example.com/cb",
        "com.example.app:/oauth2redirect",
        "com.example.app://callback",
        "https://app.example.com/cb?tenant=1&codes=2",
    ],
)
def test_redirect_uris_accepted(uri):
    assert oc.redirect_uri_problem(uri) is None


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "http://app.example.com/cb",
        "https://app.example.com/cb#frag",
        "https://user@app.example.com/cb",
        "https://*.example.com/cb",
        "ftp://app.example.com/cb",
        "/relative/cb",
        "https://app.example.com/c b",
        "https://app.example.com:99999/cb",
        "https://" + "a" * 2100 + ".com/",
    ],
)
def test_redirect_uris_refused(uri):
    assert oc.redirect_uri_problem(uri) is not None


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com\\@evil.example.com/cb",
        "https://app.example.com/cb\\..\\x",
        "https://app.example.com/cb?code=1",
        "https://app.example.com/cb?tenant=1&state=x",
        "https://app.example.com/cb?iss=https://evil.example.com",
        "https://app.example.com/cb?error=access_denied",
        "https://app.example.com/cb?Code=1",
        "https://app.example.com/cb?error_description=x",
        "https://user:pw@app.example.com/cb",
        "HTTP://evil.example.com/cb",
        "javascript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "myapp:/cb",
        "com.example.app:",
        "com.example.app://user@host/cb",
        "https://%65vil.example.com/cb",
        "https://[fe80::1%25eth0]/cb",
        "https://-evil.example.com/cb",
    ],
)
def test_redirect_uri_hardening_refuses(uri):
    """What a registration must not hold: backslashes, user information,
    the response's own parameters, schemes other than http(s) and native
    apps' private-use ones, encoded or zoned hosts."""
    assert oc.redirect_uri_problem(uri) is not None


def test_redirect_uri_problem_names_the_reserved_parameter():
    problem = oc.redirect_uri_problem("https://app.example.com/cb?state=1")
    assert "'state'" in str(problem)


@pytest.mark.parametrize(
    ("uri", "normal"),
    [
        (
            "HTTPS://App.Example.COM:8443/Path?Q=A",
            "https://app.example.com:8443/Path?Q=A",
        ),
        ("http://LOCALHOST:8400/CB", "http://localhost:8400/CB"),
        ("Com.Example.App:/CB", "com.example.app:/CB"),
        ("com.example.app://Host/CB", "com.example.app://host/CB"),
        ("https://app.example.com", "https://app.example.com"),
    ],
)
def test_scheme_and_host_are_normalized_to_lower_case(uri, normal):
    assert oc.normalize_redirect_uri(uri) == normal


def test_registered_redirect_uris_are_normalized():
    text = "HTTPS://App.example.com/cb\nhttps://app.example.com/cb"
    assert oc.parse_redirect_uris(text) == ("https://app.example.com/cb",)


@pytest.mark.parametrize(
    ("registered", "uri"),
    [
        ("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1/cb"),
        ("http://127.0.0.1:8400/cb", "http://127.0.0.1:9/cb"),
        ("http://127.0.0.1:8400/cb", "http://127.0.0.1/cb"),
        ("http://[::1]/cb?x=1", "http://[::1]:65535/cb?x=1"),
        ("http://127.0.0.1", "http://127.0.0.1:8400"),
    ],
)
def test_loopback_ip_redirect_takes_any_port(registered, uri):
    """RFC 8252 7.3: the native app gets its port when it starts."""
    assert oc.redirect_uri_registered(uri, (registered,))


@pytest.mark.parametrize(
    ("registered", "uri"),
    [
        ("http://127.0.0.1/cb", "http://127.0.0.1:5/cb/"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5/other"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5/cb?x=1"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5@evil.example.com/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:0/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:123456/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:65536/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:99999/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.2:5/cb"),
        ("http://127.0.0.1/cb", "https://127.0.0.1:5/cb"),
        ("http://127.0.0.1/cb", "HTTP://127.0.0.1:5/cb"),
        ("http://127.0.0.1/cb", "http://[::1]:5/cb"),
        ("http://localhost:8400/cb", "http://localhost:8401/cb"),
        ("https://app.example.com/cb", "https://app.example.com:443/cb"),
        ("https://app.example.com/cb", "https://APP.example.com/cb"),
        ("https://app.example.com/cb", "https://app.example.com/cb/"),
        ("https://app.example.com/cb", "https://app.example.com/%63b"),
    ],
)
def test_other_redirect_uris_match_exactly(registered, uri):
    assert not oc.redirect_uri_registered(uri, (registered,))


def test_loopback_port_passes_the_client_and_redirect_check():
    params, repeated = oc.single_params(
        request(redirect_uri="http://127.0.0.1:50123/cb").items()
    )
    state = client(redirect_uris=("http://127.0.0.1/cb",))
    assert oc.check_client_and_redirect(params, repeated, state, "abc") == (
        "http://127.0.0.1:50123/cb"
    )


@pytest.mark.parametrize(
    ("base", "issuer"),
    [
        ("https://ERP.example.com/", "https://erp.example.com"),
        ("http://localhost:8069", "http://localhost:8069"),
        ("https://erp.example.com/odoo/?x=1#top", "https://erp.example.com/odoo"),
    ],
)
def test_issuer_url(base, issuer):
    assert oc.issuer_url(base) == issuer


def test_redirect_uris_one_per_line():
    text = (
        " https://a.example.com/cb \n\nhttp://localhost:1/cb\nhttps://a.example.com/cb"
    )
    assert oc.parse_redirect_uris(text) == (
        "https://a.example.com/cb",
        "http://localhost:1/cb",
    )
    with pytest.raises(ValueError):
        oc.parse_redirect_uris("https://a.example.com/cb\nhttp://evil.example.com/")


def test_unknown_client_and_unregistered_uri_are_never_redirected():
    params, repeated = oc.single_params(request().items())
    assert oc.check_client_and_redirect(params, repeated, client(), "abc") == (
        "https://app.example.com/cb"
    )
    cases = [
        (request(), client(active=False)),
        (request(), None),
        (request(redirect_uri="https://app.example.com/cb/"), client()),
        (request(redirect_uri=None), client()),
    ]
    for params, state in cases:
        with pytest.raises(oc.AuthorizeError) as caught:
            oc.check_client_and_redirect(params, set(), state, "abc")
        assert caught.value.redirect is False
    pairs = list(request().items()) + [("redirect_uri", "https://evil.example.com/")]
    params, repeated = oc.single_params(pairs)
    with pytest.raises(oc.AuthorizeError) as caught:
        oc.check_client_and_redirect(params, repeated, client(), "abc")
    assert caught.value.redirect is False


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "x" * 42}, "invalid_request"),
        ({"code_challenge": "+" * 43}, "invalid_request"),
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "read admin"}, "invalid_scope"),
        ({"scope": "delete"}, "invalid_scope"),
        ({"state": "x" * 1025}, "invalid_request"),
        ({"state": "caf\u00e9"}, "invalid_request"),
    ],
)
def test_authorization_request_refusals_go_back(values, code):
    with pytest.raises(oc.AuthorizeError) as caught:
        oc.check_authorization_request(request(**values), set(), client())
    assert caught.value.code == code
    assert caught.value.redirect is True


def test_authorization_code_grant_must_be_allowed():
    with pytest.raises(oc.AuthorizeError) as caught:
        oc.check_authorization_request(
            request(), set(), client(grant_types=("client_credentials",))
        )
    assert caught.value.code == "unauthorized_client"


def test_scope_is_asked_within_the_clients():
    check = oc.check_authorization_request
    assert check(request(scope="search read delete"), set(), client())["scope"] == (
        "read search"
    )
    assert check(request(scope=None), set(), client())["scope"] == "create read search"
    assert check(request(), set(), client())["code_challenge"] == CHALLENGE


def test_repeated_parameters_are_refused():
    pairs = list(request().items()) + [("scope", "create")]
    params, repeated = oc.single_params(pairs)
    with pytest.raises(oc.AuthorizeError):
        oc.check_authorization_request(params, repeated, client())


def test_echoed_state():
    assert oc.echoed_state("abc 123") == "abc 123"
    assert oc.echoed_state("x" * 1025) is None
    assert oc.echoed_state("line\nbreak") is None
    assert oc.echoed_state(None) is None


def test_redirect_url_keeps_the_registered_query():
    url = oc.redirect_url(
        "https://a.example.com/cb?tenant=7", {"code": "c d", "x": None}
    )
    assert url == "https://a.example.com/cb?tenant=7&code=c%20d"


def test_public_client_id():
    assert oc.public_client_id({"client_id": "abc"}, ()) == "abc"
    with pytest.raises(OAuthError) as caught:
        oc.public_client_id({}, ())
    assert caught.value.name == "invalid_client"
    with pytest.raises(OAuthError) as caught:
        oc.public_client_id({"client_id": "abc"}, [("code", "leaked")])
    assert caught.value.name == "invalid_request"


def test_discovery_documents():
    server = oc.authorization_server_metadata("https://erp.example.com")
    assert server["issuer"] == "https://erp.example.com"
    assert server["authorization_endpoint"] == (
        "https://erp.example.com/api/oauth2/authorize"
    )
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert "none" in server["token_endpoint_auth_methods_supported"]
    assert set(server["grant_types_supported"]) == {
        "client_credentials",
        "authorization_code",
        "refresh_token",
    }
    resource = oc.protected_resource_metadata("https://erp.example.com")
    assert resource["resource"] == "https://erp.example.com"
    assert resource["authorization_servers"] == ["https://erp.example.com"]


def test_challenge_shape_matches_sha256():
    digest = hashlib.sha256(b"anything").digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert oc.CHALLENGE_RE.match(challenge)


def test_redirect_origins():
    assert oc.redirect_origins(
        (
            "https://App.example.com/cb?x=1",
            "http://127.0.0.1:8400/cb",
            "com.example.app:/cb",
            "com.example.app://host/cb",
        )
    ) == {"https://app.example.com", "http://127.0.0.1:8400"}


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("https://app.example.com/cb", "app.example.com"),
        ("http://127.0.0.1:8400/callback", "127.0.0.1:8400"),
        ("com.example.app:/callback", "com.example.app"),
    ],
)
def test_the_consent_page_names_where_the_user_goes_back(uri, shown):
    assert oc.redirect_destination(uri) == shown
