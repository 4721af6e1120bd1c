"""The access log of the request path, without Odoo.

Which requests an API logs (:func:`effective_level`, :func:`wanted`), what a
row may hold (:func:`clean_path`, :func:`masked_body`, :func:`masked_headers`:
never a secret; :func:`storable_row`: nothing PostgreSQL refuses) and the
per-worker buffer the rows wait in until a flush writes them
(:class:`LogBuffer`).

Masking is structural, never a pattern searched in text: a body is kept
only when it parses (JSON, or an urlencoded form), with the values of
secret-looking keys masked; a header or query parameter keeps its value
only when it is on a list of harmless ones.
"""

import json
import re
import threading
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from .domain import parse_literal
from .exceptions import dumps
from .params import QUERY_PARAMS

NONE, ERRORS, ALL = "none", "errors", "all"
LEVELS = (NONE, ERRORS, ALL)
# Bodies are kept up to this many bytes each (UTF-8), then cut.
MAX_BODY_BYTES = 16 * 1024
# A path longer than this is cut: a row is evidence, not a copy of the request.
MAX_PATH_CHARS = 2048
MASK = "***"
# A JSON body nested deeper than this is not kept (as one that does not
# parse): no legitimate request nests so deep, and serialising it again
# could fail on Python's recursion limit, losing the row.
MAX_BODY_DEPTH = 64
# An aggregate's row lists at most this many ids of the records it read
# (its record_count says how many there were).
MAX_AGGREGATED_IDS = 10000

# Names of fields and form keys that hold secrets: passwords, client
# secrets, tokens of any kind, API keys. A name is secret when this is
# found in it (decoded), or when one of its parts (split on _ - . and
# spaces, and between camelCase words) is one of SECRET_PARTS: smtp_pass,
# employee_pin and licenseKey are secret, keyword and passenger are not.
SECRET_NAME_RE = re.compile(
    r"passw|passphrase|^pass$|pwd|secret|token|authori[sz]ation|api[-_]?key"
    r"|cookie|credential|private[-_]?key|^jwt$|assertion|code_verifier",
    re.IGNORECASE,
)
SECRET_PARTS = frozenset(
    {
        "apikey",
        "auth",
        "credential",
        "credentials",
        "jwt",
        "key",
        "otp",
        "pass",
        "passcode",
        "passwd",
        "password",
        "pin",
        "pwd",
        "secret",
        "token",
        "totp",
    }
)
_NAME_SEPARATORS_RE = re.compile(r"[\s_.\-]+")
_CAMEL_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# Headers whose values are kept as sent; any other header's value is masked.
KEPT_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-language",
        "content-length",
        "content-type",
        "host",
        "idempotency-key",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "pragma",
        "prefer",
        "range",
        "user-agent",
        "x-company-id",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
        "x-request-id",
    }
)
# Keys masked in request bodies whatever their value: a method call's
# positional arguments (see masked_body).
REQUEST_SECRET_NAMES = frozenset({"args"})
# Headers that are URLs: kept without credentials, query nor fragment.
URL_HEADERS = frozenset({"origin", "referer"})
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
# The schemes an Authorization header keeps (its credentials never).
AUTH_SCHEMES = frozenset({"basic", "bearer", "digest", "dpop", "negotiate", "ntlm"})
# The shape of each kept query parameter's value (the domain is parsed
# instead): a value of another shape is masked, as ``limit=1;token=Q``
# (``;`` separates parameters for some parsers) would otherwise hide a
# credential in a kept value.
_NAMES_RE = r"[\w.:, ]*"
QUERY_VALUE_SHAPES = {
    "fields": re.compile(_NAMES_RE),
    "order": re.compile(_NAMES_RE),
    "groupby": re.compile(_NAMES_RE),
    "measures": re.compile(_NAMES_RE),
    "limit": re.compile(r"\s*[+-]?\d{0,18}\s*"),
    "offset": re.compile(r"\s*[+-]?\d{0,18}\s*"),
    "count": re.compile(r"\w{0,20}"),
    "cursor": re.compile(r"[\w=-]*"),
    "changed_since": re.compile(r"[\w:.+ -]*"),
}
# Characters of a kept query value left unquoted: a domain stays readable.
_KEPT_QUERY_CHARS = "[](),'\":"
FORM_TYPE = "application/x-www-form-urlencoded"
_MEDIA_TYPE_RE = re.compile(r"[\w.+-]{1,60}/[\w.+-]{1,60}")
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


