"""The HTTP side of the boundary, shared by the controller and ``ir.http``
(which must not import ``controllers/``): a request's body, read once within
the size limit, and the response of an :class:`~.core.request.Answer`.

A body over the limit, or one that cannot be read (a malformed chunk, fewer
bytes than its ``Content-Length``), is only marked here (``body_too_large``,
``body_unreadable``): the pipeline answers its 413 or 400, in its first
step, like any other error.
"""

import io

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest
from werkzeug.formparser import FormDataParser

from odoo.http import request

from . import compat
from .core.exceptions import dumps

CHUNK = 65536


def _read_at_most(stream, limit):
    """Read the stream up to ``limit + 1`` bytes: enough to know it is too
    large without reading it whole (chunked bodies have no length)."""
    parts, size = [], 0
    while size <= limit:
        part = stream.read(min(CHUNK, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def prepare_body(httprequest, limit):
    """Read the body once, within ``limit``, before Odoo parses any form.

    Returns ``(too_large, unreadable, body bytes, form pairs or None)``,
    cached on the
    request so that Odoo's replay of the request after a serialization
    failure sees the same body. Odoo's own form parsing is fed the result,
    so no body is read twice and none over the limit is read whole.
    """
    cached = getattr(httprequest, "_secure_api_body", None)
    if cached is not None:
        return cached
    wrapped = compat.werkzeug_request(httprequest)
    length = httprequest.content_length
    too_large, unreadable = False, False
    body, form, files = b"", None, ImmutableMultiDict()
    if length is not None and length > limit:
        too_large = True
    else:
        try:
            body = _read_at_most(wrapped.stream, limit)
        except (OSError, ValueError, WerkzeugBadRequest):
            # werkzeug: "Invalid chunk header", a client that disconnects
            # before its Content-Length.
            unreadable = True
        too_large = len(body) > limit
    if too_large or unreadable:
        body = b""
    elif wrapped.mimetype == "multipart/form-data":
        # Urlencoded forms stay raw: the pipeline decodes them and answers
        # their errors. Multipart is decoded here by werkzeug's parser, which
        # does not raise (silent), within the same limit.
        parser = FormDataParser(max_form_memory_size=limit, max_content_length=limit)
        _stream, parsed, files = parser.parse(
            io.BytesIO(body), wrapped.mimetype, len(body), wrapped.mimetype_params
        )
        form = tuple(parsed.items(multi=True))
        body = b""
    # Odoo reads the route's parameters from these (the route ignores
    # them): hand it what was read, so that it reads the body no more.
    wrapped.__dict__["form"] = ImmutableMultiDict(list(form or ()))
    wrapped.__dict__["files"] = files
    wrapped._cached_data = body
    result = (too_large, unreadable, body, form)
    httprequest._secure_api_body = result
    return result


def render(answer):
    """The HTTP response of an :class:`~..core.request.Answer`."""
    headers = dict(answer.headers)
    if answer.stream is not None:
        response = answer.stream
        response.headers.update(headers)
        return response
    if answer.html is not None:
        headers["Content-Type"] = "text/html; charset=utf-8"
        return request.make_response(
            answer.html, headers=list(headers.items()), status=answer.status
        )
    if answer.body is None:
        response = request.make_response(
            "", headers=list(headers.items()), status=answer.status
        )
        # No body, so no media type (204, 304, redirects).
        response.headers.pop("Content-Type", None)
        return response
    headers.setdefault("Cache-Control", "no-store")
    headers["Content-Type"] = "application/json; charset=utf-8"
    return request.make_response(
        dumps(answer.body), headers=list(headers.items()), status=answer.status
    )
