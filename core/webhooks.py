"""Webhook deliveries, as pure functions: signatures, retry schedule,
destination checks and payloads.

The signature follows Stripe's and the Standard Webhooks scheme:
``X-Secure-Api-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
with the subscription's secret, so a receiver checks both the origin and the
freshness of each delivery.
"""

import hashlib
import hmac
import ipaddress
import json
import random
import secrets
from urllib.parse import urlsplit

from .messages import _lt

EVENTS = ("create", "update", "delete")
TIMEOUT_SECONDS = 10
# A delivery run lasts at most this long (the job runs every minute), and a
# subscription whose receiver has taken its share of a run waits for the
# next one, so that a slow receiver never holds back the others' deliveries.
RUN_SECONDS = 50
SUBSCRIPTION_SHARE_SECONDS = 5
# Retried with exponential backoff for at least this long, then paused.
RETRY_WINDOW_SECONDS = 24 * 3600
MAX_RESPONSE_BYTES = 65536


def generate_secret():
    return "whsec_" + secrets.token_urlsafe(32)


def parse_events(text):
    """The events of a subscription, from text like ``create, update``."""
    words = [word for word in (text or "").replace(",", " ").split() if word]
    unknown = [word for word in words if word not in EVENTS]
    if unknown or not words:
        raise ValueError(unknown[0] if unknown else "no event")
    return tuple(event for event in EVENTS if event in words)


def sign(secret, timestamp, body):
    """The ``X-Secure-Api-Signature`` header value of ``body`` (bytes)."""
    message = f"{int(timestamp)}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"


def verify(secret, header, body, now, tolerance=300):
    """Check a signature header as a receiver would (used by the tests and
    shown in docs/contract.md)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def next_delay(attempt, rng=random):
    """Seconds before retry ``attempt`` (1-based): exponential from 30 s,
    capped at 2 hours, with up to 20 % of jitter."""
    base = min(30 * 2 ** max(attempt - 1, 0), 7200)
    return base * (1 + 0.2 * rng.random())


def destination_problem(url, addresses, allow_private=False):
    """Why a delivery may not go to ``url`` resolving to ``addresses``, or
    ``None``. Only ``https`` to public addresses, unless private ones are
    allowed (development and tests)."""
    url = url or ""
    if any(char in url for char in "\\ ") or any(
        ord(c) < 33 or ord(c) == 127 for c in url
    ):
        # Parsers disagree on these (a backslash ends the host for HTTP
        # clients, not for urlsplit): refused rather than interpreted.
        return _lt("the URL holds spaces, control characters or backslashes")
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_private else ("https",)):
        return _lt("the URL must use https")
    if "@" in parts.netloc:
        return _lt("the URL may not hold a user name or password")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port when it is read
    except ValueError:
        return _lt("the URL's port is not a number between 0 and 65535")
    if not parts.hostname:
        return _lt("the URL has no host")
    if not addresses:
        return _lt("the host does not resolve")
    if allow_private:
        return None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not _public(ip):
            return _lt(
                "the host resolves to a non-public address (%(address)s)",
                address=str(ip),
            )
    return None


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _public(ip):
    """Whether ``ip`` and every IPv4 address it carries (mapped, 6to4,
    IPv4-compatible, NAT64) are global unicast addresses."""
    if (
        not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or getattr(ip, "is_site_local", False)
    ):
        return False
    if ip.version == 6:
        embedded = [ip.ipv4_mapped, ip.sixtofour]
        value = int(ip)
        if value >> 32 == 0:  # ::a.b.c.d, IPv4-compatible
            embedded.append(ipaddress.IPv4Address(value))
        if ip in NAT64:
            embedded.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
        return all(_public(v4) for v4 in embedded if v4 is not None)
    return True


def encode_record(record):
    """An event's record as it is stored when the event happens: JSON text."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)


def body(event_id, event, api_route, occurred_at, record_text):
    """The JSON body of a delivery, as bytes: the envelope around the record
    text stored when the event happened, which is sent as it was stored."""
    envelope = json.dumps(
        {
            "id": event_id,
            "event": event,
            "api": api_route,
            "occurred_at": occurred_at,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return f'{envelope[:-1]},"record":{record_text}}}'.encode()


def payload(event_id, event, api_route, occurred_at, record):
    """The JSON body of a delivery of ``record`` (a dict), as bytes."""
    return body(event_id, event, api_route, occurred_at, encode_record(record))


def pinned(url, address):
    """``url`` rewritten to connect to ``address`` (one of the addresses the
    destination check accepted) and the ``Host`` header naming the original
    host, so that no second DNS lookup can move the delivery elsewhere (DNS
    rebinding). TLS still verifies the certificate against the name."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    # No user info: destination_problem refuses it, and it is never copied.
    netloc = f"{host}:{parts.port}" if parts.port else host
    host_header = parts.hostname if not parts.port else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:
        host_header = host_header.replace(parts.hostname, f"[{parts.hostname}]", 1)
    return parts._replace(netloc=netloc).geturl(), host_header