def is_secret_name(name, secret_names=frozenset()):
    """Whether a key or field name names a secret (see SECRET_PARTS), or
    is one of ``secret_names`` (aliases of secret fields)."""
    name = str(name)
    if name in secret_names:
        return True
    if SECRET_NAME_RE.search(name):
        return True
    return any(
        word.lower() in SECRET_PARTS
        for part in _NAME_SEPARATORS_RE.split(name)
        for word in _CAMEL_WORD_RE.findall(part)
    )


def secret_aliases(models_spec):
    """The client-facing names of secret fields in an API's models (a
    spec's ``models``): an alias hides the field's name from
    :func:`is_secret_name` (``password`` exposed as ``new_pass``)."""
    names = set()
    stack = [
        fspec for model in models_spec.values() for fspec in model.get("fields", ())
    ]
    while stack:
        fspec = stack.pop()
        if is_secret_name(fspec["name"]):
            names.add(fspec["alias"])
        stack.extend(fspec.get("lines") or ())
    return frozenset(names)


def clean_path(path, query, secret_names=frozenset()):
    """``/api/<path>`` with its query, cut at :data:`MAX_PATH_CHARS`.

    Only the API's own parameters (:data:`~.params.QUERY_PARAMS`) keep
    their values, and only values of their shape (:data:`QUERY_VALUE_SHAPES`;
    a domain's leaves on secret fields are masked); any other is masked, and
    a key without a value (which may be a credential itself) is masked whole.
    """
    text = "/api/" + path
    if query:
        pairs = []
        for key, value in query:
            if key == "domain":
                pairs.append(f"domain={_masked_domain_text(value, secret_names)}")
            elif key in QUERY_PARAMS:
                shape = QUERY_VALUE_SHAPES.get(key)
                if shape is None or not shape.fullmatch(value):
                    value = MASK
                pairs.append(f"{key}={quote(value, safe=_KEPT_QUERY_CHARS + '*')}")
            elif value == "":
                pairs.append(MASK)
            else:
                pairs.append(f"{quote(key, safe='[]')}={MASK}")
        text += "?" + "&".join(pairs)
    return text[:MAX_PATH_CHARS]


def bare_path(path, query):
    """The path with its query masked whole: what a row keeps when reading
    the query failed (a row is never lost to what a client sent)."""
    return ("/api/" + path + ("?" + MASK if query else ""))[:MAX_PATH_CHARS]


def _masked_domain_text(text, secret_names):
    """A query's domain as the log keeps it: as sent when no leaf names a
    secret field, its leaves' secret values masked when one does, masked
    whole when it does not parse (then it may hide anything)."""
    try:
        domain = parse_literal(text)
        masked = mask(domain, secret_names)
        if masked == [
            list(item) if isinstance(item, tuple) else item for item in domain
        ]:
            return quote(text, safe=_KEPT_QUERY_CHARS)
        return quote(dumps(masked), safe=_KEPT_QUERY_CHARS + "*")
    except Exception:  # noqa: BLE001 - any literal a client can write
        # A literal that parses may still not be written back (a dict with
        # tuple keys, an integer too long for str()): it may hide anything.
        return MASK


def _is_secret_leaf(item, secret_names):
    """Whether ``item`` is a domain leaf ``[path, operator, value]`` whose
    field path has a secret part (``password``, ``partner_id.x_pin``)."""
    return (
        len(item) == 3
        and isinstance(item[0], str)
        and isinstance(item[1], str)
        and any(is_secret_name(part, secret_names) for part in item[0].split("."))
        and item[2] not in (None, "", False)
    )


def mask(value, secret_names=frozenset()):
    """``value`` with the value of every secret-looking key masked, at any
    depth of dictionaries and lists.

    Walks with an explicit stack, never recursion: a body nested thousands
    deep is masked like any other (a RecursionError would lose its row).
    """
    root = [value]
    stack = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        item = holder[key]
        if isinstance(item, dict):
            copy = holder[key] = {}
            for name, sub in item.items():
                secret = is_secret_name(name, secret_names) and sub not in (None, "")
                copy[name] = MASK if secret else sub
                if not secret:
                    stack.append((copy, name))
        elif isinstance(item, list | tuple):
            copy = holder[key] = list(item)
            if _is_secret_leaf(copy, secret_names):
                # A domain leaf on a secret field: its value is the secret.
                copy[2] = MASK
            stack.extend((copy, index) for index in range(len(copy)))
    return root[0]


