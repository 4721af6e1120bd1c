"""Secrets and tokens: generation, hashing and JWT handling.

Client secrets and opaque tokens are 256-bit random strings. They are stored
only hashed: tokens with SHA-256 (they must be found by an indexed lookup),
client secrets with passlib. Because both are high-entropy random values,
no dictionary attack applies, so a modest PBKDF2 work factor protects them as
well as a slow one while keeping token issuance fast.
"""

import hashlib
import secrets
import time
import uuid

import jwt
from passlib.context import CryptContext

from .exceptions import Unauthorized
from .hygiene import text_problem
from .messages import _lt
from .operations import SCOPES

JWT_ALGORITHMS = ("HS256", "HS384", "HS512")
# Keys as long as the hash output (RFC 7518 3.2), in bytes.
JWT_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
JWT_REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "scope")

_secret_context = CryptContext(
    schemes=["pbkdf2_sha256"], pbkdf2_sha256__default_rounds=2000
)
# Verified against when the client is unknown, so that an unknown client_id
# and a wrong secret cost the same time.
_DUMMY_HASH = _secret_context.hash(secrets.token_urlsafe(32))


def generate_client_id():
    return secrets.token_hex(16)


def generate_secret():
    """A 256-bit random client secret, URL-safe."""
    return secrets.token_urlsafe(32)


def generate_opaque_token():
    """A 256-bit random bearer token, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def generate_jwt_key():
    """A random signing key as long as the largest hash output, hex text.

    64 random bytes suit HS256, HS384 and HS512 alike, so switching a client's
    algorithm never leaves it with a key shorter than its hash.
    """
    return secrets.token_hex(max(JWT_KEY_BYTES.values()))


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token, jti=None):
    """What the token list shows of a token: its start, or for a JWT (whose
    start is the same encoded header for all) the start of its ``jti``."""
    return f"jti:{jti[:8]}" if jti else token[:8]


def hash_secret(secret):
    return _secret_context.hash(secret)


def verify_secret(secret, secret_hash):
    """Check ``secret`` against ``secret_hash`` in constant-shaped time.

    With no hash (unknown client) the dummy hash is checked instead and the
    answer is always False.
    """
    if not isinstance(secret, str) or not secret or len(secret) > 512:
        _secret_context.verify("x", _DUMMY_HASH)
        return False
    if not secret_hash:
        _secret_context.verify(secret, _DUMMY_HASH)
        return False
    try:
        return _secret_context.verify(secret, secret_hash)
    except (ValueError, TypeError):
        return False


def normalize_scope(text):
    """Return the scope words of ``text`` in canonical order, refusing unknowns."""
    words = (text or "").split()
    unknown = [word for word in words if word not in SCOPES]
    if unknown:
        raise ValueError(unknown[0])
    return " ".join(scope for scope in SCOPES if scope in words)


def jwt_encode(*, key, algorithm, issuer, audience, subject, scope, lifetime, now=None):
    """Mint a JWT; returns ``(token, claims)``. Never puts secrets in claims."""
    if algorithm not in JWT_ALGORITHMS:
        raise ValueError("unsupported JWT algorithm")
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime),
        "jti": uuid.uuid4().hex,
        "scope": scope,
    }
    token = jwt.encode(claims, key, algorithm=algorithm, headers={"typ": "JWT"})
    return token, claims


def jwt_unverified_subject(token):
    """Read ``sub`` and the header without trusting them, to find the key.

    The result only selects which client's key and algorithm to verify with;
    :func:`jwt_decode` then pins that algorithm.
    """
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized(_lt("Malformed token"), name="invalid_token") from None
    if any(key in header for key in ("jku", "x5u", "jwk", "x5c", "kid", "crit")):
        # Key-locating headers are never followed: refuse them outright.
        raise Unauthorized(_lt("Unsupported token header"), name="invalid_token")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 128 or text_problem(sub):
        raise Unauthorized(_lt("Token has no valid subject"), name="invalid_token")
    return header, sub


def jwt_decode(token, *, key, algorithm, issuer, audience, leeway=30):
    """Verify a JWT with a pinned algorithm and required claims.

    ``issuer`` is the accepted ``iss``, a tuple of accepted ones, or
    ``None``: any non-empty text (the server's own tokens, proven by their
    signature, whatever its URL was when it issued them). Returns
    the claims, or raises :class:`Unauthorized` (``invalid_token``) with a
    message that says what failed and nothing secret.
    """
    issuers = (issuer,) if isinstance(issuer, str) else issuer and tuple(issuer)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            leeway=leeway,
            options={"require": list(JWT_REQUIRED_CLAIMS), "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized(_lt("The token expired"), name="invalid_token") from None
    except jwt.PyJWTError:
        raise Unauthorized(_lt("Invalid token"), name="invalid_token") from None
    # PyJWT accepts numeric strings for time claims; RFC 7519 says NumericDate.
    for claim in ("exp", "iat", "nbf"):
        value = claims.get(claim, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Unauthorized(_lt("Invalid token"), name="invalid_token")
    if claims["iat"] > time.time() + leeway:
        raise Unauthorized(_lt("Invalid token"), name="invalid_token")
    if not isinstance(claims.get("scope"), str) or not isinstance(
        claims.get("jti"), str
    ):
        raise Unauthorized(_lt("Invalid token"), name="invalid_token")
    iss = claims.get("iss")
    if not (iss and isinstance(iss, str)) or (issuers and iss not in issuers):
        raise Unauthorized(_lt("Invalid token"), name="invalid_token")
    return claims


def parse_bearer(header_value):
    """Extract the token from an ``Authorization`` header value.

    Returns ``None`` when the header is absent or uses another scheme, and
    raises :class:`Unauthorized` (``invalid_request``) when it is a malformed
    Bearer header.
    """
    if not header_value:
        return None
    parts = header_value.split(" ")
    if parts[0].lower() != "bearer":
        return None
    if len(parts) != 2 or not parts[1] or len(parts[1]) > 4096:
        raise Unauthorized(_lt("Malformed Bearer header"), name="invalid_request")
    return parts[1]
