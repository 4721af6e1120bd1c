"""The REST engine: one request in, one response out, as plain data.

Controllers hand :meth:`SecureApiEngine._handle` a plain dict describing the
HTTP request and render the ``(status, headers, body)`` it returns. The
engine resolves the API, authenticates, enforces the API's limits with the
pure functions of ``core``, and calls the ORM as the execution user (never as
superuser on user data).
"""

import copy
import inspect
import logging
import threading
import time
import uuid

import psycopg2
from psycopg2 import errorcodes

from odoo import api, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError

from .. import compat
from ..core import cors as core_cors
from ..core import domain as core_domain
from ..core import params as core_params
from ..core import routing, serializer
from ..core import rpc as core_rpc
from ..core import tokens as core_tokens
from ..core.exceptions import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unprocessable,
    envelope,
    error_payload,
)
from ..core.hashid import codec as hashid_codec
from ..core.request import parse_body

_logger = logging.getLogger(__name__)
_serving = threading.local()


class _AnsweredQueryFilter(logging.Filter):
    """Drop Odoo's "bad query" log of a query the engine answers itself.

    A constraint violation in an API write is the client's 409 or 422, not a
    server error, and the logged query would carry the client's values. Only
    records emitted by a thread that is serving an API request are dropped;
    unexpected failures are still logged by the engine, with the request id.
    """

    def filter(self, record):
        return not (
            getattr(_serving, "active", False)
            and str(record.msg).startswith("bad query")
        )


logging.getLogger("odoo.sql_db").addFilter(_AnsweredQueryFilter())

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
RETRYABLE = (
    errorcodes.SERIALIZATION_FAILURE,
    errorcodes.DEADLOCK_DETECTED,
    errorcodes.LOCK_NOT_AVAILABLE,
)
MAX_BULK = serializer.MAX_BULK
# What the ORM raises when it refuses one item's values: mapped to 4xx.
ORM_REFUSALS = (
    ValidationError,
    UserError,
    AccessError,
    MissingError,
    psycopg2.IntegrityError,
)


class _TestModeRollback(Exception):
    """Raised inside the write savepoint to roll a test-mode request back."""

    def __init__(self, payload):
        super().__init__("test mode")
        self.payload = payload


class _Call:
    """Everything resolved about one request, handed between the steps."""

    __slots__ = (
        "spec",
        "model",
        "model_spec",
        "operation",
        "record_id",
        "method",
        "env",
        "principal",
        "params",
        "body",
        "codecs",
        "test_mode",
    )

    def __init__(self, **values):
        for key in self.__slots__:
            setattr(self, key, values.get(key))

    def codec_for(self, model):
        codec = self.codecs.get(model)
        if codec is None:
            spec = self.spec
            codec = self.codecs[model] = hashid_codec(
                spec["obfuscate"], spec["salt"], model, spec["min_length"]
            )
        return codec


