"""Request body decoding, independent of the web framework."""

import json
from urllib.parse import parse_qsl

from .exceptions import BadRequest

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
        raise BadRequest("The body is not valid JSON", name="invalid_json") from None
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadRequest("The JSON body is nested too deeply", name="invalid_json")
    return value


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
        raise BadRequest("The body is not UTF-8 text", name="invalid_body") from None
    if media == "application/x-www-form-urlencoded":
        return "form", _parse_form(text)
    looks_json = text.lstrip()[:1] in ("{", "[")
    form_like = method in ("GET", "DELETE") and not looks_json and "=" in text
    if media.endswith("json") or not media or looks_json:
        try:
            return "json", parse_json(text)
        except BadRequest:
            if form_like:
                return "form", _parse_form(text)
            raise
    if form_like:
        return "form", _parse_form(text)
    raise BadRequest("Unsupported body: send JSON", name="unsupported_media_type")


def _parse_form(text):
    try:
        return parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, max_num_fields=1000
        )
    except ValueError:
        raise BadRequest("The form body is malformed", name="invalid_body") from None
