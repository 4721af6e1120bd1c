"""The request value every route under ``/api/`` is served from.

The controller builds one :class:`ApiRequest` per HTTP request, with the
body already read within the configured limit, and hands it to the
pipeline. Nothing after that reads the HTTP request again: the body is
decoded once, on first use, by :attr:`ApiRequest.payload`.
"""

import json
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from urllib.parse import parse_qsl

from .exceptions import BadRequest, PayloadTooLarge
from .hygiene import check_json
from .messages import _lt

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(slots=True)
class Answer:
    """What the pipeline answers: JSON ``body`` (``None`` for no body), or
    an HTML page, or a binary ``stream`` (the file server's response, made
    by the pipeline) that the web layer sends as is."""

    status: int
    headers: dict = field(default_factory=dict)
    body: object = None
    html: str | None = None
    stream: object = None


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request under ``/api/``, as plain immutable data.

    ``path`` is what follows ``/api/``; ``headers`` has lower-case keys;
    ``query`` and ``form`` are tuples of ``(key, value)`` pairs (``form`` is
    ``None`` unless the body is a form); ``body`` is the raw body (empty for
    forms and when ``body_too_large``).
    """

    method: str
    path: str
    headers: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    query: tuple = ()
    form: tuple | None = None
    body: bytes = b""
    body_too_large: bool = False
    body_unreadable: bool = False
    session_uid: int | None = None
    host: str = ""
    remote_addr: str = ""
    force_test_mode: bool = False
    # What outlives Odoo's replay of the same HTTP request after a
    # serialization failure (the traffic policy's count): shared by the
    # attempts, never compared.
    attempt: dict = field(default_factory=dict, compare=False, repr=False)
    # The session's CSRF tokens (``token()`` and ``check(value)``), for the
    # consent form of the authorization endpoint; ``None`` without a session.
    csrf: object = None

    @classmethod
    def build(cls, method, path, headers=None, **values):
        """Build a request, normalizing header names and pair lists."""
        headers = {key.lower(): value for key, value in (headers or {}).items()}
        for key in ("query", "form"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(
            method=method.upper(),
            path=path,
            headers=MappingProxyType(headers),
            **values,
        )

    @property
    def content_type(self):
        return self.headers.get("content-type", "")

    @property
    def media_type(self):
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def unsafe(self):
        return self.method in UNSAFE_METHODS

    def check_body_size(self, limit):
        """The one 413 (a body over ``limit`` bytes was not read) and the
        400 of a body that could not be read. The pipeline checks it first,
        before anything reads :attr:`payload`."""
        if self.body_too_large:
            raise PayloadTooLarge(
                _lt("The body is larger than %(limit)s bytes", limit=limit)
            )
        if self.body_unreadable:
            raise BadRequest(
                _lt("The request body could not be read"), name="invalid_body"
            )

    @cached_property
    def payload(self):
        """The decoded body: ``("json", value)``, ``("form", pairs)`` or
        ``(None, None)``; empty when the body was over the limit (see
        :meth:`check_body_size`)."""
        if self.form is not None:
            return ("form", list(self.form)) if self.form else (None, None)
        return parse_body(self.body, self.content_type, self.method)


MAX_JSON_DEPTH = 32


def _depth(value, limit):
    """Nesting depth of a JSON value, iteratively (no recursion to exhaust)."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def parse_json(body):
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest(
            _lt("The body is not valid JSON"), name="invalid_json"
        ) from None
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadRequest(_lt("The JSON body is nested too deeply"), name="invalid_json")
    return check_json(value, _lt("A value of the body"))


def parse_body(body, content_type, method):
    """Decode a raw body into ``("json", value)`` or ``("form", pairs)``.

    An empty body gives ``(None, None)``.

    GET and DELETE need no Content-Type; a GET whose body is a form although
    it claims JSON (as some documented curl calls send) is read as a form.
    """
    if not body or not body.strip():
        return None, None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(
            _lt("The body is not UTF-8 text"), name="invalid_body"
        ) from None
    if media == "application/x-www-form-urlencoded":
        return "form", parse_form(text)
    looks_json = text.lstrip()[:1] in ("{", "[")
    form_like = method in ("GET", "DELETE") and not looks_json and "=" in text
    if media.endswith("json") or not media or looks_json:
        try:
            return "json", parse_json(text)
        except BadRequest:
            if form_like:
                return "form", parse_form(text)
            raise
    if form_like:
        return "form", parse_form(text)
    raise BadRequest(_lt("Unsupported body: send JSON"), name="unsupported_media_type")


def parse_form(text):
    """Decode an urlencoded form (text or bytes) into ``(key, value)`` pairs."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(
                _lt("The body is not UTF-8 text"), name="invalid_body"
            ) from None
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, max_num_fields=1000
        )
    except ValueError:
        raise BadRequest(
            _lt("The form body is malformed"), name="invalid_body"
        ) from None
    return check_json(pairs, _lt("A value of the form"))
