"""The one boundary of ``/api/``: every route enters and leaves here.

The controller only builds the :class:`~..core.request.ApiRequest`, hands it
to the pipeline (``secure.api.engine._serve``) and renders the
:class:`~..core.request.Answer` it gets back.
"""

import io
import logging
import uuid

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.formparser import FormDataParser

from odoo import http
from odoo.http import request
from odoo.tools.misc import hmac as odoo_hmac

from .. import compat, replica
from ..core import consistency
from ..core.exceptions import ApiError, dumps
from ..core.request import ApiRequest
from ..core.routing import DISCOVERY_ROUTES

_logger = logging.getLogger(__name__)

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

    Returns ``(too_large, body bytes, form pairs or None)``, cached on the
    request so that Odoo's replay of the request after a serialization
    failure sees the same body. Odoo's own form parsing is fed the result,
    so no body is read twice and none over the limit is read whole.
    """
    cached = getattr(httprequest, "_secure_api_body", None)
    if cached is not None:
        return cached
    wrapped = compat.werkzeug_request(httprequest)
    length = httprequest.content_length
    too_large, body, form, files = False, b"", None, ImmutableMultiDict()
    if length is not None and length > limit:
        too_large = True
    else:
        body = _read_at_most(wrapped.stream, limit)
        too_large = len(body) > limit
    if too_large:
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
    result = (too_large, body, form)
    httprequest._secure_api_body = result
    return result


class SessionCsrf:
    """Odoo's CSRF tokens of the current session, for the consent form."""

    __slots__ = ()

    def token(self):
        return request.csrf_token()

    def check(self, value):
        return isinstance(value, str) and bool(value) and request.validate_csrf(value)


def build_request(subpath):
    """The request value of the current HTTP request."""
    httprequest = request.httprequest
    limit = request.env["secure.api"].sudo()._get_settings()["max_body"]
    too_large, body, form = prepare_body(httprequest, limit)
    return ApiRequest.build(
        httprequest.method,
        subpath,
        headers=dict(httprequest.headers.items()),
        query=httprequest.args.items(multi=True),
        form=form,
        body=body,
        body_too_large=too_large,
        session_uid=request.session.uid,
        host=httprequest.host,
        remote_addr=httprequest.remote_addr,
        attempt=_attempt_memo(httprequest),
        csrf=SessionCsrf(),
    )


def _attempt_memo(httprequest):
    """The memo that Odoo's replays of this HTTP request share."""
    memo = getattr(httprequest, "_secure_api_attempt", None)
    if memo is None:
        memo = httprequest._secure_api_attempt = {}
    return memo


def readonly_request(_controller, *_rule_and_args):
    """Safe methods run on a read-only cursor (a replica, where configured).

    Odoo 18 passes the controller; 19 also the rule and its arguments.

    Nothing on the read path writes: statistics are buffered in memory. What
    decides who may do what is read on the primary all the same (token rows,
    cached configuration: see ``replica``); records are read on the replica,
    unless the request sends a consistency token its replica has not
    replayed yet (see :func:`serve`).
    """
    return request.httprequest.method in ("GET", "HEAD", "OPTIONS")


def consistency_key(env):
    """The key consistency tokens are signed with, from the database secret."""
    return odoo_hmac(env(su=True), "secure_api.consistency_token", "key").encode()


def requested_position(env, req):
    """The WAL position a read asks to see (``pg_lsn`` text), or ``None``.

    Raises :class:`~..core.exceptions.BadRequest` for a token this database
    did not issue. Writes ignore it: they run on the primary.
    """
    if req.method not in ("GET", "HEAD"):
        return None
    token = consistency.requested(req.headers, req.query)
    if token is None:
        return None
    return consistency.lsn_text(consistency.decode(token, consistency_key(env)))


def stamp_consistency_token(env, response):
    """Answer the position of this write's commit in ``X-Consistency-Token``.

    Taken once the transaction committed (a post-commit hook, which runs
    before the response is sent): the WAL insert position then is at or
    after the end of the commit record, so a replica that replayed it sees
    the write. A position read before the commit would precede the commit
    record. If it cannot be read, the header is left out: the write itself
    succeeded.
    """
    cr, key = env.cr, consistency_key(env)

    def stamp():
        try:
            position = replica.current_position(cr)
        except Exception:  # noqa: BLE001 - committed already: answer it anyway
            _logger.warning("secure_api: no consistency token", exc_info=True)
            return
        response.headers[consistency.HEADER] = consistency.encode(position, key)

    replica.after_commit(cr, stamp)


def serve(env, req):
    """The answer of ``req``, read where its consistency token allows."""
    try:
        position = requested_position(env, req)
    except ApiError as error:
        request_id = uuid.uuid4().hex[:16]
        engine = env["secure.api.engine"].sudo()
        answer = engine._error_answer(error, request_id, "envelope", req)
        answer.headers["X-Request-Id"] = request_id
        return answer
    wait_ms = 0
    if position is not None:
        wait_ms = env["secure.api"].sudo()._get_settings()["consistency_wait_ms"]
    with replica.consistent_env(env, position, wait_ms) as served_env:
        with replica.request_scope(served_env):
            return served_env["secure.api.engine"].sudo()._serve(req)


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


class SecureApiController(http.Controller):
    # Every path and method under /api/ is answered here, in JSON: unknown
    # ones with the pipeline's 404 and 405.
    @http.route(
        ["/api", "/api/", "/api/<path:subpath>"],
        type="http",
        auth="none",
        methods=None,
        csrf=False,
        save_session=False,
        readonly=readonly_request,
        secure_api_body=True,
    )
    def api_dispatch(self, subpath="", **_kwargs):
        req = build_request(subpath)
        answer = serve(request.env, req)
        response = render(answer)
        if req.unsafe and answer.status < 400:
            stamp_consistency_token(request.env, response)
        return response

    # OAuth discovery (RFC 8414, RFC 9728) lives at the server's root, outside
    # /api/, but is served by the same pipeline, in JSON, errors included.
    @http.route(
        list(DISCOVERY_ROUTES),
        type="http",
        auth="none",
        methods=None,
        csrf=False,
        save_session=False,
        readonly=readonly_request,
        secure_api_body=True,
    )
    def oauth_discovery(self, **_kwargs):
        path = request.httprequest.path
        engine = request.env["secure.api.engine"].sudo()
        return render(engine._serve(build_request(path), DISCOVERY_ROUTES[path]))