class SecureApiEngine(models.AbstractModel):
    _name = "secure.api.engine"
    _description = "Secure API REST engine"

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------

    @api.model
    def _handle(self, req):
        """Serve one request.

        ``req``: ``{"method", "path", "headers" (lower-case keys), "query"
        (pairs), "form" (pairs or None), "body" (bytes), "content_type",
        "session_uid", "host", "remote_addr"}``. Returns ``(status, headers,
        body dict)``. Never raises, except the PostgreSQL concurrency errors
        that Odoo's request retry loop must see.
        """
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        headers = {"X-Request-Id": request_id}
        spec = call = None
        status = 500
        try:
            api_id, rest = routing.split_route(
                req["path"], self.env["secure.api"]._get_route_map()
            )
            spec = self.env["secure.api"]._get_spec(api_id)
            if spec is None:
                raise NotFound("Unknown route", name="unknown_route")
            origin = req["headers"].get("origin")
            if req["method"] == "OPTIONS":
                return self._preflight(spec, rest, origin, headers)
            headers.update(core_cors.cors_headers(origin, spec["cors"]))
            call = self._resolve(spec, req, rest)
            _serving.active = True
            try:
                status, result = self._run(call)
            finally:
                _serving.active = False
            if call.test_mode:
                headers["X-Test-Mode"] = "1"
            return status, headers, envelope(result=result)
        except Exception as error:  # noqa: BLE001 - every error becomes a response
            if (
                isinstance(error, psycopg2.OperationalError)
                and error.pgcode in RETRYABLE
            ):
                # Odoo replays the request: only the replay is counted.
                spec = None
                raise
            api_error = self._to_api_error(error, request_id)
            if (
                isinstance(api_error, Unauthorized)
                and "WWW-Authenticate" not in api_error.headers
            ):
                # RFC 6750 3: no error code when no credentials were sent.
                code = (
                    api_error.name
                    if api_error.name in ("invalid_token", "invalid_request")
                    else None
                )
                api_error.headers["WWW-Authenticate"] = core_tokens.www_authenticate(
                    code, api_error.message if code else None
                )
            status, error_headers, body = error_payload(api_error, request_id)
            headers.update(error_headers)
            if call is not None and call.test_mode:
                headers["X-Test-Mode"] = "1"
            return status, headers, body
        finally:
            if spec and spec["statistics"]:
                endpoint = spec["endpoints"].get(call.operation) if call else None
                app = call.principal.get("app") if call and call.principal else None
                self.env["secure.api.statistic"]._record_call(
                    spec["id"],
                    endpoint and endpoint["id"],
                    app and app["id"],
                    (time.perf_counter() - started) * 1000.0,
                    status >= 400,
                )

    def _to_api_error(self, error, request_id):
        if isinstance(error, ApiError):
            return error
        if isinstance(error, AccessError):
            return Forbidden("You are not allowed to do this", name="access_denied")
        if isinstance(error, MissingError):
            return NotFound()
        if isinstance(error, ValidationError | UserError):
            return Unprocessable(str(error.args[0]) if error.args else None)
        if isinstance(error, psycopg2.IntegrityError):
            return Conflict(name="integrity_error")
        _logger.error("secure_api: request %s failed", request_id, exc_info=True)
        return InternalError()

    def _preflight(self, spec, rest, origin, headers):
        cors_headers = core_cors.cors_headers(origin, spec["cors"], preflight=True)
        headers.update(cors_headers)
        if spec["multi_model"] and rest:
            rest = rest[1:]
        headers["Allow"] = ", ".join(
            routing.allowed_methods(spec["operations"], routing.shape_of(rest))
        )
        return 204, headers, None

    @api.model
    def _binary(self, req, api_id, model, record_id, field_name):
        """Authorize a binary download; returns ``(record, field)`` or an error.

        The same authentication, scope (``read``), field whitelist and forced
        domain apply as to reading the record through the API.
        """
        spec = (
            self.env["secure.api"]._get_spec(api_id)
            if api_id in self.env["secure.api"]._get_route_map().values()
            else None
        )
        if (
            spec is None
            or model not in spec["models"]
            or "read" not in spec["operations"]
        ):
            raise NotFound()
        model_spec = spec["models"][model]
        fspec = next(
            (
                f
                for f in model_spec["fields"]
                if f["name"] == field_name and f["type"] == "binary"
            ),
            None,
        )
        if fspec is None:
            raise NotFound()
        principal = self._authenticate(spec, req)
        self._check_scope(principal, "read")
        env = self._user_env(spec, principal)
        call = _Call(spec=spec, model=model, model_spec=model_spec, env=env, codecs={})
        return self._find(call, record_id), field_name

    # ------------------------------------------------------------------
    # Resolution: route, operation, credentials, parameters
    # ------------------------------------------------------------------

    def _resolve(self, spec, req, rest):
        if spec["multi_model"]:
            if not rest or rest[0] not in spec["models"]:
                raise NotFound("Unknown route", name="unknown_route")
            model, rest = rest[0], rest[1:]
        else:
            model = spec["model"]
        model_spec = spec["models"].get(model)
        if model_spec is None or model not in self.env:
            raise NotFound("Unknown route", name="unknown_route")
        operation, record_id, method = routing.operation_for(req["method"], rest)
        if operation not in spec["operations"]:
            raise MethodNotAllowed(
                routing.allowed_methods(spec["operations"], routing.shape_of(rest))
            )
        endpoint = spec["endpoints"].get(operation)
        if not endpoint or not endpoint["active"]:
            raise NotFound("Unknown route", name="unknown_route")
        max_body = self.env["secure.api"]._get_settings()["max_body"]
        if req["body"] is None or len(req["body"]) > max_body:
            raise PayloadTooLarge(f"The body is larger than {max_body} bytes")
        principal = self._authenticate(spec, req)
        self._check_scope(principal, operation)
        kind, body = self._parse_body(req)
        if kind == "form":
            params = core_params.collect_params(req["query"], body)
            body = None
        elif operation == "search" and isinstance(body, dict):
            params = core_params.collect_params(req["query"], body)
            body = None
        else:
            params = core_params.collect_params(req["query"])
        if principal.get("session") and req["method"] in UNSAFE_METHODS:
            self._check_csrf(spec, req, kind)
        app = principal.get("app")
        env = self._user_env(spec, principal)
        return _Call(
            spec=spec,
            model=model,
            model_spec=model_spec,
            operation=operation,
            record_id=record_id,
            method=method,
            env=env,
            principal=principal,
            params=params,
            body=body,
            codecs={},
            test_mode=bool(
                spec["test_mode"]
                or (app and app["test_mode"])
                or req.get("force_test_mode")
            ),
        )

    def _check_scope(self, principal, operation):
        """403 ``insufficient_scope`` (RFC 6750 3.1) unless the token allows it."""
        if principal["scope"] is not None and operation not in principal["scope"]:
            raise Forbidden(
                f"The token's scope does not include '{operation}'",
                name="insufficient_scope",
                headers={
                    "WWW-Authenticate": core_tokens.www_authenticate(
                        "insufficient_scope",
                        f"This call needs the '{operation}' scope",
                        scope=operation,
                    )
                },
            )

    def _user_env(self, spec, principal):
        """The execution user's environment, never superuser.

        Its context is the user's language and time zone plus ``api_id`` and
        ``app_id``; nothing a client sends.
        """
        uid = principal["uid"]
        app = principal.get("app")
        user_context = self.env["res.users"].sudo().with_user(uid).context_get()
        context = {
            "lang": user_context.get("lang"),
            "tz": user_context.get("tz"),
            "api_id": spec["id"],
            "app_id": app["id"] if app else False,
        }
        return self.env(user=uid, su=False, context=context)

    def _parse_body(self, req):
        if req.get("form"):
            return "form", req["form"]
        return parse_body(req["body"], req["content_type"], req["method"])

    def _authenticate(self, spec, req):
        """Return ``{"uid", "scope" (set or None), "app", "session"}``."""
        if spec["auth_mode"] == "public":
            if not spec["run_as_uid"]:
                raise NotFound("Unknown route", name="unknown_route")
            return {
                "uid": spec["run_as_uid"],
                "scope": None,
                "app": None,
                "session": False,
            }
        query_token = any(key == "access_token" for key, _value in req["query"])
        token = core_tokens.parse_bearer(req["headers"].get("authorization"))
        if query_token:
            raise Unauthorized(
                "Send the token in the Authorization header, never in the URL",
                name="invalid_request",
            )
        if token:
            leeway = self.env["secure.api"]._get_settings()["jwt_leeway"]
            found = (
                self.env["secure.api.token"].sudo()._authenticate_bearer(token, leeway)
            )
            app = found["app"]
            if app["id"] not in spec["client_ids"]:
                raise Forbidden(
                    "This client app may not call this API", name="client_not_allowed"
                )
            return {
                "uid": app["uid"],
                "scope": set(found["scope"].split()),
                "app": app,
                "session": False,
            }
        if req.get("session_uid"):
            return {
                "uid": req["session_uid"],
                "scope": None,
                "app": None,
                "session": True,
            }
        raise Unauthorized("Authentication required", name="unauthorized")

    def _check_csrf(self, spec, req, kind):
        """Session cookies on unsafe methods: JSON body and a trusted Origin.

        A cross-site form cannot send JSON without a CORS preflight, and a
        browser always sends ``Origin`` on such requests; clients without a
        browser send no ``Origin`` and are not exposed to CSRF.
        """
        if req["method"] != "DELETE" and kind != "json":
            raise Forbidden("Session requests must send a JSON body", name="csrf")
        origin = req["headers"].get("origin")
        if origin:
            same = origin.split("://", 1)[-1].rstrip("/") == (req.get("host") or "")
            if not same and not core_cors.origin_allowed(origin, spec["cors"]):
                raise Forbidden("Cross-origin request refused", name="csrf")
        elif req["headers"].get("sec-fetch-site") == "cross-site":
            raise Forbidden("Cross-origin request refused", name="csrf")

    # ------------------------------------------------------------------
    # Operations
    # ------------------------------------------------------------------

    def _run(self, call):
        operation = call.operation
        if operation in ("search", "read"):
            result = getattr(self, f"_op_{operation}")(call)
            return 200, result
        cr = self.env.cr
        try:
            with cr.savepoint():
                status, result = getattr(self, f"_op_{operation}")(call)
                call.env.flush_all()
                if call.test_mode:
                    raise _TestModeRollback((status, result))
        except _TestModeRollback as rollback:
            status, result = rollback.payload
        return status, result

    def _model(self, call):
        return call.env[call.model]

    def _forced(self, call, extra=None):
        return core_domain.and_domains(call.spec["domain"], extra or [])

    def _readable(self, call):
        return {f["alias"]: f for f in call.model_spec["fields"]}

    def _find(self, call, record_id_text, names=()):
        """The record of a path id inside the API's domain, or 404 alike.

        ``names`` are fetched by the same query, as ``search_read`` does.
        """
        rid = call.codec_for(call.model).decode(record_id_text)
        if rid is None:
            raise NotFound()
        domain = self._forced(call, [("id", "=", rid)])
        record = self._model(call).search_fetch(domain, list(names), limit=1)
        if not record:
            raise NotFound()
        return record

    def _find_many(self, call, ids):
        records = self._model(call).search(self._forced(call, [("id", "in", ids)]))
        if len(records) != len(ids):
            found = set(records.ids)
            index = next(i for i, rid in enumerate(ids) if rid not in found)
            raise NotFound(f"Record at index {index} not found", data={"index": index})
        return records.browse(ids)

    def _render(self, call, records, selected=None):
        """Read ``records`` and render them; related fields read in batch."""
        selected = selected if selected is not None else call.model_spec["fields"]
        names = [f["name"] for f in selected]
        if records and any(f["type"] == "binary" for f in selected):
            # URLs only need to know whether a value exists, not its bytes.
            records = records.with_context(bin_size=call.spec["binary_mode"] == "url")
        rows = records._read_format(fnames=names) if records else []
        return self._render_rows(call, rows, selected)

    def _render_rows(self, call, rows, selected):
        related_rows = {}
        for fspec in selected:
            if not fspec.get("related"):
                continue
            ids = set()
            for row in rows:
                value = row.get(fspec["name"])
                if fspec["type"] == "many2one":
                    if value:
                        ids.add(value[0])
                else:
                    ids.update(value or [])
            if ids:
                subnames = [sub["name"] for sub in fspec["related"]]
                comodel = call.env[fspec["relation"]].with_context(bin_size=True)
                found = comodel.browse(sorted(ids))
                related_rows[fspec["name"]] = {
                    row["id"]: row for row in found.read(subnames)
                }
        writer = serializer.RecordWriter(
            call.model_spec, call.codec_for, call.spec["id"], call.spec["binary_mode"]
        )
        return [writer.record(row, selected, related_rows) for row in rows]

    def _selected(self, call):
        readable = self._readable(call)
        names = core_params.parse_fields(call.params.get("fields"), readable)
        return [readable[name] for name in names]

    def _op_search(self, call):
        spec, params = call.spec, call.params
        searchable = {
            f["alias"]: f for f in call.model_spec["fields"] if f["searchable"]
        }
        client_domain = core_domain.validate(
            core_domain.parse_literal(params.get("domain") or "[]"),
            searchable,
            call.codec_for,
            call.model,
        )
        domain = self._forced(call, client_domain)
        limit = core_params.parse_limit(
            params.get("limit"), spec["default_limit"], spec["max_limit"]
        )
        offset = core_params.parse_offset(params.get("offset"))
        order = core_params.parse_order(
            params.get("order"),
            {alias: f["name"] for alias, f in searchable.items()},
            spec["default_order"],
        )
        selected = self._selected(call)
        count = core_params.parse_count(params.get("count"))
        model = self._model(call)
        names = self._fetchable(model, selected)
        # search_fetch() split in two, so that the exact count reuses the
        # query with the domain and record rules already applied, instead of
        # parsing them again in search_count().
        query = model._search(
            domain, offset=offset, limit=limit, order=order or model._order
        )
        if query.is_empty():
            records = model.browse()
        else:
            records = model._fetch_query(query, model._determine_fields_to_fetch(names))
        result = {}
        if count == "exact":
            if len(records) < limit and (records or not offset):
                length = offset + len(records)
            else:
                total = copy.copy(query)
                total.limit = total.offset = total.order = None
                length = len(total)
            result["length"] = length
        result["records"] = self._render(call, records, selected)
        return result

    def _fetchable(self, model, selected):
        """Stored plain fields to fetch with the search query itself."""
        names = [f["name"] for f in selected]
        compat.check_fields_readable(model, names)
        return [
            name
            for name in names
            if model._fields[name].store and model._fields[name].type != "binary"
        ]

    def _op_read(self, call):
        selected = self._selected(call)
        model = self._model(call)
        record = self._find(call, call.record_id, self._fetchable(model, selected))
        return self._render(call, record, selected)[0]

    def _values(self, call, payload, index=None):
        try:
            return serializer.values_in(payload, call.model_spec, call.codec_for)
        except BadRequest as error:
            if index is not None:
                error.message = f"Item {index}: {error.message}"
                error.data["index"] = index
            raise

    def _apply_defaults(self, call, vals):
        defaults = call.model_spec["defaults"]
        if not defaults:
            return vals
        evaluator = call.env["secure.api.default"]
        for line in defaults:
            if line["name"] not in vals:
                vals[line["name"]] = evaluator._evaluate(line["expression"])
        return vals

    def _check_in_domain(self, call, records):
        """Writes may not move records outside what the API exposes."""
        if not call.spec["domain"] or not records:
            return
        inside = self._model(call).search_count(
            self._forced(call, [("id", "in", records.ids)])
        )
        if inside != len(records):
            raise Unprocessable(
                "The values would put the record outside this API",
                name="outside_domain",
            )

    def _batch(self, call, items, action):
        """Run ``action(item)`` for each item; name the failing index.

        The fast path runs them in one go. When it fails, each item is
        replayed in its own savepoint to find which one the ORM refused; the
        caller's savepoint then rolls everything back.
        """
        try:
            with self.env.cr.savepoint():
                result = action(items)
                call.env.flush_all()
                return result
        except ORM_REFUSALS as error:
            if len(items) == 1:
                raise
            first_error = error
        for index, item in enumerate(items):
            try:
                with self.env.cr.savepoint():
                    action([item])
                    call.env.flush_all()
            except ORM_REFUSALS as error:
                api_error = self._to_api_error(error, None)
                api_error.message = f"Item {index}: {api_error.message}"
                api_error.data["index"] = index
                raise api_error from None
        raise first_error

    def _op_create(self, call):
        body = call.body
        bulk = isinstance(body, list)
        items = body if bulk else [body]
        if not isinstance(body, list | dict):
            raise BadRequest(
                "The body must be a JSON object or an array of objects",
                name="invalid_body",
            )
        if not items or len(items) > MAX_BULK:
            raise BadRequest(
                f"Send between 1 and {MAX_BULK} records", name="invalid_body"
            )
        vals_list = [
            self._apply_defaults(
                call, self._values(call, item, index if bulk else None)
            )
            for index, item in enumerate(items)
        ]
        model = self._model(call)
        records = self._batch(call, vals_list, model.create)
        self._check_in_domain(call, records)
        rendered = self._render(call, records)
        return 201, rendered if bulk else rendered[0]

    def _op_update(self, call):
        body = call.body
        if call.record_id is not None:
            record = self._find(call, call.record_id)
            vals = self._values(call, body)
            record.write(vals)
            self._check_in_domain(call, record)
            return 200, self._render(call, record)[0]
        codec = call.codec_for(call.model)
        if isinstance(body, dict):
            values = dict(body)
            ids = serializer.decode_ids(values.pop("ids", None), codec)
            vals = self._values(call, values)
            records = self._find_many(call, ids)
            self._batch(call, [records], lambda chunk: chunk[0].write(vals))
        elif isinstance(body, list) and body:
            if len(body) > MAX_BULK:
                raise BadRequest(
                    f"At most {MAX_BULK} records per request", name="invalid_body"
                )
            pairs = []
            for index, item in enumerate(body):
                if not isinstance(item, dict):
                    raise BadRequest(
                        f"Item {index} is not an object",
                        name="invalid_body",
                        data={"index": index},
                    )
                values = dict(item)
                rid = codec.decode(values.pop("id", None))
                if rid is None:
                    raise BadRequest(
                        f"Item {index} has no valid id",
                        name="invalid_id",
                        data={"index": index},
                    )
                pairs.append((rid, self._values(call, values, index)))
            ids = [rid for rid, _vals in pairs]
            if len(set(ids)) != len(ids):
                raise BadRequest("The same id appears twice", name="invalid_body")
            records = self._find_many(call, ids)
            model = self._model(call)
            self._batch(
                call,
                pairs,
                lambda chunk: [model.browse(rid).write(vals) for rid, vals in chunk],
            )
        else:
            raise BadRequest(
                'Bulk update takes {"ids": [...], ...} or [{"id": ..., ...}, ...]',
                name="invalid_body",
            )
        self._check_in_domain(call, records)
        return 200, self._render(call, records)

    def _op_delete(self, call):
        codec = call.codec_for(call.model)
        if call.record_id is not None:
            records = self._find(call, call.record_id)
        else:
            body = call.body
            if not isinstance(body, dict) or set(body) != {"ids"}:
                raise BadRequest(
                    'Bulk delete takes {"ids": [...]}', name="invalid_body"
                )
            records = self._find_many(call, serializer.decode_ids(body["ids"], codec))
        ids = records.ids
        records.unlink()
        return 200, [codec.encode(rid) for rid in ids]

    def _op_rpc(self, call):
        methods = call.model_spec["methods"]
        method = methods.get(call.method)
        if method is None or method["on_records"] != (call.record_id is not None):
            raise NotFound("Unknown method", name="unknown_method")
        args, kwargs = core_rpc.check_call(call.body)
        target = (
            self._find(call, call.record_id)
            if call.record_id is not None
            else self._model(call)
        )
        function = getattr(target, method["name"], None)
        if not callable(function):
            raise NotFound("Unknown method", name="unknown_method")
        try:
            inspect.signature(function).bind(*args, **kwargs)
        except TypeError as error:
            raise BadRequest(
                f"Wrong arguments: {error}", name="invalid_arguments"
            ) from None
        result = function(*args, **kwargs)
        result = self._plain(call, result)
        model_fields = call.env[call.model]._fields

        def relation_of(key):
            field = model_fields.get(key)
            return (
                field.comodel_name if field is not None and field.relational else None
            )

        encoded = core_rpc.encode_result(
            result,
            method["encoding"],
            call.model,
            call.codec_for,
            relation_of,
            method["keys"],
        )
        return 200, encoded

    def _plain(self, call, value):
        """Turn recordsets in an RPC result into (obfuscated) id lists."""
        if isinstance(value, models.BaseModel):
            codec = call.codec_for(value._name)
            return [codec.encode(rid) for rid in value.ids]
        if isinstance(value, dict):
            return {key: self._plain(call, item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._plain(call, item) for item in value]
        return value
