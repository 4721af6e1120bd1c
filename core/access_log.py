"""The access log of the request path, without Odoo.

Which requests an API logs (:func:`effective_level`, :func:`wanted`), what a
row may hold (:func:`clean_path`, :func:`masked_body`, :func:`masked_headers`:
never a secret) and the per-worker buffer the rows wait in until a flush
writes them (:class:`LogBuffer`).
"""

import json
import re
import threading
from urllib.parse import quote

from .exceptions import dumps

NONE, ERRORS, ALL = "none", "errors", "all"
LEVELS = (NONE, ERRORS, ALL)
# Bodies are kept up to this many bytes each (UTF-8), then cut.
MAX_BODY_BYTES = 16 * 1024
# A path longer than this is cut: a row is evidence, not a copy of the request.
MAX_PATH_CHARS = 2048
MASK = "***"

# Names of fields, form keys, query parameters and headers that hold
# secrets: passwords, client secrets, tokens of any kind, API keys.
SECRET_NAME_RE = re.compile(
    r"passw|passphrase|^pass$|pwd|secret|token|authori[sz]ation|api[-_]?key"
    r"|cookie|credential|private[-_]?key|^jwt$|assertion|code_verifier",
    re.IGNORECASE,
)
# ``"name": "value"`` and ``name=value`` in a body that is neither JSON nor a
# form (cut or malformed): the value of a secret-looking name is masked.
_RAW_JSON_RE = re.compile(
    r'("(?P<name>[^"\\]{1,100})"\s*:\s*)"(?:[^"\\]|\\.)*("|$)', re.DOTALL
)
_RAW_PAIR_RE = re.compile(
    r"(?P<lead>(?:^|[&;\s?])(?P<name>[\w.\-\[\]]{1,100})=)[^&;\s]*"
)
_BEARER_RE = re.compile(r"(\b(?:bearer|basic)\s+)[\w\-.~+/=]+", re.IGNORECASE)
# What PostgreSQL refuses in a text value: NUL, and lone surrogates (text
# that is no valid UTF-8). One of them would fail the whole batch of a flush.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text):
    """``text`` with what PostgreSQL cannot store (NUL, lone surrogates)
    replaced by U+FFFD."""
    return _UNSTORABLE_RE.sub(REPLACEMENT, text)


def storable_row(row):
    """A row with every text value made :func:`storable`, in lists too:
    whatever a client sent, the row can be written."""

    def clean(value):
        if isinstance(value, str):
            return storable(value)
        if isinstance(value, list | tuple):
            return type(value)(clean(item) for item in value)
        return value

    return tuple(clean(value) for value in row)


def effective_level(api_level, client_level=None):
    """A client app's level when set, else its API's."""
    level = client_level or api_level or NONE
    return level if level in LEVELS else NONE


def wanted(level, status):
    """Whether a request answered ``status`` is logged at ``level``."""
    if level == ALL:
        return True
    return level == ERRORS and (status is None or status >= 400)


def is_secret_name(name):
    return bool(SECRET_NAME_RE.search(str(name)))


def clean_path(path, query):
    """``/api/<path>`` with its query, the values of secret-looking
    parameters masked; cut at :data:`MAX_PATH_CHARS`."""
    text = "/api/" + path
    if query:
        pairs = [
            f"{quote(key, safe='[]')}="
            + (MASK if is_secret_name(key) else quote(value, safe="[](),'\":"))
            for key, value in query
        ]
        text += "?" + "&".join(pairs)
    return text[:MAX_PATH_CHARS]


def mask(value):
    """``value`` with the value of every secret-looking key masked, at any
    depth of dictionaries and lists."""
    if isinstance(value, dict):
        return {
            key: MASK if is_secret_name(key) and item not in (None, "") else mask(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    return value


def mask_text(text):
    """Mask secrets in a text that could not be parsed: JSON-looking
    ``"name": "value"`` pairs, ``name=value`` pairs, and credentials after
    ``Bearer``/``Basic``."""

    def json_pair(match):
        if is_secret_name(match.group("name")):
            return f'{match.group(1)}"{MASK}"'
        return match.group(0)

    def form_pair(match):
        if is_secret_name(match.group("name")):
            return match.group("lead") + MASK
        return match.group(0)

    text = _RAW_JSON_RE.sub(json_pair, text)
    text = _RAW_PAIR_RE.sub(form_pair, text)
    return _BEARER_RE.sub(r"\1" + MASK, text)


def cut(text, limit=MAX_BODY_BYTES):
    """``text`` cut to at most ``limit`` UTF-8 bytes (never inside a
    character), with a marker when it was cut; made :func:`storable`."""
    text = storable(text)
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    marker = f"... [cut: {len(data)} bytes]"
    return data[: limit - len(marker)].decode("utf-8", "ignore") + marker


def masked_body(raw=b"", form=None, value=None):
    """A request or response body as text for the log, masked and cut.

    ``value`` is an already decoded JSON value (a response body); ``form``
    the pairs of a form body; ``raw`` the bytes of any other body.
    """
    if value is not None:
        return cut(dumps(mask(value)))
    if form:
        pairs = [[key, MASK if is_secret_name(key) else item] for key, item in form]
        return cut(dumps(pairs))
    if not raw:
        return False
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return cut(mask_text(text))
    return cut(dumps(mask(parsed)))


def masked_headers(headers):
    """Request headers as ``Name: value`` lines, credentials masked
    (``Authorization: Bearer ***``), cut like a body."""
    lines = []
    for name, value in sorted(headers.items()):
        if name.lower() in ("authorization", "proxy-authorization"):
            scheme = str(value).split(" ", 1)[0] if " " in str(value) else ""
            value = f"{scheme} {MASK}".strip()
        elif is_secret_name(name):
            value = MASK
        else:
            value = mask_text(str(value))
        lines.append(f"{name}: {value}")
    return cut("\n".join(lines))


class LogBuffer:
    """Rows waiting in one worker for a flush, in arrival order.

    :meth:`add` is the request path's only cost: an append under a lock.
    :meth:`drain` hands every row to the flush; :meth:`restore` puts them
    back, in front, when the flush failed, so that none is lost.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._rows = []

    def add(self, row):
        with self._lock:
            self._rows.append(row)

    def drain(self):
        with self._lock:
            rows, self._rows = self._rows, []
        return rows

    def restore(self, rows):
        with self._lock:
            self._rows[:0] = rows

    def __len__(self):
        with self._lock:
            return len(self._rows)
