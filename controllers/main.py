import uuid

from odoo import http
from odoo.http import request

from ..core.exceptions import dumps, error_payload

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def request_data(path):
    """The plain request dict the engine works on (see ``_handle``)."""
    httprequest = request.httprequest
    content_type = httprequest.headers.get("Content-Type", "")
    form = None
    if content_type.startswith("multipart/form-data") or content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        form = list(httprequest.form.items(multi=True))
        body = b""
    elif (httprequest.content_length or 0) > request.env[
        "secure.api"
    ].sudo()._get_settings()["max_body"]:
        # Refused before it is read: the engine answers 413.
        body = None
    else:
        # cache=True: Odoo replays the request after a serialization failure,
        # and the replay must see the same body.
        body = httprequest.get_data(cache=True)
    return {
        "method": httprequest.method,
        "path": path,
        "headers": {key.lower(): value for key, value in httprequest.headers.items()},
        "query": list(httprequest.args.items(multi=True)),
        "form": form,
        "body": body,
        "content_type": content_type,
        "session_uid": request.session.uid,
        "host": httprequest.host,
        "remote_addr": httprequest.remote_addr,
    }


def readonly_request(_controller, *_rule_and_args):
    """Safe methods run on a read-only cursor (a replica, where configured).

    Odoo 18 passes the controller; 19 also the rule and its arguments.

    Nothing on the read path writes: tokens are checked through caches and
    statistics are buffered in memory.
    """
    return request.httprequest.method in ("GET", "HEAD", "OPTIONS")


def render(status, headers, body):
    if body is None:
        return request.make_response("", headers=list(headers.items()), status=status)
    headers = dict(
        headers,
        **{
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "no-store",
        },
    )
    return request.make_response(
        dumps(body), headers=list(headers.items()), status=status
    )


class SecureApiController(http.Controller):
    @http.route(
        "/api/<path:subpath>",
        type="http",
        auth="none",
        methods=ALL_METHODS,
        csrf=False,
        save_session=False,
        readonly=readonly_request,
    )
    def api_dispatch(self, subpath, **_kwargs):
        engine = request.env["secure.api.engine"].sudo()
        return render(*engine._handle(request_data(subpath)))

    @http.route(
        "/api/image/<int:api_id>/<string:model>/<string:record_id>/<string:field>",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def api_binary(self, api_id, model, record_id, field, **_kwargs):
        engine = request.env["secure.api.engine"].sudo()
        request_id = uuid.uuid4().hex[:16]
        try:
            record, field = engine._binary(
                request_data(""), api_id, model, record_id, field
            )
            response = (
                request.env["ir.binary"]._get_stream_from(record, field).get_response()
            )
        except Exception as error:  # noqa: BLE001 - mapped like every API error
            status, headers, body = error_payload(
                engine._to_api_error(error, request_id), request_id
            )
            return render(status, dict(headers, **{"X-Request-Id": request_id}), body)
        response.headers["X-Request-Id"] = request_id
        return response
