"""The request pipeline: one request value in, one answer out.

Every route under ``/api/`` (REST, binary, token server, documents) is served
by :meth:`SecureApiEngine._serve`, which runs the same steps for all of them,
each in one place: resolve the API and the operation (with its switch and
endpoint), authenticate and check the client's current state, scope and
CSRF, switch to the execution user, run the operation, render. Errors of any
step leave through :func:`~..core.exceptions.render_error`; statistics and
``X-Request-Id`` are added here, once.

The steps live in files of their own, as extensions of this model:
``secure_api_engine_auth`` (credentials and the execution user),
``secure_api_engine_read`` (search, read, binary), ``secure_api_engine_write``
(create, update, delete), ``secure_api_engine_rpc`` and
``secure_api_engine_log`` (the access log).
"""

import logging
import time
import uuid
from dataclasses import dataclass, field

from werkzeug.exceptions import RequestedRangeNotSatisfiable

from odoo import api, models

from .. import hooks, i18n_messages
from ..core import cors as core_cors
from ..core import docs as core_docs
from ..core import operations, routing
from ..core import tokens as core_tokens
from ..core.exceptions import (
    InternalError,
    MethodNotAllowed,
    NotFound,
    RangeNotSatisfiable,
    envelope,
    is_retryable,
    render_error,
    to_api_error,
)
from ..core.hashid import codec as hashid_codec
from ..core.messages import _lt, negotiate_language
from ..core.params import collect_params
from ..core.request import Answer

_logger = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class _TestModeRollback(Exception):
    """Raised inside the write savepoint to roll a test-mode request back."""

    def __init__(self, payload):
        super().__init__("test mode")
        self.payload = payload


@dataclass(slots=True)
class Call:
    """Everything resolved about one request, handed between the steps."""

    request: object
    spec: dict | None = None
    model: str | None = None
    model_spec: dict | None = None
    operation: str | None = None
    record_id: str | None = None
    # The RPC method, or the binary field, named by the path.
    method: str | None = None
    env: object = None
    principal: dict | None = None
    params: dict = field(default_factory=dict)
    body: object = None
    codecs: dict = field(default_factory=dict)
    test_mode: bool = False
    # Whether the operation began its work (see _begin): what an
    # Idempotency-Key stores depends on it.
    started: bool = False
    # Headers every answer of this request carries (CORS, test mode), and
    # those of its successful answer only (ETag, Location, ...).
    headers: dict = field(default_factory=dict)
    result_headers: dict = field(default_factory=dict)
    # The ids of the records the request returned, wrote or deleted, while
    # its access log wants them (see secure_api_engine_log); else None.
    touched: list | None = None
    # Likewise "model,id" of the records of other models that the answer
    # shows through related fields, and the number of records an aggregate
    # read when ``touched`` holds only the first of them.
    related: list | None = None
    touched_total: int | None = None

    def codec_for(self, model):
        codec = self.codecs.get(model)
        if codec is None:
            spec = self.spec
            codec = self.codecs[model] = hashid_codec(
                spec["obfuscate"], spec["salt"], model, spec["min_length"]
            )
        return codec

    @property
    def app(self):
        return self.principal and self.principal.get("app")


