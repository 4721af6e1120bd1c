import json
from datetime import timedelta

from odoo import api, fields, models

from .. import compat
from ..core import sync

NOW = "(now() AT TIME ZONE 'UTC')"
# Headers of a stored answer that its replay repeats.
REPLAYED_HEADERS = ("Location", "ETag", "Preference-Applied")


@compat.sql_constraints(
    (
        "key_uniq",
        "unique (scope, key_hash)",
        "An idempotency key is used once per client and API.",
    ),
)
class SecureApiIdempotency(models.Model):
    """The stored answer of a request sent with an ``Idempotency-Key``.

    Rows are written in the same transaction as the request's own writes, so
    an answer is stored exactly when its effects are. The unique index on
    (scope, key hash) settles concurrent duplicates in PostgreSQL, across
    workers and servers.
    """

    _name = "secure.api.idempotency"
    _description = "Secure API idempotent answer"
    _order = "id desc"
    _log_access = False

    # "api:<id>|app:<id>" or "api:<id>|user:<id>": who may replay the answer.
    scope = fields.Char(required=True, readonly=True)
    key_hash = fields.Char(required=True, readonly=True)
    api_id = fields.Many2one("secure.api", ondelete="cascade", readonly=True)
    app_id = fields.Many2one("secure.api.client", ondelete="cascade", readonly=True)
    user_id = fields.Many2one("res.users", ondelete="cascade", readonly=True)
    fingerprint = fields.Char(required=True, readonly=True)
    state = fields.Selection(
        [("running", "Running"), ("done", "Done")],
        default="done",
        required=True,
        readonly=True,
    )
    status = fields.Integer(readonly=True)
    headers = fields.Text(readonly=True)
    body = fields.Text(readonly=True)
    # What the original request's access-log row noted (JSON: ids, related
    # refs, count), for its replays' rows: a replay shows the same records.
    audit = fields.Text(readonly=True)
    expires_at = fields.Datetime(required=True, readonly=True, index=True)

    # The storage of the pipeline's Idempotency-Key step
    # (``secure.api.engine._run_idempotent``): plain SQL on the request's
    # cursor, inside its transaction, as few queries as the performance
    # tests pin.

    @api.model
    def _stored(self, scope, key_hash):
        """``(answer, expired)`` of a key: its live stored answer as
        ``(fingerprint, status, headers dict, body, audit)``, or ``None``; and
        whether an expired answer, not yet forgotten by the cron, holds it."""
        self.env.cr.execute(
            f"""SELECT fingerprint, status, headers, body, audit,
                       expires_at > {NOW}
                  FROM secure_api_idempotency
                 WHERE scope = %s AND key_hash = %s""",
            [scope, key_hash],
        )
        row = self.env.cr.fetchone()
        if not row:
            return None, False
        fingerprint, status, headers, body, audit, live = row
        if not live:
            return None, True
        return (
            fingerprint,
            status,
            json.loads(headers or "{}"),
            json.loads(body) if body else None,
            json.loads(audit) if audit else None,
        ), False

    @api.model
    def _try_lock(self, scope, key_hash):
        """Whether this transaction now holds the key's advisory lock; a
        duplicate running meanwhile holds it."""
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", [sync.lock_id(scope, key_hash)]
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _forget_expired(self, scope, key_hash):
        """Free a key whose answer expired."""
        self.env.cr.execute(
            f"""DELETE FROM secure_api_idempotency
                 WHERE scope = %s AND key_hash = %s AND expires_at <= {NOW}""",
            [scope, key_hash],
        )

    @api.model
    def _store(self, scope, key_hash, fingerprint, owner, answer, audit=None):
        """Store ``answer`` (an :class:`~..core.request.Answer`) for the key;
        ``owner`` is ``(api id, app id, user id)``; ``audit`` what the
        access log noted of the request (or ``None``). Raises
        :class:`psycopg2.IntegrityError` when a twin stored it first."""
        api_id, app_id, user_id = owner
        headers = {
            name: answer.headers[name]
            for name in REPLAYED_HEADERS
            if name in answer.headers
        }
        self.env.cr.execute(
            f"""INSERT INTO secure_api_idempotency
                    (scope, key_hash, api_id, app_id, user_id, fingerprint,
                     state, status, headers, body, audit, expires_at)
                VALUES (%s, %s, %s, %s, %s, %s, 'done', %s, %s, %s, %s,
                        {NOW} + %s * interval '1 second')
            """,
            [
                scope,
                key_hash,
                api_id,
                app_id,
                user_id,
                fingerprint,
                answer.status,
                json.dumps(headers),
                None if answer.body is None else json.dumps(answer.body),
                None if audit is None else json.dumps(audit),
                sync.IDEMPOTENCY_TTL_SECONDS,
            ],
        )
        # A bounded number of answers per client and API: beyond it the
        # oldest are forgotten, so a client that sends a new key with every
        # request can only shorten its own replay window.
        self.env.cr.execute(
            """DELETE FROM secure_api_idempotency
                WHERE id IN (SELECT id FROM secure_api_idempotency
                              WHERE scope = %s AND state = 'done'
                              ORDER BY id DESC OFFSET %s)""",
            [scope, self._max_keys()],
        )

    @api.model
    def _max_keys(self):
        return sync.max_keys(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("secure_api.idempotency_max_keys")
        )

    @api.model
    def _cron_cleanup(self):
        """Forget answers older than their 24 hours."""
        self.env.cr.execute(
            "DELETE FROM secure_api_idempotency"
            " WHERE expires_at < (now() AT TIME ZONE 'UTC')"
        )
        return self.env.cr.rowcount

    @api.model
    def _expiry(self, seconds):
        return fields.Datetime.now() + timedelta(seconds=seconds)
