import base64
import json
import time

import jwt
import pytest

from core import tokens as t
from core.exceptions import Unauthorized, www_authenticate

KEY = t.generate_jwt_key()


def mint(**overrides):
    kwargs = dict(
        key=KEY,
        algorithm="HS256",
        issuer="iss",
        audience="aud",
        subject="client",
        scope="read search",
        lifetime=60,
    )
    kwargs.update(overrides)
    return t.jwt_encode(**kwargs)


def decode(token, **overrides):
    kwargs = dict(key=KEY, algorithm="HS256", issuer="iss", audience="aud", leeway=30)
    kwargs.update(overrides)
    return t.jwt_decode(token, **kwargs)


def test_random_values():
    assert len(t.generate_opaque_token()) >= 43
    assert len({t.generate_opaque_token() for _ in range(100)}) == 100
    assert len(bytes.fromhex(t.generate_jwt_key())) == 64
    token = t.generate_opaque_token()
    assert t.hash_token(token) != token and len(t.hash_token(token)) == 64
    assert token.startswith(t.token_prefix(token))
    assert t.token_prefix("eyJhbGciOi.x.y", "0123456789abcdef") == "jti:01234567"


def test_secret_hash_and_verify():
    secret = "a:b+c%d" + t.generate_secret()
    hashed = t.hash_secret(secret)
    assert secret not in hashed and hashed.startswith("$pbkdf2-sha256$")
    assert t.verify_secret(secret, hashed)
    assert not t.verify_secret(secret + "x", hashed)
    assert not t.verify_secret(secret, None)
    assert not t.verify_secret("", hashed)
    assert not t.verify_secret(secret, "garbage")


def test_jwt_round_trip_and_claims():
    token, claims = mint()
    decoded = decode(token)
    assert decoded["sub"] == "client" and decoded["scope"] == "read search"
    assert set(t.JWT_REQUIRED_CLAIMS) <= set(decoded)
    header, sub = t.jwt_unverified_subject(token)
    assert sub == "client" and header["alg"] == "HS256"


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_jwt_attacks_refused():
    token, claims = mint()
    head, payload, sig = token.split(".")
    cases = [
        _b64({"alg": "none", "typ": "JWT"}) + "." + payload + ".",
        mint(algorithm="HS512")[0],
        head
        + "."
        + _b64(dict(claims, scope="create read update delete search rpc"))
        + "."
        + sig,
        head + "." + payload + "." + ("A" if sig[0] != "A" else "B") + sig[1:],
        jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"}, KEY, algorithm="HS256"
        ),
        jwt.encode(dict(claims, exp=str(claims["exp"])), KEY, algorithm="HS256"),
        jwt.encode(dict(claims, nbf=int(time.time()) + 3600), KEY, algorithm="HS256"),
        jwt.encode(dict(claims, iat=int(time.time()) + 3600), KEY, algorithm="HS256"),
        jwt.encode(dict(claims, aud="other"), KEY, algorithm="HS256"),
        jwt.encode(dict(claims, iss="other"), KEY, algorithm="HS256"),
        jwt.encode(dict(claims, exp=int(time.time()) - 60), KEY, algorithm="HS256"),
        mint(key=t.generate_jwt_key())[0],
    ]
    for index, bad in enumerate(cases):
        with pytest.raises(Unauthorized):
            decode(bad)
            pytest.fail(f"case {index} accepted")


def test_leeway_is_honoured():
    token = jwt.encode(
        {
            "iss": "iss",
            "aud": "aud",
            "sub": "c",
            "scope": "",
            "jti": "j",
            "iat": int(time.time()) - 100,
            "exp": int(time.time()) - 10,
        },
        KEY,
        algorithm="HS256",
    )
    assert decode(token, leeway=30)["sub"] == "c"
    with pytest.raises(Unauthorized):
        decode(token, leeway=0)


def test_key_locating_headers_refused():
    for header in (
        {"jku": "http://127.0.0.1/keys"},
        {"kid": "../../etc"},
        {"x5u": "http://x"},
    ):
        token = jwt.encode({"sub": "c"}, KEY, algorithm="HS256", headers=header)
        with pytest.raises(Unauthorized):
            t.jwt_unverified_subject(token)
    with pytest.raises(Unauthorized):
        t.jwt_unverified_subject("not.a.jwt")


def test_bearer_parsing():
    assert t.parse_bearer(None) is None
    assert t.parse_bearer("Basic abc") is None
    assert t.parse_bearer("Bearer abc") == "abc"
    assert t.parse_bearer("bearer abc") == "abc"
    for bad in ("Bearer", "Bearer ", "Bearer a b", "Bearer  a"):
        with pytest.raises(Unauthorized):
            t.parse_bearer(bad)


def test_scope_and_header():
    assert t.normalize_scope("search read  read") == "read search"
    with pytest.raises(ValueError):
        t.normalize_scope("read admin")
    header = www_authenticate("insufficient_scope", 'needs "delete"', scope="delete")
    assert header.startswith('Bearer realm="secure_api"')
    assert 'error="insufficient_scope"' in header and 'scope="delete"' in header


def test_several_issuers_may_be_accepted():
    """The server's URL, and the issuer of JWTs issued before it was."""
    token = mint(issuer="secure_api:db")[0]
    assert decode(token, issuer=("https://erp.example.com", "secure_api:db"))
    with pytest.raises(Unauthorized):
        decode(token, issuer=("https://erp.example.com",))
    with pytest.raises(Unauthorized):
        decode(mint(issuer="https://evil.example.com")[0], issuer=("iss", "x"))


def test_no_issuer_given_accepts_any_issuer_text_but_needs_one():
    """The server checks its own JWTs by their signature: any ``iss`` it
    ever wrote (its URL changes with ``web.base.url``) is accepted."""
    assert decode(mint(issuer="http://old.example.com")[0], issuer=None)
    with pytest.raises(Unauthorized):
        decode(mint(issuer="")[0], issuer=None)
