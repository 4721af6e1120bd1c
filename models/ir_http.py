import logging
import uuid

from odoo import models
from odoo.http import request

from ..core.exceptions import (
    Conflict,
    InternalError,
    is_retryable,
    render_error,
    to_api_error,
)
from ..core.messages import _lt
from ..core.request import Answer
from ..core.routing import DISCOVERY_ROUTES
from ..http_io import prepare_body, render

_logger = logging.getLogger(__name__)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        result = super()._pre_dispatch(rule, args)
        if rule.endpoint.routing.get("secure_api_body"):
            # Before Odoo parses a form body for the route's parameters, so
            # that a body over the limit is refused without being read whole.
            limit = request.env["secure.api"].sudo()._get_settings()["max_body"]
            prepare_body(request.httprequest, limit)
        return result

    @classmethod
    def _handle_error(cls, exception):
        """What escapes the pipeline under /api/ is still answered in JSON.

        The pipeline answers every error itself except the concurrency
        failures that Odoo retries; when Odoo gives up retrying, this answers
        409 (retry later) instead of Odoo's HTML page.
        """
        httprequest = getattr(request, "httprequest", None)
        path = httprequest.path if httprequest is not None else ""
        if not (path == "/api" or path.startswith("/api/") or path in DISCOVERY_ROUTES):
            return super()._handle_error(exception)
        request_id = uuid.uuid4().hex[:16]

        def answer_for(request_id):
            status, headers, body = render_error(exception, request_id)
            headers["X-Request-Id"] = request_id
            return Answer(status, headers, body)

        if is_retryable(exception):
            error, exception = (
                exception,
                Conflict(
                    _lt("Concurrent updates conflicted; retry the request"),
                    name="concurrent_update",
                    headers={"Retry-After": "1"},
                ),
            )
            # The 409 answers the request's last attempt: logged like any
            # other answer, under its API's level.
            engine = request.env["secure.api.engine"]
            return render(engine._log_abandoned(error, answer_for, request_id))
        if isinstance(to_api_error(exception), InternalError):
            # Only what nobody expected is logged: a client's bad request is
            # answered, not reported.
            _logger.error(
                "secure_api: request %s failed", request_id, exc_info=exception
            )
        return render(answer_for(request_id))
