"""Pipeline step: the access log.

Whether a request is logged depends on its API's ``log_level`` and on its
client app's, when set (:func:`~..core.access_log.effective_level`); a
request refused before its client is known (401) follows its API. While the
level is not ``none``, the steps that find, render, write and delete records
note their ids on the call; at the end :meth:`_log_call` hands one row to the
worker's buffer (``secure.api.log``), never to the request's transaction. At
``none`` nothing is noted, buffered or queried.
"""

import logging
import time
from datetime import datetime, timezone

from odoo import api, models

from ..core import access_log as core_log

_logger = logging.getLogger(__name__)


class SecureApiEngineLog(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _log_level(self, call, app=None):
        spec = call.spec
        if not spec:
            # Token endpoints and documents have no API, and no log.
            return core_log.NONE
        app = app or call.app
        return core_log.effective_level(
            spec.get("log_level"), app.get("log_level") if app else None
        )

    def _authenticate(self, call):
        principal = super()._authenticate(call)
        if self._log_level(call, principal.get("app")) != core_log.NONE:
            call.touched, call.related = [], []
        return principal

    # ------------------------------------------------------------------
    # The records a request touches
    # ------------------------------------------------------------------

    def _touch(self, call, records):
        if call.touched is not None and records and records._name == call.model:
            call.touched.extend(records.ids)

    def _find(self, call, record_id_text, names=()):
        record = super()._find(call, record_id_text, names)
        self._touch(call, record)
        return record

    def _find_many(self, call, ids):
        records = super()._find_many(call, ids)
        self._touch(call, records)
        return records

    def _render(self, call, records, selected=None):
        self._touch(call, records)
        return super()._render(call, records, selected)

    def _created(self, call, records, bulk):
        self._touch(call, records)
        return super()._created(call, records, bulk)

    def _updated(self, call, records, one):
        self._touch(call, records)
        return super()._updated(call, records, one)

    def _shown(self, call, model_name, ids):
        """Records the answer shows by id and name: the API's model's in
        ``touched``, other models' in ``related``."""
        if call.touched is None or not ids:
            return
        if model_name == call.model:
            call.touched.extend(ids)
        else:
            call.related.extend(f"{model_name},{rid}" for rid in ids)

    def _render_rows(self, call, rows, selected):
        """A many2one shown as a plain value, ``[id, "name"]``, shows its
        record: noted from the rows read, without a query."""
        if call.touched is not None:
            for fspec in selected:
                if fspec["type"] != "many2one" or fspec.get("related"):
                    continue
                name = fspec["name"]
                ids = sorted({row[name][0] for row in rows if row.get(name)})
                self._shown(call, fspec["relation"], ids)
        return super()._render_rows(call, rows, selected)

    def _related_rows(self, call, rows, selected):
        """The records the answer shows through related fields."""
        related_rows = super()._related_rows(call, rows, selected)
        if call.touched is not None:
            relations = {f["name"]: f.get("relation") for f in selected}
            for name, found in related_rows.items():
                self._shown(call, relations[name], list(found))
        return related_rows

    def _aggregated(self, call, model, domain):
        """The ids of the records an aggregate read, when its row is
        logged (level ``all``: a successful aggregate is not an error), at
        most :data:`~..core.access_log.MAX_AGGREGATED_IDS` of them."""
        super()._aggregated(call, model, domain)
        if call.touched is None or self._log_level(call) != core_log.ALL:
            return
        cap = core_log.MAX_AGGREGATED_IDS
        ids = model.search(domain, limit=cap + 1, order="id").ids
        if len(ids) > cap:
            ids = ids[:cap]
            call.touched_total = model.search_count(domain)
        call.touched.extend(ids)

    def _plain(self, call, value):
        if isinstance(value, models.BaseModel):
            # A method may return records of any model: all are noted.
            self._shown(call, value._name, value.ids)
        return super()._plain(call, value)

    # ------------------------------------------------------------------
    # The row
    # ------------------------------------------------------------------

    @api.model
    def _log_abandoned(self, error, answer_for, request_id):
        """The answer ``answer_for(request_id)`` that ir.http gives when
        Odoo stopped retrying a concurrency failure (``error``, as
        ``_serve`` raised it), logged as the answer of the request's last
        attempt (whose request id it then carries)."""
        attempt = getattr(error, "secure_api_attempt", None)
        if attempt is None:
            return answer_for(request_id)
        engine, call, spec, started, request_id = attempt
        call.spec = spec
        answer = answer_for(request_id)
        engine._log_call(call, started, answer, request_id)
        return answer

    def _log_call(self, call, started, answer, request_id):
        """Buffer the access-log row of this request, when its level wants
        it. Never raises: the log must not change an answer."""
        level = self._log_level(call)
        if level == core_log.NONE:
            return
        status = answer.status if answer is not None else 500
        if not core_log.wanted(level, status):
            return
        try:
            row = self._log_row(call, started, answer, status, request_id)
        except Exception:  # noqa: BLE001 - logged; the row is kept without bodies
            # Whatever a client sent, its request leaves a row: one whose
            # bodies cannot be prepared is written without them.
            _logger.exception("secure_api: bodies of request %s not logged", request_id)
            row = None
        try:
            if row is None:
                row = self._log_row(
                    call, started, answer, status, request_id, bodies=False
                )
            self.env["secure.api.log"]._buffer_row(row)
        except Exception:  # noqa: BLE001 - logged, and the answer stands
            _logger.exception("secure_api: request %s not logged", request_id)

    def _log_row(self, call, started, answer, status, request_id, bodies=True):
        req, spec, principal = call.request, call.spec, call.principal
        duration = time.perf_counter() - started
        arrived = datetime.fromtimestamp(time.time() - duration, timezone.utc)
        # A failed request returned, wrote and deleted nothing.
        ok = status < 400
        ids = list(dict.fromkeys(call.touched or ())) if ok else []
        refs = list(dict.fromkeys(call.related or ())) if ok else []
        count = call.touched_total if ok and call.touched_total else len(ids)
        body = answer.body if answer is not None else None
        error = body.get("error") if isinstance(body, dict) else None
        error_name = None
        if isinstance(error, dict):
            error_name = (error.get("data") or {}).get("name") or error.get("name")
        app = call.app
        headers = request_body = response_body = None
        # Secret fields under an alias are masked by their real name too.
        secret_names = core_log.secret_aliases(spec.get("models") or {})
        if bodies and spec.get("log_bodies"):
            headers = core_log.masked_headers(req.headers)
            request_body = (
                core_log.masked_body(
                    raw=req.body,
                    form=req.form,
                    content_type=req.content_type,
                    method=req.method,
                    secret_names=secret_names,
                )
                or None
            )
            if body is not None:
                response_body = core_log.masked_body(
                    value=body, secret_names=secret_names
                )
        # Whatever the client sent, the row can be stored (no NUL).
        return core_log.storable_row(
            (
                # Naive UTC to the second, as Odoo's datetimes.
                arrived.replace(tzinfo=None, microsecond=0),
                spec["id"],
                app["id"] if app else None,
                principal["uid"] if principal else None,
                req.remote_addr or None,
                req.method,
                core_log.clean_path(req.path, req.query, secret_names)
                if bodies
                else core_log.bare_path(req.path, req.query),
                call.operation,
                status,
                error_name,
                duration * 1000.0,
                request_id,
                call.model or spec.get("model"),
                ids,
                refs,
                count,
                bool(call.test_mode),
                headers,
                request_body,
                response_body,
                # Who and what, as text: kept when they are deleted.
                spec.get("route"),
                spec.get("name"),
                app.get("client_id") if app else None,
                app.get("name") if app else None,
                None,  # the user's login: the flush reads it
            )
        )
