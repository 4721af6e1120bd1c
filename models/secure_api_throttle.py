from odoo import api, fields, models

from .. import compat

WINDOW_SECONDS = 300
NOW = "(now() AT TIME ZONE 'UTC')"
RETRY_AFTER_SQL = f"""
SELECT MAX(EXTRACT(EPOCH FROM t.window_start + %s * interval '1 second' - {NOW}))
  FROM secure_api_throttle t
  JOIN unnest(%s::varchar[], %s::int[]) AS l(key, threshold) ON l.key = t.key
 WHERE t.failures >= l.threshold
   AND t.window_start > {NOW} - %s * interval '1 second'
"""
ADD_FAILURE_SQL = f"""
INSERT INTO secure_api_throttle AS t (key, failures, window_start)
VALUES (%s, 1, {NOW})
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.window_start > {NOW} - %s * interval '1 second'
                    THEN t.failures + 1 ELSE 1 END,
    window_start = CASE WHEN t.window_start > {NOW} - %s * interval '1 second'
                        THEN t.window_start ELSE {NOW} END
"""


@compat.sql_constraints(("key_uniq", "unique (key)", "One counter per key."))
class SecureApiThrottle(models.Model):
    """Failed token requests per client id and per address, shared by workers.

    Rows live in PostgreSQL so every worker on every server sees the same
    counts; they are written in the failing request's own transaction, which
    commits because the request ends with a normal (error) response.
    """

    _name = "secure.api.throttle"
    _description = "Secure API authentication failures"
    _log_access = False

    key = fields.Char(required=True, index=True)
    failures = fields.Integer()
    window_start = fields.Datetime()

    @api.model
    def _retry_after(self, limits):
        """Seconds to wait if any key of ``limits`` (``{key: threshold}``)
        reached its threshold of failures, else 0."""
        self.env.cr.execute(
            RETRY_AFTER_SQL,
            [WINDOW_SECONDS, list(limits), list(limits.values()), WINDOW_SECONDS],
        )
        wait = self.env.cr.fetchone()[0]
        return int(wait) + 1 if wait else 0

    @api.model
    def _add_failure(self, keys):
        for key in keys:
            self.env.cr.execute(ADD_FAILURE_SQL, [key, WINDOW_SECONDS, WINDOW_SECONDS])

    @api.model
    def _cron_cleanup(self):
        self.env.cr.execute(
            "DELETE FROM secure_api_throttle"
            " WHERE window_start < (now() AT TIME ZONE 'UTC') - interval '1 day'"
        )
