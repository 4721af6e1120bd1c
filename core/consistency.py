"""Consistency tokens: read-your-writes behind read replicas.

Every write answers ``X-Consistency-Token``: the position in PostgreSQL's
write-ahead log (an LSN, a 64-bit byte offset) at or after its commit. A GET
that sends the token back is served only by a cursor that has replayed that
position (see ``replica.consistent_env``), so it sees the write.

To clients the token is opaque: the version, the position and a truncated
HMAC of both, in base64url. The HMAC means a client can only send back
positions this database handed out, so a made-up far-future position cannot
make every request wait for the longest time.
"""

import base64
import binascii
import hashlib
import hmac
import re
import struct

from .exceptions import BadRequest
from .messages import _lt

HEADER = "X-Consistency-Token"
PARAMETER = "consistent_after"
VERSION = 1
MAC_SIZE = 12
PAYLOAD = struct.Struct(">BQ")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


def _mac(key, payload):
    return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_SIZE]


def _invalid():
    return BadRequest(
        _lt("Invalid consistency token: send back one this server answered"),
        name="invalid_consistency_token",
    )


def encode(position, key):
    """The token of WAL ``position`` (an int), signed with ``key`` (bytes)."""
    payload = PAYLOAD.pack(VERSION, position)
    raw = payload + _mac(key, payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(token, key):
    """The WAL position ``token`` carries; :class:`BadRequest`
    (``invalid_consistency_token``) for anything this server did not issue."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise _invalid()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if len(raw) != PAYLOAD.size + MAC_SIZE:
        raise _invalid()
    payload, mac = raw[: PAYLOAD.size], raw[PAYLOAD.size :]
    version, position = PAYLOAD.unpack(payload)
    if version != VERSION or not hmac.compare_digest(mac, _mac(key, payload)):
        raise _invalid()
    return position


def requested(headers, query):
    """The token a request sends back, or ``None``: the header or the
    ``consistent_after`` parameter (once; both only if they agree).

    ``headers`` has lower-case names; ``query`` is a sequence of pairs.
    """
    values = [value for name, value in query if name == PARAMETER]
    header = headers.get(HEADER.lower())
    if header is not None:
        values.append(header.strip())
    if not values:
        return None
    if len(set(values)) != 1:
        raise BadRequest(
            _lt(
                "Send one consistency token, in the %(header)s header or the "
                "%(parameter)s parameter",
                header=HEADER,
                parameter=PARAMETER,
            ),
            name="invalid_consistency_token",
        )
    return values[0]


def lsn_text(position):
    """PostgreSQL's text form of an LSN (``pg_lsn``): ``"16/B374D848"``."""
    if not 0 <= position < 1 << 64:
        raise ValueError(_lt("An LSN is an unsigned 64-bit integer"))
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"
