"""Safe retries and synchronisation, as pure functions.

Idempotency keys and request fingerprints, entity tags, the ``Prefer``
header (RFC 7240), opaque (encrypted) keyset cursors and ``changed_since``
timestamps.
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import re
import secrets

from .exceptions import BadRequest, ResyncRequired
from .messages import _lt

IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}\Z")
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# Stored answers kept per client and API (secure_api.idempotency_max_keys).
IDEMPOTENCY_MAX_KEYS = 1000
# 2: the position is the client-facing id; sealed with a server key.
CURSOR_VERSION = 2
# 3: also the position of the last removal delivered (APIs that sync
# deletions); version 2 cursors still read, as "no removal delivered yet".
CURSOR_VERSION_REMOVED = 3
MAX_CURSOR = 512
# Cursors are sealed: a random nonce, the encrypted payload, a MAC.
CURSOR_NONCE = 16
CURSOR_TAG = 16
# Removals a search without a cursor lists on its first page; more answer
# 410 (a walk with a cursor lists any number, page by page).
MAX_REMOVED = 10000
TOO_MANY_REMOVED = _lt(
    "More records were removed since 'changed_since' than one answer lists: "
    "walk the changes with a cursor (cursor=) to get them all"
)
_ISO_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(Z|[+-]00:?00)?\Z"
)


# ----------------------------------------------------------------------
# Idempotency
# ----------------------------------------------------------------------


def check_idempotency_key(value):
    """The key of an ``Idempotency-Key`` header, or 400 when malformed."""
    if not IDEMPOTENCY_KEY_RE.match(value or ""):
        raise BadRequest(
            _lt("Idempotency-Key takes 1 to 255 visible ASCII characters"),
            name="invalid_idempotency_key",
        )
    return value


def max_keys(text):
    """The ``secure_api.idempotency_max_keys`` setting: a positive number,
    or the default when unset or not a number (a typo must not stop every
    keyed write)."""
    try:
        return max(1, int(text)) if text else IDEMPOTENCY_MAX_KEYS
    except (TypeError, ValueError):
        return IDEMPOTENCY_MAX_KEYS


def key_hash(key):
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def fingerprint(method, path, query, body, form=None, headers=()):
    """What makes two requests "the same request" for an idempotency key."""
    digest = hashlib.sha256()
    for part in (
        method,
        path,
        json.dumps(list(query)),
        json.dumps(list(form or ())),
        json.dumps(list(headers)),
    ):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    digest.update(body or b"")
    return digest.hexdigest()


def lock_id(*parts):
    """A signed 64-bit number for ``pg_advisory_xact_lock``, from text."""
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# ----------------------------------------------------------------------
# Conditional requests
# ----------------------------------------------------------------------


def etag(config_version, rendered):
    """A strong entity tag of one record as an API renders it.

    A digest of the rendered record itself: it changes whenever anything the
    client sees changes (related values included, and the field selection),
    and with the API's configuration (``config_version``).
    """
    text = config_version + json.dumps(rendered, sort_keys=True, default=str)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def etag_matches(header, current, strong=False):
    """RFC 9110 13.1.1/13.1.2 comparison of an ``If-Match`` (``strong``:
    weak tags never match) or ``If-None-Match`` list (weak comparison) with
    the current tag, or ``None`` without the header."""
    if header is None:
        return None
    header = header.strip()
    if header == "*":
        return current is not None
    tags = [tag.strip() for tag in header.split(",")]
    if strong:
        return current is not None and current in tags
    return any((tag[2:] if tag.startswith("W/") else tag) == current for tag in tags)


def prefers_minimal(header):
    """Whether ``Prefer`` asks for ``return=minimal`` (RFC 7240: a list of
    preferences, each with optional parameters and a quoted value)."""
    for item in (header or "").split(","):
        preference = item.split(";", 1)[0].replace(" ", "").lower()
        if preference in ("return=minimal", 'return="minimal"'):
            return True
    return False


# ----------------------------------------------------------------------
# Keyset cursors and changes since
# ----------------------------------------------------------------------


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_binding(api_id, model, domain_text, changed_since):
    """What a cursor is bound to: the API, the model and the query."""
    return hashlib.sha256(
        json.dumps([api_id, model, domain_text or "", changed_since or ""]).encode()
    ).hexdigest()[:16]


def derive_key(server_secret, purpose, *context):
    """A key for one purpose (and, say, one API) derived from a server
    secret: HMAC-SHA256 of the purpose under the secret.

    Keys that sign what clients hold come from a secret no user of the
    database can read (Odoo's ``database.secret``), never from a value some
    users can (an API's Hashids salt is readable by its managers).
    """
    if not server_secret:
        raise ValueError("a derived key needs a server secret")
    label = "\x00".join(["secure_api", purpose, *map(str, context)])
    return hmac.new(server_secret.encode(), label.encode(), "sha256").digest()


def encode_cursor(key, binding, position, removed=None):
    """An opaque position for ``binding``, after the record whose
    client-facing id is ``position`` (its obfuscated id when the API
    obfuscates).

    ``removed``: on APIs that sync deletions, the position of the last
    removal delivered, ``(transaction id, row id)``: removals are walked in
    that order, and only those of finished transactions until the walk's
    last page, so that one committed late never falls behind a cursor.
    ``position`` may then be ``None`` (no record delivered yet).

    Encrypted, then authenticated (:func:`_seal`): a cursor shows nothing,
    neither database ids nor how many removals others made between two."""
    if removed is None:
        body = [CURSOR_VERSION, binding, position]
    else:
        body = [CURSOR_VERSION_REMOVED, binding, position, list(removed)]
    payload = json.dumps(body, separators=(",", ":")).encode()
    return _b64(_seal(key, payload))


def _cursor_keys(key):
    """The encryption and authentication keys of a cursor key."""
    return (
        hmac.new(key, b"secure_api cursor encryption", "sha256").digest(),
        hmac.new(key, b"secure_api cursor authentication", "sha256").digest(),
    )


def _keystream(key, nonce, size):
    """HMAC-SHA256 in counter mode over ``nonce``: ``size`` bytes."""
    blocks = (
        hmac.new(key, nonce + counter.to_bytes(4, "big"), "sha256").digest()
        for counter in range(-(-size // 32))
    )
    return b"".join(blocks)[:size]


def _xor(data, stream):
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def _seal(key, payload):
    """``nonce + ciphertext + tag``: ``payload`` encrypted with a keystream
    over a random 16-byte nonce, then a MAC over nonce and ciphertext
    (encrypt-then-MAC, with keys derived from ``key``; stdlib only)."""
    encryption, authentication = _cursor_keys(key)
    nonce = secrets.token_bytes(CURSOR_NONCE)
    sealed = nonce + _xor(payload, _keystream(encryption, nonce, len(payload)))
    return sealed + hmac.new(authentication, sealed, "sha256").digest()[:CURSOR_TAG]


def _unseal(key, data):
    """The payload of :func:`_seal`, or ``None`` when forged or altered."""
    if len(data) < CURSOR_NONCE + CURSOR_TAG:
        return None
    encryption, authentication = _cursor_keys(key)
    sealed, tag = data[:-CURSOR_TAG], data[-CURSOR_TAG:]
    expected = hmac.new(authentication, sealed, "sha256").digest()[:CURSOR_TAG]
    if not hmac.compare_digest(tag, expected):
        return None
    nonce, ciphertext = sealed[:CURSOR_NONCE], sealed[CURSOR_NONCE:]
    return _xor(ciphertext, _keystream(encryption, nonce, len(ciphertext)))


def _open_cursor(key, text):
    """The payload of a cursor: sealed (one base64 part), or signed only
    (``payload.signature``, made before cursors were encrypted: still read,
    so that walks running across the upgrade go on); ``None`` when
    forged or altered."""
    head, separator, tail = text.partition(".")
    try:
        if not separator:
            return _unseal(key, _unb64(text))
        payload, signature = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        return None
    expected = hmac.new(key, payload, "sha256").digest()[:16]
    return payload if hmac.compare_digest(signature, expected) else None


def decode_cursor(key, binding, text, decode=None, with_removed=False):
    """The position of a cursor made by :func:`encode_cursor` with the same
    key for the same query, through ``decode`` when given (the codec that
    made the client-facing id); 400 for anything else (forged, altered, of
    another query or API).

    ``with_removed``: ``(position, removal position)``, the latter
    ``(0, 0)`` for a cursor that carries none (made before the API synced
    deletions: none was delivered); a position of ``None`` is 0."""

    def refuse():
        return BadRequest(
            _lt("The cursor is not valid for this query"), name="invalid_cursor"
        )

    if not isinstance(text, str) or not text or len(text) > MAX_CURSOR:
        raise refuse()
    payload = _open_cursor(key, text)
    if payload is None:
        raise refuse()
    try:
        version, bound, position, *rest = json.loads(payload)
    except (ValueError, TypeError):
        raise refuse() from None
    removed = _removal_position(version, rest)
    if removed is None or bound != binding:
        raise refuse()
    if position is None and version == CURSOR_VERSION_REMOVED:
        position = 0
    elif isinstance(position, bool) or not isinstance(position, int | str):
        raise refuse()
    elif decode is not None:
        position = decode(position)
        if position is None:
            raise refuse()
    return (position, removed) if with_removed else position


def _removal_position(version, rest):
    """The removal position of a cursor's payload tail, or ``None`` when the
    payload is not one :func:`encode_cursor` makes."""
    if version == CURSOR_VERSION and not rest:
        return (0, 0)
    if version != CURSOR_VERSION_REMOVED or len(rest) != 1:
        return None
    pair = rest[0]
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(type(n) is int and n >= 0 for n in pair)
    ):
        return None
    return tuple(pair)


def check_retention(moment, now, days, since=None, purged=None):
    """410 ``resync_required`` when removals since ``moment`` (a
    ``changed_since``) may be missing: older than those kept ``days`` days
    before ``now``, than ``since`` (when the API started keeping them), or
    not after ``purged`` (the newest removal the purge forgot, so that a
    retention made longer later hides no purge)."""
    if (
        moment < now - datetime.timedelta(days=days)
        or (since is not None and moment < since)
        or (purged is not None and moment <= purged)
    ):
        raise ResyncRequired()


def parse_changed_since(value):
    """An ISO 8601 UTC timestamp as a naive UTC ``datetime``, or 400."""
    match = isinstance(value, str) and _ISO_RE.match(value.strip())
    if not match:
        raise BadRequest(
            _lt(
                "'changed_since' takes an ISO 8601 UTC timestamp, "
                "e.g. 2026-01-31T12:00:00Z"
            ),
            name="invalid_parameter",
        )
    try:
        moment = datetime.datetime.strptime(
            f"{match.group(1)} {match.group(2)}", "%Y-%m-%d %H:%M:%S"
        )
    except ValueError:
        raise BadRequest(
            _lt("'changed_since' is not a real date and time"),
            name="invalid_parameter",
        ) from None
    if match.group(3):
        moment = moment.replace(microsecond=int(match.group(3)[1:].ljust(6, "0")))
    return moment