class SecureApiEngine(models.AbstractModel):
    _name = "secure.api.engine"
    _description = "Secure API request pipeline"

    # ------------------------------------------------------------------
    # The boundary
    # ------------------------------------------------------------------

    @api.model
    def _serve(self, req, kind=None):
        """Serve one :class:`~..core.request.ApiRequest`; return an
        :class:`~..core.request.Answer`.

        ``kind`` names a route outside /api/ (``routing.DISCOVERY_ROUTES``);
        under /api/ the path decides. Never raises, except the PostgreSQL
        concurrency errors that Odoo's request retry loop must see.
        """
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        kind = kind or routing.fixed_route(req.path) or "rest"
        style = "oauth" if kind in routing.TOKEN_ROUTES else "envelope"
        call = Call(request=req)
        answer = None
        # Odoo's log of a failed query is dropped while an API request is
        # served: the pipeline answers it (see hooks.AnsweredQueryFilter).
        hooks.SERVING.active = True
        try:
            # The limit is read only to say it (the controller applied it).
            if req.body_too_large or req.body_unreadable:
                if kind == "rest":
                    self._note_api(call)
                req.check_body_size(self.env["secure.api"]._get_settings()["max_body"])
            answer = getattr(self, f"_serve_{kind}")(call)
        except Exception as error:  # noqa: BLE001 - every error becomes an answer
            if is_retryable(error):
                # Odoo replays the request: only the replay is counted and
                # logged. When Odoo gives up, ir.http answers 409 and logs
                # this attempt with it (see _log_abandoned).
                error.secure_api_attempt = (self, call, call.spec, started, request_id)
                call.spec = None
                raise
            answer = self._error_answer(error, request_id, style, req)
        finally:
            hooks.SERVING.active = False
            self._count(call, started, answer)
            self._log_call(call, started, answer, request_id)
        answer.headers.update(call.headers)
        answer.headers["X-Request-Id"] = request_id
        if style == "oauth":
            answer.headers.update(NO_STORE)
        return answer

    def _error_answer(self, error, request_id, style, req=None):
        api_error = to_api_error(error)
        if isinstance(api_error, InternalError):
            # The client sees the request id only; the details stay here.
            _logger.error("secure_api: request %s failed", request_id, exc_info=error)
        lang = None
        if req is not None and style == "envelope":
            lang = negotiate_language(
                req.headers.get("accept-language"),
                [code for code, _name in self.env["res.lang"].get_installed()],
            )
        status, headers, body = render_error(
            api_error, request_id, style, gettext=i18n_messages.gettext(lang)
        )
        if lang:
            headers["Content-Language"] = lang.replace("_", "-")
        return Answer(status, headers, body)

    def _count(self, call, started, answer):
        spec = call.spec
        if not spec or not spec["statistics"] or not call.operation:
            return
        switch = operations.get(call.operation).switch
        endpoint = spec["endpoints"].get(switch)
        app = call.app
        self.env["secure.api.statistic"]._record_call(
            spec["id"],
            endpoint and endpoint["id"],
            app and app["id"],
            (time.perf_counter() - started) * 1000.0,
            answer is None or answer.status >= 400,
        )

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    def _serve_rest(self, call):
        req = call.request
        api_id, rest = routing.split_route(
            req.path, self.env["secure.api"]._get_route_map()
        )
        self._resolve_api(call, api_id)
        if call.spec["multi_model"]:
            if not rest or rest[0] not in call.spec["models"]:
                raise NotFound(_lt("Unknown route"), name="unknown_route")
            model, rest = rest[0], rest[1:]
        else:
            model = call.spec["model"]
        if req.method == "OPTIONS":
            return self._preflight(call, rest)
        operation, call.record_id, call.method = routing.operation_for(req.method, rest)
        self._resolve_operation(call, model, operation, routing.shape_of(rest))
        return self._run(call)

    def _serve_binary(self, call):
        api_id, model, call.record_id, call.method = routing.binary_parts(
            call.request.path
        )
        if api_id not in self.env["secure.api"]._get_route_map().values():
            raise NotFound(_lt("Unknown route"), name="unknown_route")
        self._resolve_api(call, api_id)
        if call.request.method == "OPTIONS":
            return self._preflight(call, None, shape="binary")
        if call.request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(("GET", "HEAD", "OPTIONS"))
        self._resolve_operation(call, model, "binary", "binary")
        status, stream = self._op_binary(call)
        # The file server's response is made here, in the pipeline, so that
        # the Range it refuses is answered, counted and logged like any error.
        try:
            response = stream.get_response()
        except RequestedRangeNotSatisfiable as error:
            raise RangeNotSatisfiable(error.length) from error
        return Answer(status, stream=response)

    def _serve_token(self, call):
        return self._serve_oauth(call, "token")

    def _serve_jwt(self, call):
        return self._serve_oauth(call, "jwt")

    def _serve_revoke(self, call):
        return self._serve_oauth(call, "revoke")

    def _serve_introspect(self, call):
        return self._serve_oauth(call, "introspect")

    def _serve_oauth(self, call, kind):
        status, body = self.env["secure.api.oauth"]._serve(kind, call.request)
        return Answer(status, body=body)

    def _serve_openapi(self, call):
        """The document of every active API (public setting or managers), or,
        with a Bearer token, of what that client app may call."""
        documents = self.env["secure.api"]
        token = core_tokens.parse_bearer(call.request.headers.get("authorization"))
        if call.request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(("GET", "HEAD"))
        if token:
            leeway = documents._get_settings()["jwt_leeway"]
            found = (
                self.env["secure.api.token"].sudo()._authenticate_bearer(token, leeway)
            )
            self._check_address(found["app"], call.request)
            specs = documents._specs_for_app(
                documents._doc_specs(), found["app"], found["scope"]
            )
            return Answer(200, body=documents._openapi_for_specs(specs))
        if not documents._documents_allowed(call.request):
            raise NotFound(_lt("Unknown route"), name="unknown_route")
        return Answer(200, body=documents.get_openapi_document())

    def _serve_docs(self, call):
        documents = self.env["secure.api"]
        if not documents._documents_allowed(call.request):
            if not call.request.session_uid and "text/html" in call.request.headers.get(
                "accept", ""
            ):
                # A browser is sent to the login page, and back here after.
                return Answer(302, {"Location": "/web/login?redirect=/api/docs"})
            raise NotFound(_lt("Unknown route"), name="unknown_route")
        if call.request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(("GET", "HEAD"))
        # The page loads this server's files only (its policy allows nothing
        # else), and is framed by this server's pages only.
        return Answer(
            200,
            core_docs.docs_page_headers(),
            html=documents._docs_page_html(call.request),
        )

    # ------------------------------------------------------------------
    # Resolution: API, operation, switch, credentials, parameters
    # ------------------------------------------------------------------

    def _note_api(self, call):
        """The API a request refused before anything else addressed (a body
        over the limit): its log level applies, as to a 401."""
        found = routing.find_route(
            call.request.path, self.env["secure.api"]._get_route_map()
        )
        if found is not None:
            call.spec = self.env["secure.api"]._get_spec(found[0])

    def _resolve_api(self, call, api_id):
        spec = self.env["secure.api"]._get_spec(api_id)
        if spec is None:
            raise NotFound(_lt("Unknown route"), name="unknown_route")
        call.spec = spec
        origin = call.request.headers.get("origin")
        call.headers.update(core_cors.cors_headers(origin, spec["cors"]))

    def _preflight(self, call, rest, shape=None):
        spec = call.spec
        shape = shape or routing.shape_of(rest)
        headers = core_cors.cors_headers(
            call.request.headers.get("origin"), spec["cors"], preflight=True
        )
        allow = operations.methods_of(shape, self._live_operations(spec))
        headers["Allow"] = ", ".join(allow)
        if "Access-Control-Allow-Methods" in headers:
            # Never advertise a method that the API does not serve.
            configured = headers["Access-Control-Allow-Methods"].upper()
            headers["Access-Control-Allow-Methods"] = ", ".join(
                verb for verb in allow if verb in configured.replace(" ", "").split(",")
            )
        call.headers.clear()
        return Answer(204, headers)

    def _live_operations(self, spec):
        """Enabled operations whose endpoint is switched on."""
        return {
            name
            for name in spec["operations"]
            if spec["endpoints"].get(name, {}).get("active")
        }

    def _resolve_operation(self, call, model, operation, shape):
        """Check the operation is served, then who calls and with what."""
        spec = call.spec
        model_spec = spec["models"].get(model)
        if model_spec is None or model not in self.env:
            raise NotFound(_lt("Unknown route"), name="unknown_route")
        switch = operations.get(operation).switch
        if switch not in spec["operations"]:
            raise MethodNotAllowed(operations.methods_of(shape, spec["operations"]))
        endpoint = spec["endpoints"].get(switch)
        if not endpoint or not endpoint["active"]:
            raise NotFound(_lt("Unknown route"), name="unknown_route")
        call.model, call.model_spec, call.operation = model, model_spec, operation
        call.principal = self._authenticate(call)
        self._check_scope(call.principal, operations.get(operation).scope)
        self._admit(call)
        self._read_parameters(call)
        if call.principal.get("session") and call.request.unsafe:
            self._check_csrf(call)
        call.env = self._user_env(call)
        app = call.app
        call.test_mode = bool(
            spec["test_mode"]
            or (app and app["test_mode"])
            or call.request.force_test_mode
        )
        if call.test_mode:
            call.headers["X-Test-Mode"] = "1"

    def _read_parameters(self, call):
        """Search parameters from the query, a form or a JSON object body;
        the body of every other operation."""
        req = call.request
        if call.operation == "binary":
            call.params = collect_params(req.query)
            return
        kind, body = req.payload
        reads = call.operation in ("search", "aggregate")
        if kind == "form" or (reads and isinstance(body, dict)):
            call.params = collect_params(req.query, body)
            call.body = None
        else:
            call.params = collect_params(req.query)
            call.body = body

    # ------------------------------------------------------------------
    # Running an operation
    # ------------------------------------------------------------------

    def _run(self, call):
        """Run the operation; writes in a savepoint that test mode rolls back,
        and once only per ``Idempotency-Key``."""
        operation = operations.get(call.operation)
        key = call.request.headers.get("idempotency-key")
        if operation.writes and key is not None and not call.test_mode:
            return self._run_idempotent(call, key)
        return self._run_once(call)

    def _run_once(self, call):
        operation = operations.get(call.operation)
        run = getattr(self, f"_op_{operation.name}")
        if not operation.writes:
            status, result = run(call)
        else:
            try:
                with self.env.cr.savepoint():
                    status, result = run(call)
                    call.env.flush_all()
                    if call.test_mode:
                        raise _TestModeRollback((status, result))
            except _TestModeRollback as rollback:
                status, result = rollback.payload
        body = None if status in (204, 304) else envelope(result=result)
        return Answer(status, dict(call.result_headers), body)