def too_deep(value, limit=MAX_BODY_DEPTH):
    """Whether ``value`` nests dictionaries and lists deeper than
    ``limit`` (measured without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list | tuple):
            if depth >= limit:
                return True
            stack.extend((sub, depth + 1) for sub in item)
    return False


def cut(text, limit=MAX_BODY_BYTES):
    """``text`` cut to at most ``limit`` UTF-8 bytes (never inside a
    character), with a marker when it was cut; made :func:`storable`."""
    text = storable(text)
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    marker = f"... [cut: {len(data)} bytes]"
    return data[: limit - len(marker)].decode("utf-8", "ignore") + marker


def masked_body(
    raw=b"",
    form=None,
    value=None,
    content_type="",
    method="POST",
    secret_names=frozenset(),
):
    """A request or response body as text for the log, masked and cut.

    In a request body (``raw`` or ``form``), ``args`` is masked wherever
    it is: a method call's positional arguments have no names to judge
    them by (``["old password", "new password"]``), and the request may
    never have been recognised as a call (a 404 or 405 of a method path).

    ``value`` is an already decoded JSON value (a response body); ``form``
    the pairs of a multipart form; ``raw`` the bytes of any other body,
    read as the pipeline reads it (:func:`_parsed`). A body that does not
    parse is not kept: ``<unparsed body: N bytes, media type>``.
    """
    if value is not None:
        if too_deep(value):
            return f"<unparsed body: nested deeper than {MAX_BODY_DEPTH}>"
        return cut(dumps(mask(value, secret_names)))
    secret_names = secret_names | REQUEST_SECRET_NAMES
    if form:
        pairs = [
            [key, MASK if is_secret_name(key, secret_names) else item]
            for key, item in form
        ]
        return cut(dumps(pairs))
    if not raw:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    kind, parsed = _parsed(raw, media, method)
    if kind == "json":
        return cut(dumps(mask(parsed, secret_names)))
    if kind == "form":
        pairs = [
            (key, MASK if is_secret_name(key, secret_names) else item)
            for key, item in parsed
        ]
        return cut(urlencode(pairs, safe="*"))
    media = media if _MEDIA_TYPE_RE.fullmatch(media) else "no content type"
    return f"<unparsed body: {len(raw)} bytes, {media}>"


def _parsed(raw, media, method):
    """``("json", value)``, ``("form", pairs)`` or ``(None, None)``: the
    body decoded as the pipeline decodes it (core.request.parse_body), but
    without refusing what it would refuse later (unstorable values)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, None
    if media != FORM_TYPE:
        try:
            value = json.loads(text)
            return (None, None) if too_deep(value) else ("json", value)
        except (ValueError, RecursionError):
            # A GET or DELETE without a content type may send a form.
            form_like = method in ("GET", "DELETE") and not media and "=" in text
            if not form_like:
                return None, None
    try:
        return "form", parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, max_num_fields=1000
        )
    except ValueError:
        return None, None


def masked_headers(headers):
    """Request headers as ``Name: value`` lines, cut like a body.

    Only :data:`KEPT_HEADERS` keep their values; an Authorization header
    keeps its scheme (``Authorization: Bearer ***``), a Referer or Origin
    its address without credentials nor query; any other value is masked.
    """
    lines = []
    for name, value in sorted(headers.items()):
        key, value = name.lower(), str(value)
        if key in CREDENTIAL_HEADERS:
            scheme = value.split(" ", 1)[0]
            value = f"{scheme} {MASK}" if scheme.lower() in AUTH_SCHEMES else MASK
        elif key in URL_HEADERS:
            value = _masked_url(value)
        elif key not in KEPT_HEADERS:
            value = MASK
        lines.append(f"{name}: {value}")
    return cut("\n".join(lines))


def _masked_url(value):
    """A URL without its credentials, query and fragment (``?***`` says
    there was one)."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    text = f"{parts.scheme}://{host}{port}{parts.path}"
    return text + "?" + MASK if parts.query or parts.fragment else text


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
