"""OAuth 2.0 request parsing (RFC 6749, 7009, 7662), framework-free."""

import base64
import binascii
from urllib.parse import unquote_plus

from .exceptions import OAuthError
from .messages import _lt


def parse_basic(header_value):
    """Decode HTTP Basic client credentials per RFC 6749 2.3.1.

    Both parts are form-urlencoded before base64, so ``:``, ``+`` and ``%``
    in a secret survive. Returns ``None`` for another scheme.
    """
    if not header_value:
        return None
    scheme, _sep, value = header_value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError(
            "invalid_request", _lt("Malformed Basic credentials")
        ) from None
    if ":" not in decoded:
        raise OAuthError("invalid_request", _lt("Malformed Basic credentials"))
    client_id, _sep, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


def client_credentials(params, authorization, query):
    """Return ``(client_id, secret, used_basic)`` from exactly one method.

    Refuses credentials in the URL and the use of two methods at once.
    """
    if any(
        key in ("client_secret", "client_id", "token", "access_token")
        for key, _v in query
    ):
        raise OAuthError(
            "invalid_request",
            _lt("Credentials and tokens are never accepted in the URL"),
        )
    basic = parse_basic(authorization)
    in_body = "client_id" in params or "client_secret" in params
    if basic and in_body:
        raise OAuthError(
            "invalid_request", _lt("Use one client authentication method, not two")
        )
    if basic:
        client_id, secret = basic
        if not is_credential(client_id) or not is_credential(secret):
            raise OAuthError(
                "invalid_client", _lt("Client authentication failed"), status=401
            )
        return client_id, secret, True
    client_id = params.get("client_id")
    secret = params.get("client_secret")
    if not is_credential(client_id) or not is_credential(secret):
        raise OAuthError(
            "invalid_client", _lt("Client authentication failed"), status=401
        )
    return client_id, secret, False


def is_credential(value):
    """Non-empty text that can be stored and compared: no NUL character, no
    lone surrogate (neither survives PostgreSQL or UTF-8)."""
    if not isinstance(value, str) or not value or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def requested_scope(text, allowed):
    """The granted scope: the request's (a subset of ``allowed``) or all of it."""
    from .tokens import normalize_scope

    if text is None or text == "":
        return allowed
    if not isinstance(text, str):
        raise OAuthError("invalid_scope", _lt("The scope must be text"))
    try:
        scope = normalize_scope(text)
    except ValueError:
        raise OAuthError("invalid_scope", _lt("Unknown scope requested")) from None
    if not set(scope.split()) <= set(allowed.split()):
        raise OAuthError(
            "invalid_scope", _lt("The requested scope exceeds the client's")
        )
    return scope
