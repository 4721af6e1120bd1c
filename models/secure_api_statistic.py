import threading
from datetime import datetime

from odoo import api, fields, models, tools

from .. import compat, flushing
from ..core.stats import StatsBuffer

# One buffer per database in each worker process; see core/stats.py.
_BUFFERS = {}
_BUFFERS_LOCK = threading.Lock()


def buffer_for(dbname):
    with _BUFFERS_LOCK:
        buffer = _BUFFERS.get(dbname)
        if buffer is None:
            buffer = _BUFFERS[dbname] = StatsBuffer()
        return buffer


# Additive upsert: concurrent flushes from any number of workers commute.
# Counters of an API, endpoint or client app deleted since the calls are
# dropped, as the rows they would have joined were (ondelete cascade): the
# foreign keys would refuse them, and the flush fail again and again.
UPSERT_SQL = """
INSERT INTO secure_api_statistic AS s
    (api_id, endpoint_id, app_id, bucket, calls, errors,
     duration_total_ms, duration_avg_ms, error_rate,
     operation, create_uid, write_uid, create_date, write_date)
SELECT %(api)s, %(endpoint)s, %(app)s, %(bucket)s, %(calls)s, %(errors)s,
       %(total)s, %(avg)s, %(rate)s,
       (SELECT operation FROM secure_api_endpoint WHERE id = %(endpoint)s),
       1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
 WHERE EXISTS (SELECT 1 FROM secure_api WHERE id = %(api)s)
   AND (%(endpoint)s::int IS NULL
        OR EXISTS (SELECT 1 FROM secure_api_endpoint WHERE id = %(endpoint)s))
   AND (%(app)s::int IS NULL
        OR EXISTS (SELECT 1 FROM secure_api_client WHERE id = %(app)s))
ON CONFLICT (api_id, COALESCE(endpoint_id, 0), COALESCE(app_id, 0), bucket)
DO UPDATE SET
    calls = s.calls + EXCLUDED.calls,
    errors = s.errors + EXCLUDED.errors,
    duration_total_ms = s.duration_total_ms + EXCLUDED.duration_total_ms,
    duration_avg_ms = (s.duration_total_ms + EXCLUDED.duration_total_ms)
                      / GREATEST(s.calls + EXCLUDED.calls, 1),
    error_rate = 100.0 * (s.errors + EXCLUDED.errors)
                 / GREATEST(s.calls + EXCLUDED.calls, 1),
    write_date = EXCLUDED.write_date
"""


class SecureApiStatistic(models.Model):
    _name = "secure.api.statistic"
    _description = "API Usage Statistic"
    _order = "bucket desc, api_id"
    _rec_name = "bucket"

    api_id = fields.Many2one(
        "secure.api",
        string="API",
        required=True,
        ondelete="cascade",
        index=True,
        help="The API that was called.",
    )
    endpoint_id = fields.Many2one(
        "secure.api.endpoint",
        ondelete="cascade",
        index=True,
        help="The endpoint that was called; empty when the operation called "
        "has none (not enabled on the API).",
    )
    app_id = fields.Many2one(
        "secure.api.client",
        string="Client App",
        ondelete="cascade",
        index=True,
        help="The client app whose token made the calls; empty for public "
        "calls and Odoo sessions.",
    )
    operation = fields.Selection(
        related="endpoint_id.operation",
        store=True,
        help="The operation of the endpoint that was called.",
    )
    bucket = fields.Datetime(
        string="Hour",
        required=True,
        index=True,
        help="The hour the calls were served in (its first minute).",
    )
    calls = fields.Integer(
        help="Calls served in this hour by this endpoint for this app.",
        **compat.aggregate("sum"),
    )
    errors = fields.Integer(
        help="Those of the calls answered with an error status (4xx, 5xx).",
        **compat.aggregate("sum"),
    )
    duration_total_ms = fields.Float(
        string="Total Duration (ms)",
        help="Time spent answering these calls, added up, in milliseconds.",
        **compat.aggregate("sum"),
    )
    duration_avg_ms = fields.Float(
        string="Average Duration (ms)",
        compute="_compute_duration_avg_ms",
        store=True,
        help="Average time to answer one of these calls, in milliseconds.",
        # An average of averages is wrong: group totals divide the sums.
        **compat.aggregate(None),
    )
    error_rate = fields.Float(
        string="Error Rate (%)",
        compute="_compute_duration_avg_ms",
        store=True,
        help="Share of these calls answered with an error.",
        **compat.aggregate(None),
    )

    @api.depends("calls", "errors", "duration_total_ms")
    def _compute_duration_avg_ms(self):
        for stat in self:
            stat.duration_avg_ms = (
                stat.duration_total_ms / stat.calls if stat.calls else 0.0
            )
            stat.error_rate = 100.0 * stat.errors / stat.calls if stat.calls else 0.0

    def init(self):
        # NULL endpoint/app ids must still conflict, so the upsert key uses
        # COALESCE in an expression index.
        compat.create_unique_index(
            self.env.cr,
            "secure_api_statistic_bucket_key",
            self._table,
            ["api_id", "COALESCE(endpoint_id, 0)", "COALESCE(app_id, 0)", "bucket"],
        )

    @api.model
    def _record_call(self, api_id, endpoint_id, app_id, duration_ms, error):
        """Count a call in this worker's memory; never touches the database."""
        dbname = self.env.cr.dbname
        buffer_for(dbname).add(api_id, endpoint_id, app_id, duration_ms, error)
        if not tools.config.get("test_enable"):
            # Test runs flush explicitly, inside their own transaction.
            buffer = buffer_for(dbname)
            flushing.ensure_flusher(
                dbname,
                self._name,
                tools.config.get("secure_api_stats_interval") or 5,
                buffer.__len__,
            )

    @api.model
    def _flush_buffer(self):
        """Upsert this worker's counters additively; returns the calls written
        (those of a deleted API, endpoint or client app are dropped).

        ``calls = calls + EXCLUDED.calls`` makes concurrent flushes from any
        number of workers and servers commute, so none conflicts or loses
        counts. On failure the counters go back into the buffer.
        """
        buffer = buffer_for(self.env.cr.dbname)
        counters = buffer.drain()
        if not counters:
            return 0
        rows = []
        # Sorted, so that concurrent flushes lock rows in the same order.
        for key in sorted(counters):
            api_id, endpoint_id, app_id, bucket = key
            calls, errors, duration = counters[key]
            rows.append(
                {
                    "api": api_id,
                    "endpoint": endpoint_id or None,
                    "app": app_id or None,
                    "bucket": datetime.utcfromtimestamp(bucket),
                    "calls": calls,
                    "errors": errors,
                    "total": duration,
                    "avg": duration / calls if calls else 0.0,
                    "rate": 100.0 * errors / calls if calls else 0.0,
                }
            )
        written = 0
        try:
            with self.env.cr.savepoint():
                for row in rows:
                    self.env.cr.execute(UPSERT_SQL, row)
                    written += row["calls"] if self.env.cr.rowcount else 0
        except Exception:
            buffer.restore(counters)
            raise
        self.invalidate_model()
        return written

    @api.model
    def _cron_flush(self):
        self._flush_buffer()
