from datetime import timedelta

from odoo import api, fields, models

from .. import compat


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
    expires_at = fields.Datetime(required=True, readonly=True, index=True)

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
