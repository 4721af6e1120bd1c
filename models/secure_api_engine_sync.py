"""Pipeline step: safe retries and conditional writes.

Idempotency keys, ``If-Match`` preconditions, ``Prefer: return=minimal``
answers and upserts by a key field.
"""

import psycopg2

from odoo import models

from ..core import serializer, sync
from ..core.exceptions import (
    BadRequest,
    Conflict,
    InsufficientScope,
    MethodNotAllowed,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    is_retryable,
    render_error,
    to_api_error,
)
from ..core.messages import _lt
from ..core.request import Answer


class SecureApiEngineSync(models.AbstractModel):
    _inherit = "secure.api.engine"

    # ------------------------------------------------------------------
    # Server keys
    # ------------------------------------------------------------------

    def _server_key(self, purpose, *context):
        """A key for what the server signs and clients hold (cursors),
        derived from ``database.secret``: only administrators can read it,
        and every worker and server of the database shares it."""
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        return sync.derive_key(secret, purpose, *context)

    # ------------------------------------------------------------------
    # Idempotency-Key
    # ------------------------------------------------------------------

    def _run_idempotent(self, call, key):
        """Run a write once per key; replay its stored answer afterwards.

        Only what ran is stored: the answer of an operation that began its
        work (:meth:`_begin`), success or 4xx. A request refused before
        (a bad body, unknown ids, a failed precondition) stores nothing,
        and the client may send it again, fixed, with the same key. 5xx
        answers are not stored either. The answer is stored in the
        request's own transaction, so it exists exactly when the write
        does, and each client keeps at most ``idempotency_max_keys``
        answers per API (``secure.api.idempotency._store``).

        A duplicate arriving while the first runs finds its advisory lock
        taken (409); a duplicate whose snapshot predates the first's commit
        collides with it on the unique index when storing (409 too, and
        nothing written).
        """
        req = call.request
        sync.check_idempotency_key(key)
        app = call.app
        if not app and not call.principal.get("session"):
            # Anonymous callers of a public API share one identity: a key
            # would let one replay or block another's requests.
            raise BadRequest(
                _lt("Idempotency-Key needs an authenticated client"),
                name="idempotency_key_not_supported",
            )
        scope = f"api:{call.spec['id']}|" + (
            f"app:{app['id']}" if app else f"user:{call.principal['uid']}"
        )
        key_hash = sync.key_hash(key)
        # Preconditions and preferences change what the request does, and so
        # do the companies and language it runs in (named only when sent, so
        # that the keys stored before they existed keep their fingerprints).
        headers = [req.headers.get("if-match"), req.headers.get("prefer")]
        context = [
            req.headers.get(name) for name in ("x-company-id", "accept-language")
        ]
        if any(value is not None for value in context):
            headers += context
        fingerprint = sync.fingerprint(
            req.method, req.path, req.query, req.body, req.form, headers
        )
        storage = self.env["secure.api.idempotency"]
        stored, expired = storage._stored(scope, key_hash)
        if stored:
            return self._replay(call, stored, fingerprint)
        if not storage._try_lock(scope, key_hash):
            raise self._in_progress()
        if expired:
            # An expired answer not yet forgotten by the cron frees its key.
            storage._forget_expired(scope, key_hash)
        # One savepoint for the write and its stored answer: a twin found
        # when storing (the unique index) undoes the write too.
        owner = (
            call.spec["id"],
            app["id"] if app else None,
            None if app else call.principal["uid"],
        )
        try:
            with self.env.cr.savepoint():
                try:
                    answer = self._run_once(call)
                except Exception as error:
                    if is_retryable(error) or not call.started:
                        raise
                    api_error = to_api_error(error)
                    if api_error.status >= 500:
                        raise
                    status, headers, body = render_error(api_error)
                    answer = Answer(status, headers, body)
                storage._store(
                    scope, key_hash, fingerprint, owner, answer, self._audit(call)
                )
        except psycopg2.IntegrityError:
            # A twin committed first: this one's writes are undone.
            raise self._in_progress() from None
        return answer

    def _begin(self, call):
        """Mark where an operation starts its work: its checks of the request
        are done, its ORM writes (or the method it calls) come next. From
        here on its answer, 2xx or 4xx, is what an Idempotency-Key replays;
        a refusal before it is not stored (as Stripe does not store
        validation failures)."""
        call.started = True

    def _audit(self, call):
        """What the access log noted of ``call`` (the records its answer
        shows), stored with its answer for the replays' rows; ``None``
        while its API logs nothing."""
        if call.touched is None:
            return None
        return {
            "ids": list(dict.fromkeys(call.touched)),
            "refs": list(dict.fromkeys(call.related or ())),
            "total": call.touched_total,
        }

    def _replay(self, call, stored, fingerprint):
        stored_fingerprint, status, headers, body, audit = stored
        if stored_fingerprint != fingerprint:
            raise Unprocessable(
                _lt("This Idempotency-Key was used for another request"),
                name="idempotency_key_reused",
            )
        if audit and call.touched is not None:
            # The replay shows the original's records: its row names them.
            call.touched.extend(audit["ids"])
            call.related.extend(audit["refs"])
            call.touched_total = audit["total"]
        return Answer(status, dict(headers, **{"Idempotent-Replayed": "true"}), body)

    def _in_progress(self):
        return Conflict(
            _lt("A request with this Idempotency-Key is still in progress"),
            name="idempotency_key_in_progress",
        )

    # ------------------------------------------------------------------
    # Conditional writes and minimal answers
    # ------------------------------------------------------------------

    def _check_if_match(self, call, record):
        """412 unless ``If-Match`` (when sent) names the record's current
        ETag, compared strongly; with no record, nothing matches."""
        header = call.request.headers.get("if-match")
        if header is None:
            return
        current = self._etag(call, record) if record else None
        if not sync.etag_matches(header, current, strong=True):
            raise PreconditionFailed()

    def _refuse_if_match_on_many(self, call):
        if call.request.headers.get("if-match") is not None:
            raise BadRequest(
                _lt("If-Match applies to one record, not to a bulk request"),
                name="invalid_precondition",
            )

    def _prefers_minimal(self, call):
        if sync.prefers_minimal(call.request.headers.get("prefer")):
            call.result_headers["Preference-Applied"] = "return=minimal"
            return True
        return False

    def _location(self, call, encoded_id):
        base = f"/api/{call.spec['route']}"
        if call.spec["multi_model"]:
            base += f"/{call.model}"
        return f"{base}/{encoded_id}"

    def _created(self, call, records, bulk):
        """The answer of a create: the records, or their ids when asked."""
        codec = call.codec_for(call.model)
        if self._prefers_minimal(call):
            ids = [codec.encode(rid) for rid in records.ids]
            if not bulk:
                call.result_headers["Location"] = self._location(call, ids[0])
            return 201, ids if bulk else {"id": ids[0]}
        rendered = self._render(call, records)
        if not bulk:
            call.result_headers["Location"] = self._location(call, rendered[0]["id"])
        return 201, rendered if bulk else rendered[0]

    def _updated(self, call, records, one):
        if self._prefers_minimal(call):
            return 204, None
        rendered = self._render(call, records)
        return 200, rendered[0] if one else rendered

    # ------------------------------------------------------------------
    # Upsert
    # ------------------------------------------------------------------

    def _op_upsert(self, call):
        """``PUT /api/<route>/by/<key>/<value>``: update the record of the
        API whose key field has that value, or create it.

        An advisory lock on (API, field, value) serializes concurrent upserts
        of one key across workers and servers. A request whose snapshot is
        older than a twin's commit would not see the twin's record: it is
        replayed by Odoo with a fresh snapshot instead of creating another.
        """
        fspec = next(
            (
                f
                for f in call.model_spec["fields"]
                if f["alias"] == call.method and f.get("upsert_key")
            ),
            None,
        )
        if fspec is None:
            raise NotFound(_lt("Unknown upsert key"), name="unknown_key")
        value = self._key_value(fspec, call.record_id)
        body = call.body if call.body is not None else {}
        if not isinstance(body, dict):
            raise BadRequest(_lt("The body must be a JSON object"), name="invalid_body")
        if fspec["alias"] in body and body[fspec["alias"]] != value:
            raise BadRequest(
                _lt(
                    "'%(field)s' differs from the key in the path", field=fspec["alias"]
                ),
                name="invalid_body",
            )
        self._lock_key(call, fspec, value)
        model = self._model(call)
        records = model.search(
            self._forced(call, [(fspec["name"], "=", value)]), limit=2
        )
        if len(records) > 1:
            raise Conflict(
                _lt("Several records have this '%(field)s'", field=fspec["alias"]),
                name="ambiguous_key",
            )
        payload = {k: v for k, v in body.items() if k != fspec["alias"]}
        vals = self._values(call, payload, creating=not records)
        self._check_if_match(call, records)
        if records:
            moved = self._check_relations(call, [vals], records)
            self._apply_line_defaults(call, vals)
            moved |= self._neighbours(call, records)
            self._begin(call)
            records.write(vals)
            self._check_in_domain(call, self._remaining(call, records | moved, vals))
            return self._updated(call, records, one=True)
        self._check_may_create(call)
        vals[fspec["name"]] = value
        moved = self._check_relations(call, [vals])
        self._apply_defaults(call, vals)
        self._begin(call)
        records = model.create(vals)
        self._check_in_domain(call, records | moved)
        return self._created(call, records, bulk=False)

    def _key_value(self, fspec, text):
        if "\ufffd" in text:
            # What the server made of bytes that were not UTF-8.
            raise BadRequest(
                _lt("'%(field)s' is not valid UTF-8 text", field=fspec["alias"]),
                name="invalid_value",
            )
        if fspec["type"] == "integer":
            try:
                return serializer.SCALAR_CONVERTERS["integer"](fspec, int(text))
            except ValueError:
                raise BadRequest(
                    _lt("'%(field)s' takes an integer", field=fspec["alias"]),
                    name="invalid_value",
                ) from None
        return serializer.SCALAR_CONVERTERS[fspec["type"]](fspec, text)

    def _check_may_create(self, call):
        if "create" not in call.spec["operations"]:
            raise MethodNotAllowed(("PUT", "OPTIONS"), _lt("Creating is not enabled"))
        scope = call.principal["scope"]
        if scope is not None and "create" not in scope:
            raise InsufficientScope("create")

    def _lock_key(self, call, fspec, value):
        cr = self.env.cr
        model = self._model(call)
        cr.execute(
            "SELECT pg_advisory_xact_lock(%s)",
            [sync.lock_id(call.spec["id"], call.model, fspec["name"], value)],
        )
        # Rows committed by others that this transaction's snapshot misses.
        statement = f'SELECT id FROM "{model._table}" WHERE "{fspec["name"]}" = %s'
        cr.execute(statement, [value])
        seen = {row[0] for row in cr.fetchall()}
        with self.env.registry.cursor() as fresh:
            fresh.execute(statement, [value])
            committed = {row[0] for row in fresh.fetchall()}
        if committed - seen:
            # Serialization failure: Odoo replays the request from scratch.
            cr.execute(
                "DO $$BEGIN RAISE EXCEPTION 'secure_api: upsert raced a twin' "
                "USING ERRCODE = 'serialization_failure'; END$$"
            )
