"""The one boundary of ``/api/``: every route enters and leaves here.

The controller only builds the :class:`~..core.request.ApiRequest`, hands it
to the pipeline (``secure.api.engine._serve``) and renders the
:class:`~..core.request.Answer` it gets back.
"""

import logging
import uuid

from odoo import http
from odoo.http import request
from odoo.tools.misc import hmac as odoo_hmac

from .. import replica
from ..core import consistency
from ..core.exceptions import ApiError
from ..core.request import ApiRequest
from ..core.routing import DISCOVERY_ROUTES
from ..http_io import prepare_body, render

_logger = logging.getLogger(__name__)


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
    too_large, unreadable, body, form = prepare_body(httprequest, limit)
    return ApiRequest.build(
        httprequest.method,
        subpath,
        headers=dict(httprequest.headers.items()),
        query=httprequest.args.items(multi=True),
        form=form,
        body=body,
        body_too_large=too_large,
        body_unreadable=unreadable,
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
